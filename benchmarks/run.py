"""Time icetrace's message extraction against tshark on the same capture, in the same run.

Usage: python benchmarks/run.py [CAPTURE] [--size-mb 1000]
Without CAPTURE, benchmarks/data/voip-<size>.pcap is generated first. Prints wall
time, MB/s and peak RSS of each command (children measured with wait4).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("capture", nargs="?")
    parser.add_argument("--size-mb", type=int, default=1000)
    args = parser.parse_args()
    capture = Path(args.capture) if args.capture else HERE / "data" / f"voip-{args.size_mb}.pcap"
    if not capture.exists():
        capture.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, str(HERE / "make_capture.py"), str(capture), "--size-mb", str(args.size_mb)], check=True
        )
    size_mb = capture.stat().st_size / 1e6
    icetrace = f"{sys.executable} -m icetrace messages --format csv {capture} | wc -l"
    commands = {"icetrace messages": icetrace}
    if shutil.which("tshark"):
        commands["tshark -Y stun -T fields"] = f"tshark -n -r {capture} -Y stun -T fields -e frame.number | wc -l"
        if shutil.which("tcpdump"):
            commands["tcpdump BPF | tshark"] = (
                f"tcpdump -r {capture} -w - 'udp and (udp[8] & 0xc0) = 0' 2>/dev/null"
                f" | tshark -n -r - -Y stun -T fields -e frame.number | wc -l"
            )
    print(
        f"# {capture.name}: {size_mb:.0f} MB; {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    results = {}
    for name, command in commands.items():
        # each measurement runs in a fresh child so ru_maxrss is that command's own peak
        code = (
            "import resource, subprocess, sys, time; t=time.perf_counter(); "
            "out=subprocess.run(['bash','-c',sys.argv[1]],capture_output=True,text=True).stdout; "
            "e=time.perf_counter()-t; "
            "print(e, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024, out.strip())"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, command], capture_output=True, text=True, check=True
        ).stdout.split()
        elapsed, rss, lines = float(out[0]), float(out[1]), out[2] if len(out) > 2 else "?"
        results[name] = elapsed
        print(
            f"{name:28} {elapsed:7.2f} s  {size_mb / elapsed:8.1f} MB/s  peak RSS {rss:7.1f} MB  ({lines} output lines)"
        )
    if "tshark -Y stun -T fields" in results:
        ratio = results["tshark -Y stun -T fields"] / results["icetrace messages"]
        print(f"icetrace is {ratio:.1f}x faster than tshark -Y stun")


if __name__ == "__main__":
    main()
