"""`python -m icetrace` runs the command-line interface."""

import sys

from icetrace.cli import main

sys.exit(main())
