"""Every exit status of the command line, in one place: README's table lists exactly these.

Exit codes are a contract: 0 success; 1 the policy has errors, its tests fail, a receipt changed or no
value solves; 2 bad data, a file that cannot be written or a scenario that does not check; 3 missing
inputs under ``--strict``; 64 a usage error; 70 an internal error; 74 standard output could not be
written. A signal ends the process with 128 plus its number, as a shell reports a process it ended.
No input produces a Python traceback.
"""

from __future__ import annotations

import signal

__all__ = ["EXIT_OK", "EXIT_POLICY", "EXIT_DATA", "EXIT_MISSING", "EXIT_USAGE", "EXIT_INTERNAL", "EXIT_OUTPUT",
           "EXIT_ON_SIGNAL", "EPILOG", "UsageExit"]

EXIT_OK, EXIT_POLICY, EXIT_DATA, EXIT_MISSING, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3, 64, 70
EXIT_OUTPUT = 74  # EX_IOERR: standard output could not be written; a file that cannot be written is 2

# Ctrl-C exits 130 and SIGTERM 143
EXIT_ON_SIGNAL = {signal.SIGINT: 128 + signal.SIGINT, signal.SIGTERM: 128 + signal.SIGTERM}

# the end of `planlang --help`
EPILOG = (f"exit status: {EXIT_OK} success, {EXIT_POLICY} policy errors or failing tests or a changed receipt or no value "
          f"solves, {EXIT_DATA} bad data or a scenario that does not check, {EXIT_MISSING} missing inputs under --strict, "
          f"{EXIT_USAGE} usage error, {EXIT_INTERNAL} internal error, {EXIT_OUTPUT} standard output could not be written")


class UsageExit(Exception):
    """argparse found the command line wrong; it has printed the usage and the message (exit 64)."""
