"""Organisation data: a file in, a checked :class:`Dataset` out, every value exact and traceable.

This package owns reading and writing organisation data; it knows the policy only through its
declared inputs and deadlines, and evaluates nothing.

    dataset    Organisation, Dataset, make_dataset: the data model, its organisations checked
    convert    a raw value (a JSON number, a cell, a text) as an exact value of its input's type
    checks     Checker: each value checked against the policy's inputs and kept with its place
    json       the JSON reader
    excel      the Excel reader, and write_workbook, which writes a workbook it reads back
    columnar   long-form .csv and .parquet files, organisations in a file beside them
    load       load_data: the reader picked by the file's suffix

JSON (numbers are read as exact decimals, never as binary floats)::

    {"organisations": [{"code": "SYS1", "name": "North", "kind": "system", "system": null},
                       {"code": "T1", "name": "North Trust", "kind": "trust", "system": "SYS1"}],
     "inputs": {"erf_actual": {"SYS1": {"2021-05": "£26,000,000", "2021-06": 26500000.50}}}}

Excel (.xlsx): a sheet ``organisations`` with the columns code, name, kind, system, and a sheet for
each granularity of input that has data -- ``monthly``, ``quarterly``, ``half-yearly``, ``annual`` --
with the columns code, period, then one column per input. Headings are matched ignoring case and
surrounding spaces; blank rows are skipped. A period is text (``2021-04``, ``2021/22 Q1``,
``2021/22``) or, on the monthly sheet, a date cell meaning its month. Percent cells hold fractions
of one (0.7, shown as 70%).

Every value remembers where it came from (a JSON path such as ``erf.json: inputs.erf_actual.SYS1.2021-05``,
or a cell such as ``book.xlsx: monthly!D3``), and every problem is an
:class:`~planlang.diagnostics.InputError` naming that place. ``null``, an empty string or an empty
cell is no value: the key is left out and the evaluator reports what that makes missing. Missing is
never read as zero.
"""

from .checks import SHEETS
from .convert import PercentCell, convert_value
from .dataset import KINDS, MAX_ERRORS, Dataset, Organisation, make_dataset
from .excel import write_workbook
from .json import MAX_NESTING, nesting_place
from .load import DATA_SUFFIXES, load_data

__all__ = ["Organisation", "Dataset", "PercentCell", "make_dataset", "load_data", "convert_value", "write_workbook", "KINDS",
           "SHEETS", "MAX_ERRORS", "MAX_NESTING", "nesting_place", "DATA_SUFFIXES"]
