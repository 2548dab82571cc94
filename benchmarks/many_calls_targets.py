"""The many-calls targets: `icetrace analyze` on a busy server's capture at 100 and 400 MB, against
`tshark -Y stun` on the same file, with peak memory.

Usage: python benchmarks/many_calls_targets.py [--sizes 100 400] [--repeat 1] [--stream auto|yes|no] [--jobs 1|2]
       [--no-tshark]

Writes benchmarks/data/many-calls-SIZE.pcap (make_capture.py --kind many-calls, the capture
many_calls_bench.py writes too) when missing. Each round runs
every command once, interleaved, each as its own process (wall clock, and the peak resident set the
kernel accounts for it); prints the median of the rounds, the time ratio of the largest to the
smallest size, tshark's time over icetrace's (wall clock and CPU time: on a machine others share,
CPU time is the steadier figure), and the memory each extra ICE session costs (peak at the largest
size less at the smallest, over the sessions between them). Each run prints the load average it
started at.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import many_calls_bench  # noqa: E402

ICETRACE = str(ROOT / ".venv" / "bin" / "icetrace")


def capture(size_mb: int) -> Path:
    return many_calls_bench.capture(size_mb)[0]


def measure(command: list[str]) -> tuple[float, float, int, bytes]:
    """Wall seconds, CPU seconds (user + system), peak RSS in bytes (the kernel's account of this
    process), and its output."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    proc.stdout.close()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, out


def sessions(report: bytes) -> int:
    for line in report.decode(errors="replace").splitlines()[:3]:
        if "ICE session(s)" in line:
            return int(line.split(" ICE session(s)")[0].split()[-1])
    return 0


Run = tuple[float, float, int, float]  # wall s, CPU s, peak RSS bytes, load average when it started


def rounds(files: dict[int, Path], args: argparse.Namespace) -> tuple[dict[str, list[Run]], dict[int, int]]:
    """Every command once a round, in turn; each run printed as it ends, with the load average."""
    runs: dict[str, list[Run]] = {}
    found: dict[int, int] = {}
    for _ in range(args.repeat):
        for size, path in files.items():
            analyze = [ICETRACE, "analyze", str(path), "--stream", args.stream, "--jobs", str(args.jobs)]
            commands = {f"icetrace {size}": analyze}
            if not args.no_tshark:
                fields = ["-T", "fields", "-e", "frame.number"]
                commands[f"tshark {size}"] = ["tshark", "-n", "-r", str(path), "-Y", "stun", *fields]
            for name, command in commands.items():
                load = os.getloadavg()[0]
                wall, cpu, peak, out = measure(command)
                runs.setdefault(name, []).append((wall, cpu, peak, load))
                if name.startswith("icetrace"):
                    found[size] = sessions(out)
                figures = f"{wall:7.1f} s wall, {cpu:7.1f} s CPU, peak {peak / 2**20:5.0f} MB"
                print(f"  {name:>14} MB: {figures}, load {load:.1f}", flush=True)
    return runs, found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 400])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--stream", choices=("auto", "yes", "no"), default="auto")
    parser.add_argument("--jobs", type=int, choices=(1, 2), default=1, help="analyze's --jobs (2: a forked child too)")
    parser.add_argument("--no-tshark", action="store_true")
    args = parser.parse_args()
    files = {size: capture(size) for size in args.sizes}
    runs, found = rounds(files, args)
    wall = {name: statistics.median(r[0] for r in rs) for name, rs in runs.items()}
    cpu = {name: statistics.median(r[1] for r in rs) for name, rs in runs.items()}
    peak = {name: max(r[2] for r in rs) for name, rs in runs.items()}
    for name in runs:
        size = int(name.split()[1])
        print(
            f"{name:>14} MB: median {wall[name]:7.1f} s wall, {cpu[name]:7.1f} s CPU,"
            f" peak {peak[name] / 2**20:6.0f} MB, {found[size]} sessions"
        )
    small, large = min(args.sizes), max(args.sizes)
    a, b = f"icetrace {large}", f"icetrace {small}"
    print(f"icetrace {large} MB / {small} MB: {wall[a] / wall[b]:.2f}x wall, {cpu[a] / cpu[b]:.2f}x CPU")
    if not args.no_tshark:
        for size in args.sizes:
            t, i = f"tshark {size}", f"icetrace {size}"
            print(f"tshark / icetrace at {size} MB: {wall[t] / wall[i]:.2f}x wall, {cpu[t] / cpu[i]:.2f}x CPU")
    extra = found[large] - found[small]
    if extra > 0:
        per = (peak[a] - peak[b]) / extra
        print(f"peak memory per extra session: {per:.0f} bytes ({extra} sessions more)")


if __name__ == "__main__":
    main()
