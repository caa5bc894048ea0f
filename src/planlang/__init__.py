"""planlang: rules-as-code for NHS operational-planning finance.

The door (docs/python.md walks through it)::

    pack = planlang.load("policies/2021_22")          # compile a policy pack (PolicyError if it does not)
    what_if = pack.scenario("erf_thresholds = erf_thresholds - 5%")
    results = pack.run("examples/erf_worked_example.json", scenario=what_if)
    results.value("erf_additional_funding", "EXAMPLE2", "2021-05")   # exact, with its unit
    results.frame()                                   # a pandas DataFrame in long form
    trace = results.explain("erf_additional_funding", "EXAMPLE2", "2021-05")
    pack.compare(data, what_if); pack.solve(data, vary, until); pack.sweep(data, vary, outputs)
    planlang.diff(old_pack, new_pack)

``planlang.check`` compiles without raising and returns (pack or None, diagnostics).
"""

import importlib
from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("planlang")
except _metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["load", "check", "diff", "Pack", "Scenario", "Results", "Value", "Comparison", "Solution", "Sweep", "Diff",
           "TraceNode", "Period", "Diagnostic", "PolicyError", "ScenarioError", "InputError", "__version__"]

# Imported on first use (PEP 562), so that `planlang` on the command line can set its Ctrl-C handler
# before Lark, networkx and openpyxl load: an interrupt during those imports printed a traceback.
_WHERE = {**{name: ("api", name) for name in ("load", "diff", "Pack", "Scenario", "Results", "Value", "Comparison",
                                               "Solution", "Sweep", "Diff")},
          "TraceNode": ("explanation", "TraceNode"), "Period": ("periods", "Period"),
          "Diagnostic": ("diagnostics", "Diagnostic"), "PolicyError": ("diagnostics", "PolicyError"),
          "InputError": ("diagnostics", "InputError"), "ScenarioError": ("scenario", "ScenarioError")}


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'planlang' has no attribute {name!r}")
    module, attribute = _WHERE[name]
    return getattr(importlib.import_module(f".{module}", __name__), attribute)


def check(directory):
    """Compile a pack and return (its :class:`Pack`, or None when it has errors; every diagnostic), without raising."""
    from .api import Pack
    from .compiler import compile_sources, read_pack
    from .plan import compile_plan

    program, diagnostics = compile_sources(read_pack(directory), str(directory))
    return (None if program is None else Pack(program, compile_plan(program), str(directory))), diagnostics
