"""Columns: a value for every organisation at once, exact, and the kernels that compute on them.

    column.Column     one value per organisation in NumPy arrays: ``num / den`` in int64 (Python integers past
                      it), with bounds, a missing mask and a mask of cells deferred to the exact engine
    layout.Layout     where each organisation of a dataset sits in a column, and who belongs to which system;
                      the data's values as columns (made once per dataset)
    kernels.KERNELS   each operation of the language on columns, by the name its semantics row gives

This package owns the representation and the arithmetic; it knows nothing of plans, syntax or
runs. :mod:`planlang.run.vector` evaluates a plan with it.
"""

from .column import LIMIT, Column
from .kernels import KERNELS
from .layout import Layout, data_columns, layout_of, with_factors

__all__ = ["Column", "LIMIT", "KERNELS", "Layout", "layout_of", "data_columns", "with_factors"]
