"""Find the steps of `icetrace analyze` whose cost grows faster than the number of calls.

Usage: python benchmarks/calls_scaling.py [--size-mb 10] [--steps 3] [--top 25] [--json-out]

Writes many-calls captures (make_capture.py --kind calls) of SIZE, 2xSIZE, 4xSIZE ... MB, profiles
`analyze` on each in this process (cProfile, the report written to /dev/null, with `--json-out` the
JSON document too), and prints each function's own time at every size with its growth from the
first size to the last. A step linear in calls grows about as the size does (4x over three
sizes); one that grows with calls x calls grows about with its square (16x) and is flagged.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"


def capture(size_mb: float) -> Path:
    path = DATA / f"calls-{size_mb:g}.pcap"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "make_capture.py"),
                str(path),
                "--size-mb",
                str(size_mb),
                "--kind",
                "calls",
            ],
            check=True,
        )
    return path


def profile(path: Path, json_out: bool) -> tuple[float, dict[str, float], int]:
    """Wall seconds, own seconds by function, and the number of ICE sessions."""
    from icetrace.analysis import analyze
    from icetrace.report.text import write_report

    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    analysis = analyze([path])
    write_report(analysis, io.StringIO())
    if json_out:
        json.dump(analysis.to_dict(), io.StringIO(), indent=2)
    profiler.disable()
    wall = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    own: dict[str, float] = {}
    for (filename, line, name), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        own[f"{Path(filename).name}:{line}({name})"] = tottime
    return wall, own, len(analysis.streams)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=float, default=10.0)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--json-out", action="store_true", help="also write the JSON document")
    args = parser.parse_args()
    sizes = [args.size_mb * 2**i for i in range(args.steps)]
    runs = []
    for size in sizes:
        wall, own, sessions = profile(capture(size), args.json_out)
        print(f"{size:g} MB: {sessions} ICE sessions, {wall:.1f} s under the profiler", flush=True)
        runs.append((wall, own, sessions))
    first, last = runs[0], runs[-1]
    growth = last[2] / max(first[2], 1)
    print(f"\nsessions grew {growth:.1f}x, whole analysis {last[0] / first[0]:.1f}x")
    heaviest = sorted(last[1], key=last[1].get, reverse=True)[: args.top]  # type: ignore[arg-type]
    header = " ".join(f"{s:>7g}MB" for s in sizes)
    print(f"{'own seconds':<60} {header}   growth")
    for name in heaviest:
        times = [run[1].get(name, 0.0) for run in runs]
        ratio = times[-1] / times[0] if times[0] > 0.01 else float("nan")
        flag = "  <- faster than calls" if ratio > 1.5 * growth else ""
        print(f"{name[:60]:<60} " + " ".join(f"{t:9.2f}" for t in times) + f"   {ratio:5.1f}x{flag}")


if __name__ == "__main__":
    main()
