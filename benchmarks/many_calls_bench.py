"""`icetrace analyze` on a busy server's capture at N, 2N and 4N calls: time, peak RSS, and how they grow.

Usage: python benchmarks/many_calls_bench.py [--size-mb 100] [--steps 3] [--repeat 1] [--stream auto|yes|no] [--profile]

Generates benchmarks/data/many-calls-<size>.pcap (make_capture.py --kind many-calls: about 6,000
calls in 100 MB) for size, 2 x size, 4 x size MB if missing, then runs `icetrace analyze --json -`
(with --stream: auto, a capture over 256 MB read as a stream; yes or no, every size alike)
on each as a fresh child and prints its wall time, CPU time and peak RSS (the child's own, from
wait4), and their ratio to the size before; on a machine others share, CPU time is the steadier.
Doubling the calls should at most double the time: a ratio well above 2 is a step whose cost grows
faster than the calls.

--profile runs each size once more under cProfile (timed by CPU time) and lists the functions whose own time grows
faster than the calls (growth exponent over the sizes above 1.2 and at least 1% of the largest
run), file:function, with their seconds at each size.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import many_calls  # noqa: E402

# the profiled child: CPU time (time.process_time), so that a machine others share does not charge a
# function with the seconds the process waited for a core while it ran
PROFILED = (
    "import cProfile, os, sys, time\n"
    "from icetrace.cli import main\n"
    "profiler = cProfile.Profile(time.process_time)\n"
    "with open(os.devnull, 'w') as out:\n"
    "    profiler.runcall(main, ['analyze', sys.argv[2], '--json', '-', '--stream', sys.argv[3]], stdout=out)\n"
    "profiler.dump_stats(sys.argv[1])\n"
)


def capture(size_mb: int) -> tuple[Path, dict[str, float]]:
    """The capture of `size_mb` and what it holds (written beside it as JSON)."""
    path = HERE / "data" / f"many-calls-{size_mb}.pcap"
    facts = path.with_suffix(".json")
    if not path.exists() or not facts.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            counts = many_calls.write(fh, size_mb * 1_000_000, random.Random(1))
        facts.write_text(json.dumps(counts))
    return path, json.loads(facts.read_text())


def measure(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one command, as the kernel
    accounts for that process alone."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{command} failed")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def profile(path: Path, stream: str) -> dict[str, float]:
    """Own seconds of each function (file:function) in one profiled analysis."""
    with tempfile.TemporaryDirectory(prefix="icetrace-bench-") as tmp:
        out = Path(tmp) / "profile"
        subprocess.run([sys.executable, "-c", PROFILED, str(out), str(path), stream], check=True)
        stats = pstats.Stats(str(out)).stats  # type: ignore[attr-defined]
    own: dict[str, float] = {}
    for (filename, line, function), (_cc, _nc, tottime, _ct, callers) in stats.items():
        name = _name(filename, line, function)
        if filename == "<string>" and callers:  # generated (a dataclass's __hash__): named by its busiest caller
            caller = max(callers.items(), key=lambda item: item[1][2])[0]
            name += " from " + _name(*caller)
        own[name] = own.get(name, 0.0) + tottime
    return own


def _name(filename: str, line: int, function: str) -> str:
    """file:function; a comprehension or lambda with its line, so it can be found."""
    where = _short(filename)
    return f"{where}:{line}:{function}" if function.startswith("<") and where.endswith(".py") else f"{where}:{function}"


def _short(filename: str) -> str:
    for root in ("icetrace", "dissectors"):
        marker = f"/{root}/"
        if marker in filename:
            return root + "/" + filename.split(marker, 1)[1]
    return Path(filename).name if filename.startswith("/") else filename


def superlinear(profiles: list[dict[str, float]], calls: list[float]) -> list[tuple[str, float, list[float]]]:
    """(function, growth exponent against the calls, seconds per size) of the functions growing faster."""
    largest = sum(profiles[-1].values())
    found = []
    for name, seconds in profiles[-1].items():
        first = profiles[0].get(name, 0.0)
        if seconds < 0.01 * largest or first <= 0:
            continue
        exponent = math.log(seconds / first) / math.log(calls[-1] / calls[0])
        if exponent > 1.2:
            found.append((name, exponent, [p.get(name, 0.0) for p in profiles]))
    return sorted(found, key=lambda f: -f[2][-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=100, help="the smallest capture (N calls)")
    parser.add_argument("--steps", type=int, default=3, help="sizes: size, 2 x size, 4 x size ...")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each size (median shown)")
    parser.add_argument("--stream", choices=("auto", "yes", "no"), default="auto", help="analyze's --stream")
    parser.add_argument("--profile", action="store_true", help="list the functions growing faster than the calls")
    args = parser.parse_args()
    sizes = [args.size_mb * 2**i for i in range(args.steps)]
    captures = [capture(size) for size in sizes]
    icetrace = [sys.executable, "-m", "icetrace", "analyze", "--stream", args.stream, "--json", "-"]
    print(f"# many-calls: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    previous = None
    for size, (path, facts) in zip(sizes, captures):
        load = os.getloadavg()[0]
        runs = [measure([*icetrace, str(path)]) for _ in range(args.repeat)]
        elapsed = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        rss = max(r[2] for r in runs)
        calls = facts["calls begun"]
        ratio = ""
        if previous is not None:
            growth = elapsed / previous[0], cpu / previous[1], rss / previous[2], calls / previous[3]
            ratio = "  x{:.2f} wall, x{:.2f} CPU, x{:.2f} RSS for x{:.2f} calls".format(*growth)
        print(
            f"{size:5} MB {calls:7.0f} calls {facts['stun']:8.0f} STUN  analyze {elapsed:7.2f} s wall"
            f" {cpu:7.2f} s CPU ({1e3 * cpu / calls:.2f} ms a call)  peak RSS {rss:6.1f} MB{ratio}  load {load:.1f}",
            flush=True,
        )
        previous = (elapsed, cpu, rss, calls)
    if args.profile:
        profiles = [profile(path, args.stream) for path, _ in captures]
        calls_at = [facts["calls begun"] for _, facts in captures]
        print("# own time growing faster than the calls (exponent: time ~ calls^e), seconds per size:")
        for name, exponent, seconds in superlinear(profiles, calls_at):
            print(f"  e={exponent:4.2f}  {name}  " + "  ".join(f"{s:7.2f}" for s in seconds))


if __name__ == "__main__":
    main()
