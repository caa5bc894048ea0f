"""``python -m planlang.cli``: the command line, as the ``planlang`` script runs it."""

import sys

from . import main

if __name__ == "__main__":  # not when a walk over the package's modules imports it
    sys.exit(main())
