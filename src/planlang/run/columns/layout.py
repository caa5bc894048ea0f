"""Where each organisation of a dataset sits in a column, and the data's values as columns: made once per dataset.

Both are kept weakly by the dataset and shared by every run over it (a sweep's steps, a scenario
and its baseline). :func:`with_factors` is a dataset with some input values scaled (a sweep's
uncertainty factors).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from fractions import Fraction

import attrs
import numpy as np

from ...data import Dataset
from ...periods import Period
from .column import ABSENT, Column, from_values

__all__ = ["Layout", "layout_of", "data_columns", "with_factors"]


class Layout:
    """Where each organisation of a dataset sits in a column, and who belongs to whom."""

    def __init__(self, dataset: Dataset):
        self.organisations = dataset.organisations
        self.codes = list(dataset.organisations)
        self.index = {code: i for i, code in enumerate(self.codes)}
        self.size = len(self.codes)
        self.kind_of = np.array([org.kind for org in self.organisations.values()], dtype=object)
        systems = [org.system for org in self.organisations.values()]
        self.parent = np.array([self.index.get(x, 0) if x is not None else 0 for x in systems], dtype=np.intp)
        self.orphan = np.array([x is None for x in systems], dtype=bool)  # systems themselves: no system of their own
        self._grouped: dict[tuple[str, ...], tuple] = {}
        # (kept codes, their places) for a tuple of codes: every run over the dataset (a sweep's steps) shares them
        self.positions: dict[tuple, tuple] = {}

    def groups(self, kinds: tuple[str, ...]):
        """(order, starts, systems, largest): the members of these kinds sorted by system, where each system's
        run starts, and which organisation each run belongs to; and the largest number of members of one."""
        found = self._grouped.get(kinds)
        if found is None:
            organisations = self.organisations
            pairs = sorted((self.index[org.system], i) for i, org in enumerate(organisations.values())
                           if org.system is not None and org.kind in kinds and org.system in self.index)
            order = np.array([i for _, i in pairs], dtype=np.intp)
            owners = np.array([system for system, _ in pairs], dtype=np.intp)
            starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if len(pairs) else np.array([], dtype=np.intp)
            systems = owners[starts] if len(pairs) else owners
            largest = int(np.diff(np.r_[starts, len(pairs)]).max(initial=0)) if len(pairs) else 0
            found = self._grouped[kinds] = (order, starts, systems, largest)
        return found


_LAYOUTS: "weakref.WeakKeyDictionary[Dataset, Layout]" = weakref.WeakKeyDictionary()
_DATA_COLUMNS: "weakref.WeakKeyDictionary[Dataset, dict]" = weakref.WeakKeyDictionary()


def layout_of(dataset: Dataset) -> Layout:
    found = _LAYOUTS.get(dataset)
    if found is None:
        found = _LAYOUTS[dataset] = Layout(dataset)
    return found


def data_columns(dataset: Dataset) -> dict[tuple[str, Period | None], Column]:
    """The data's values as columns by (input, period), missing where the data give none."""
    found = _DATA_COLUMNS.get(dataset)
    if found is None:
        by_input: dict[tuple, dict] = {}
        for (name, code, period), value in dataset.values.items():
            by_input.setdefault((name, period), {})[code] = value
        codes = layout_of(dataset).codes
        found = _DATA_COLUMNS[dataset] = {key: from_values([table.get(code, ABSENT) for code in codes])
                                          for key, table in by_input.items()}
    return found


def with_factors(dataset: Dataset, factors: Mapping) -> Dataset:
    """The dataset with each factored input value multiplied by its factor; origins and organisations kept.

    ``factors`` maps an input to ``{(entity, period): factor}``; a cell the data has no value for is
    left as it is (missing stays missing, a declared default stays the default).
    """
    values = dict(dataset.values)
    for name, cells in factors.items():
        for (entity, period), factor in cells.items():
            key = (name, entity, period)
            value = values.get(key)
            if type(value) is Fraction:
                values[key] = value * factor
    return attrs.evolve(dataset, values=values)
