"""TEMPORARY minimal data loader (JSON only) until the full loader lands."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import attrs

from . import syntax as s
from .periods import Period, parse_period
from .values import parse_amount


@attrs.frozen
class Organisation:
    code: str
    name: str
    kind: str
    system: str | None


@attrs.frozen(eq=False)
class Dataset:
    source: str
    organisations: dict
    values: dict
    origins: dict
    _members: dict = attrs.field(factory=dict)
    _periods: dict = attrs.field(factory=dict)

    def members(self, system):
        return self._members.get(system, ())

    def periods(self, kind):
        return self._periods.get(kind, ())

    def of_kinds(self, kinds):
        return [o for o in self.organisations.values() if o.kind in kinds]


def make_dataset(organisations, values, origins, source):
    orgs = {o.code: o for o in organisations}
    members = {}
    for o in orgs.values():
        if o.system:
            members.setdefault(o.system, []).append(o.code)
    periods = {}
    for (_, _, p) in values:
        periods.setdefault(p.kind, set()).add(p)
    return Dataset(source, orgs, dict(values), dict(origins), {k: tuple(v) for k, v in members.items()},
                   {k: tuple(sorted(v, key=Period.sort_key)) for k, v in periods.items()})


def load_data(path, program):
    data = json.loads(Path(path).read_text(), parse_float=Decimal)
    orgs = [Organisation(o["code"], o.get("name", o["code"]), o["kind"], o.get("system")) for o in data["organisations"]]
    values = {}
    inputs = program.of_kind(s.InputDecl)
    for name, by_org in data["inputs"].items():
        for code, by_period in by_org.items():
            for period, raw in by_period.items():
                if raw is None:
                    continue
                t = inputs[name].type
                if t == "bool":
                    v = raw
                elif isinstance(raw, str):
                    v = parse_amount(raw)
                else:
                    v = Fraction(raw)
                values[(name, code, parse_period(period))] = v
    return make_dataset(orgs, values, {k: f"{path}: inputs.{k[0]}.{k[1]}.{k[2]}" for k in values}, str(path))
