"""A small many-calls capture for the tests: benchmarks/many_calls.py's Edge pool capture (every call
with its Allocate, SIP and SDP, check and RTP through the relay, some calls failing), with few calls
at once so that most calls start and end inside a third of a megabyte."""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

from benchmarks import many_calls

SIZE = 300_000  # bytes: about 30 calls
CONCURRENT = 12


@cache
def many_calls_capture(folder: Path, size: int = SIZE, concurrent: int = CONCURRENT) -> Path:
    """`size` bytes of calls, `concurrent` at once (fewer at once: a longer capture)."""
    path = folder / f"many-calls-{size}-{concurrent}.pcap"
    with open(path, "wb") as fh:
        many_calls.write(fh, size, random.Random(7), concurrent=concurrent)
    return path
