"""A small many-calls capture for the tests: benchmarks/many_calls.py's server capture (every call
with its Allocate, SIP and SDP, checks and RTP in ChannelData, some calls failing), with few calls
at once so that most calls start and end inside a third of a megabyte."""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

from benchmarks.make_capture import udp
from benchmarks.many_calls import write_calls_capture

SIZE = 300_000  # bytes: about 30 calls
CONCURRENT = 12


@cache
def many_calls_capture(folder: Path, size: int = SIZE, concurrent: int = CONCURRENT) -> Path:
    """`size` bytes of calls, `concurrent` at once (fewer at once: a longer capture)."""
    path = folder / f"many-calls-{size}-{concurrent}.pcap"
    write_calls_capture(str(path), size, random.Random(7), udp, concurrent)
    return path
