"""Process exit codes of the icetrace command line."""

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    REGRESSION = 1  # corpus mode: an analysis no longer matches its golden file
    BAD_INPUT = 2  # unreadable input: not a capture, missing file, bad arguments
    INTERNAL = 3  # a bug in icetrace itself
