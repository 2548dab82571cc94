"""The long fuzz run, outside CI: `python -m fuzz.run [--engine E] [--examples N] [TARGET...]`.

Runs each target of fuzz/targets.py for N examples under a 1 GB address-space cap (so a
length that makes the reader allocate gigabytes is a MemoryError, a crash) and prints a
Markdown row per target: executions, seconds, crashes.

Two engines draw from the same mutator. `hypothesis` (no example database, so every run
explores afresh) shrinks a crash to a minimal input and stops at the first. `random` draws
from a seeded generator without hypothesis's per-example cost (several times faster, which
is what makes 10^6 executions per target practical), keeps going after a crash, and writes
each crashing input under `--crashes` (named by target and digest) to become a regression test.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, settings  # noqa: E402

from fuzz.targets import TARGETS, Target, check, inputs, random_input  # noqa: E402


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


def fuzz_random(
    target: Target, examples: int, seed: int, crashes: Path, every: int = 0
) -> tuple[int, float, str | None]:
    """`examples` inputs; each crashing one written under `crashes`. With `every`, a line on stderr
    each `every` executions (a run of hours says how far it is)."""
    rng = random.Random(f"{seed}:{target.name}")
    first: str | None = None
    found = 0
    start = time.perf_counter()
    for done in range(examples):
        if every and done and not done % every:
            seconds = time.perf_counter() - start
            sys.stderr.write(f"{target.name}: {done} executions, {seconds:.0f} s, {found} crashing\n")
            sys.stderr.flush()
        data = random_input(target, rng)
        try:
            check(target, data)
        except Exception:  # noqa: BLE001 - the crash is the result
            found += 1
            crashes.mkdir(parents=True, exist_ok=True)
            (crashes / f"{target.name}-{hashlib.sha256(data).hexdigest()[:16]}.bin").write_bytes(data)
            first = first or traceback.format_exc()
    seconds = time.perf_counter() - start
    return examples, seconds, None if first is None else f"{found} crashing inputs; the first:\n{first}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--memory", type=int, default=1024, help="address-space cap in MB: a blow-up is a crash")
    parser.add_argument("--engine", choices=("hypothesis", "random"), default="hypothesis")
    parser.add_argument("--seed", type=int, default=0, help="the random engine's seed")
    parser.add_argument("--crashes", type=Path, default=Path("fuzz-crashes"), help="where crashing inputs go")
    parser.add_argument("--progress", type=int, default=0, metavar="N", help="a line on stderr every N executions")
    parser.add_argument("target", nargs="*", default=sorted(TARGETS))
    args = parser.parse_args()
    import resource

    cap = args.memory << 20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    crashed = 0
    sys.stdout.write("| target | executions | seconds | crashing inputs |\n|---|---:|---:|---:|\n")
    for name in args.target:
        if args.engine == "random":
            count, seconds, crash = fuzz_random(TARGETS[name], args.examples, args.seed, args.crashes, args.progress)
        else:
            count, seconds, crash = fuzz(TARGETS[name], args.examples)
        found = 0 if crash is None else int(crash.split()[0]) if args.engine == "random" else 1
        sys.stdout.write(f"| {name} | {count} | {seconds:.0f} | {found} |\n")
        sys.stdout.flush()
        if crash:
            crashed += 1
            sys.stderr.write(crash)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
