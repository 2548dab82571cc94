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


def capture_names(obj: object) -> set[str]:
    """Every capture a session object names (its stream's, its candidates', pairs' and flows')."""
    if isinstance(obj, list):
        return {name for item in obj for name in capture_names(item)}
    if not isinstance(obj, dict):
        return set()
    own = {obj["capture"]} if isinstance(obj.get("capture"), str) else set()
    return own | {name for key, value in obj.items() if key != "capture" for name in capture_names(value)}


def without_captures(obj: object) -> object:
    """The object without its 'capture' fields: the same session read from a pipe, a file or a ring
    buffer's files names different captures, and says the same of them."""
    if isinstance(obj, list):
        return [without_captures(item) for item in obj]
    if not isinstance(obj, dict):
        return obj
    return {key: without_captures(value) for key, value in obj.items() if key != "capture"}
