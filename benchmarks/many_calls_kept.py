"""What a streamed analysis keeps per finished session, in bytes.

Usage: python benchmarks/many_calls_kept.py [--size-mb 25]

Analyses benchmarks/data/many-calls-SIZE.pcap as `analyze --stream yes` does (written by
many_calls_bench.py when missing) and measures, by walking the objects with sys.getsizeof, what the
analysis holds once every session was told: each session's summary line, its JSON compressed and
its verdicts, the preset dictionaries they share. An object shared by several sessions (a TURN
server's name, a subnet, a cause code) is counted once, as the memory holds it once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import many_calls_bench  # noqa: E402

from icetrace.live.streamed import analyze_streamed  # noqa: E402


def deep_size(roots: Iterable[Any], seen: set[int]) -> int:
    """Bytes of the objects reachable from `roots` not in `seen` (which gains them)."""
    total, todo = 0, list(roots)
    while todo:
        obj = todo.pop()
        if id(obj) in seen or obj is None or isinstance(obj, (bool, type)):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            todo += [*obj.keys(), *obj.values()]
        elif isinstance(obj, (list, tuple, set, frozenset)):
            todo += list(obj)
        elif hasattr(obj, "__slots__"):
            todo += [getattr(obj, name) for name in obj.__slots__ if hasattr(obj, name)]
        elif hasattr(obj, "__dict__"):
            todo.append(vars(obj))
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=25)
    args = parser.parse_args()
    path, _ = many_calls_bench.capture(args.size_mb)
    analysis = analyze_streamed(path)
    sessions = len(analysis.lines)
    seen: set[int] = set()
    parts = {
        "summary lines": deep_size(analysis.lines, seen),
        "JSON, compressed": deep_size(analysis.json_streams, seen),
        "preset dictionaries": deep_size(analysis.json_dictionaries, seen),
        "verdicts": deep_size(analysis.verdicts, seen),
    }
    print(f"{path.name}: {sessions} sessions kept")
    for name, size in parts.items():
        print(f"  {name:>20}: {size / sessions:7.0f} bytes a session ({size / 2**20:.1f} MB)")
    print(f"  {'all':>20}: {sum(parts.values()) / sessions:7.0f} bytes a session")


if __name__ == "__main__":
    main()
