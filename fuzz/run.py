"""The long fuzz run, outside CI: `python -m fuzz.run [--examples N] [TARGET...]`.

Runs each target of fuzz/targets.py under hypothesis for N examples (no example database,
so every run explores afresh) under a 1 GB address-space cap (so a length that makes the
reader allocate gigabytes is a MemoryError, a crash) and prints a Markdown row per target:
executions, seconds, crashes. A crash prints hypothesis's minimal failing input; make it a
regression test.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, settings  # noqa: E402

from fuzz.targets import TARGETS, Target, check, inputs  # noqa: E402


def fuzz(target: Target, examples: int) -> tuple[int, float, str | None]:
    count = 0

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(inputs(target))
    def one(data: bytes) -> None:
        nonlocal count
        count += 1
        check(target, data)

    start = time.perf_counter()
    try:
        one()
    except Exception:  # noqa: BLE001 - the crash is the result
        return count, time.perf_counter() - start, traceback.format_exc()
    return count, time.perf_counter() - start, None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--memory", type=int, default=1024, help="address-space cap in MB: a blow-up is a crash")
    parser.add_argument("target", nargs="*", default=sorted(TARGETS))
    args = parser.parse_args()
    import resource

    cap = args.memory << 20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    crashed = 0
    sys.stdout.write("| target | executions | seconds | crashes |\n|---|---:|---:|---:|\n")
    for name in args.target:
        count, seconds, crash = fuzz(TARGETS[name], args.examples)
        sys.stdout.write(f"| {name} | {count} | {seconds:.0f} | {int(crash is not None)} |\n")
        sys.stdout.flush()
        if crash:
            crashed += 1
            sys.stderr.write(crash)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
