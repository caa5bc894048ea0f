"""planlang: rules-as-code for NHS operational-planning finance.

The verbs::

    program = planlang.load("policies/2021_22")          # compile a policy pack (PolicyError if it does not)
    data = planlang.load_data("examples/erf_worked_example.json", program)
    results = planlang.evaluate(program, data)           # every value, flag and missing value, exactly
    trace = planlang.explain(results, "erf_additional_funding", "EXAMPLE2", planlang.parse_period("2021-05"))

``planlang.check`` compiles without raising and returns (program or None, diagnostics).
"""

import importlib
from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("planlang")
except _metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["load", "check", "load_data", "evaluate", "explain", "parse_period", "Program", "Dataset", "Results",
           "TraceNode", "Diagnostic", "PolicyError", "InputError", "Period", "__version__"]

# Imported on first use (PEP 562), so that `planlang` on the command line can set its Ctrl-C handler
# before Lark, networkx and openpyxl load: an interrupt during those imports printed a traceback.
_WHERE = {"load": ("compiler", "compile_pack"), "Program": ("compiler", "Program"), "load_data": ("data", "load_data"),
          "Dataset": ("data", "Dataset"), "Diagnostic": ("diagnostics", "Diagnostic"),
          "InputError": ("diagnostics", "InputError"), "PolicyError": ("diagnostics", "PolicyError"),
          "Results": ("evaluator", "Results"), "evaluate": ("evaluator", "evaluate"), "TraceNode": ("explanation", "TraceNode"),
          "explain": ("explanation", "explain"), "Period": ("periods", "Period"), "parse_period": ("periods", "parse_period")}


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'planlang' has no attribute {name!r}")
    module, attribute = _WHERE[name]
    return getattr(importlib.import_module(f".{module}", __name__), attribute)


def check(directory):
    """Compile a pack and return (program or None, every diagnostic), without raising for policy errors."""
    from .compiler import compile_sources, read_pack

    return compile_sources(read_pack(directory), str(directory))
