"""`python -m icetrace.ice.diagnosis` prints the docs' verdict table."""

from icetrace.ice.diagnosis import verdict_table

print(verdict_table())  # noqa: T201
