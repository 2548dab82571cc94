"""`python -m icetrace.ice.diagnosis [verdicts|causes]` prints the docs' verdict table
(docs/correlator.md) or cause table (docs/causes.md)."""

import sys

from icetrace.ice.diagnosis import cause_table, verdict_table

print(cause_table() if sys.argv[1:] == ["causes"] else verdict_table())  # noqa: T201
