"""planlang: rules-as-code for NHS operational-planning finance.

The verbs::

    program = planlang.load("policies/2021_22")          # compile a policy pack (PolicyError if it does not)
    data = planlang.load_data("examples/erf_worked_example.json", program)
    results = planlang.evaluate(program, data)           # every value, flag and missing value, exactly
    trace = planlang.explain(results, "erf_additional_funding", "EXAMPLE2", planlang.parse_period("2021-05"))

``planlang.check`` compiles without raising and returns (program or None, diagnostics).
"""

from importlib import metadata as _metadata

from .compiler import Program, compile_pack as load, compile_sources, read_pack
from .data import Dataset, load_data
from .diagnostics import Diagnostic, InputError, PolicyError
from .evaluator import Results, evaluate
from .explain import TraceNode, explain
from .periods import Period, parse_period

try:
    __version__ = _metadata.version("planlang")
except _metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["load", "check", "load_data", "evaluate", "explain", "parse_period", "Program", "Dataset", "Results",
           "TraceNode", "Diagnostic", "PolicyError", "InputError", "Period", "__version__"]


def check(directory):
    """Compile a pack and return (program or None, every diagnostic), without raising for policy errors."""
    return compile_sources(read_pack(directory), str(directory))
