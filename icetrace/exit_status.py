"""Process exit codes of the icetrace command line.

Every command uses these; `check` reports the worst of its captures (3 over 2 over 1).
"""

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    REGRESSION = 1  # `check`: an analysis no longer matches its golden file
    BAD_INPUT = 2  # unreadable input: not a capture, missing file, bad arguments
    INTERNAL = 3  # an unexpected exception: a bug in icetrace, never a finding about the input
