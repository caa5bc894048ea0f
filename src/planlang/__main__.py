"""``python -m planlang``: the command line, as the ``planlang`` script runs it."""

import sys

from .cli import main

sys.exit(main())
