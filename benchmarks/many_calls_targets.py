"""The many-calls targets: `icetrace analyze` on a busy server's capture at 100 and 400 MB, against
`tshark -Y stun` on the same file, with peak memory.

Usage: python benchmarks/many_calls_targets.py [--sizes 100 400] [--repeat 1] [--stream auto|yes|no] [--no-tshark]

Writes benchmarks/data/many-calls-SIZE.pcap (make_capture.py --kind many-calls, the capture
many_calls_bench.py writes too) when missing. Each round runs
every command once, interleaved, each as its own process (wall clock, and the peak resident set the
kernel accounts for it); prints the median of the rounds, the time ratio of the largest to the
smallest size, tshark's time over icetrace's, and the memory each extra ICE session costs (peak at
the largest size less at the smallest, over the sessions between them).
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

DATA = ROOT / "benchmarks" / "data"
ICETRACE = str(ROOT / ".venv" / "bin" / "icetrace")


def capture(size_mb: int) -> Path:
    return many_calls_bench.capture(size_mb)[0]


def measure(command: list[str]) -> tuple[float, int, bytes]:
    """Wall seconds, peak RSS in bytes (the kernel's account of this process), and its output."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    proc.stdout.close()
    return wall, usage.ru_maxrss * 1024, out


def sessions(report: bytes) -> int:
    for line in report.decode(errors="replace").splitlines()[:3]:
        if "ICE session(s)" in line:
            return int(line.split(" ICE session(s)")[0].split()[-1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 400])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--stream", choices=("auto", "yes", "no"), default="auto")
    parser.add_argument("--no-tshark", action="store_true")
    args = parser.parse_args()
    files = {size: capture(size) for size in args.sizes}
    runs: dict[str, list[tuple[float, int]]] = {}
    found: dict[int, int] = {}
    print(os.popen("uptime").read().strip())
    for _ in range(args.repeat):
        for size, path in files.items():
            wall, peak, out = measure([ICETRACE, "analyze", str(path), "--stream", args.stream])
            runs.setdefault(f"icetrace {size}", []).append((wall, peak))
            found[size] = sessions(out)
            if not args.no_tshark:
                tshark = ["tshark", "-n", "-r", str(path), "-Y", "stun", "-T", "fields", "-e", "frame.number"]
                wall, peak, _ = measure(tshark)
                runs.setdefault(f"tshark {size}", []).append((wall, peak))
    print(os.popen("uptime").read().strip())
    median = {name: statistics.median(w for w, _ in r) for name, r in runs.items()}
    peak = {name: max(p for _, p in r) for name, r in runs.items()}
    for name in runs:
        size = int(name.split()[1])
        print(f"{name:>14} MB: {median[name]:7.1f} s, peak {peak[name] / 2**20:6.0f} MB, {found[size]} sessions")
    small, large = min(args.sizes), max(args.sizes)
    ratio = median[f"icetrace {large}"] / median[f"icetrace {small}"]
    print(f"icetrace {large} MB / {small} MB: {ratio:.2f}x the time for {large / small:g}x the data")
    if not args.no_tshark:
        for size in args.sizes:
            print(f"tshark / icetrace at {size} MB: {median[f'tshark {size}'] / median[f'icetrace {size}']:.2f}x")
    extra = found[large] - found[small]
    if extra > 0:
        per = (peak[f"icetrace {large}"] - peak[f"icetrace {small}"]) / extra
        print(f"memory per extra session: {per:.0f} bytes ({extra} sessions more)")


if __name__ == "__main__":
    main()
