"""How often CPython's cyclic garbage collector runs while icetrace builds and writes an analysis.

An analysis holds hundreds of thousands of objects until it is written (records, transactions,
checks, candidates, pairs, then the report's tables and JSON) and makes few reference cycles; most
objects die by their reference count. CPython collects its youngest generation every 700
allocations and the older ones in proportion, each collection walking every object of the
generations it collects, so while an analysis grows the collector walks the same long-lived
objects again and again. Collecting the youngest generation every 50,000 allocations instead keeps
the collector's work proportional to what is allocated, and still frees the cycles that do form.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNGEST_EVERY = 50_000
"""Allocations (less deallocations) between collections of the youngest generation; CPython's is 700."""


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The youngest generation collected every YOUNGEST_EVERY allocations inside the block (the
    older generations keep their ratios to it); the thresholds before it are restored after."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], YOUNGEST_EVERY), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
