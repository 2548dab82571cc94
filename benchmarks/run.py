"""Time icetrace's message extraction against tshark on the same capture, in the same run.

Usage: python benchmarks/run.py [CAPTURE] [--size-mb 1000] [--repeat 5] [--format pcapng|netmon2]
                                [--kind voip|turn-server|av-edge] [--stun-mix rfc|heavy] [--analyze]
                                [--no-media] [--no-tshark]
Without CAPTURE, benchmarks/data/<kind>-<size>.pcap (-heavy.pcap with --stun-mix heavy) is
generated first (--format: and converted with editcap). --analyze adds `icetrace analyze --json -`
to the commands, --no-media `icetrace messages --no-media` (the listing without relayed media
rows); --no-tshark leaves tshark and tcpdump out.
Prints wall time, MB/s and memory of each command: the peak RSS of its largest process (wait4's
ru_maxrss over the command's processes) and the peak of all its processes together (their PSS, the
resident memory with pages shared between them counted once, summed over the command's process
group and sampled every 20 ms): `icetrace messages` on two cores runs as two processes, the reader
and the forked decoder. With --repeat N the commands run in N interleaved rounds, so a noisy machine
slows them alike, and the minimum and median are shown.

A CAPTURE that does not exist is generated with --size-mb, so name the size you mean:
`python benchmarks/run.py --size-mb 100` makes and measures benchmarks/data/voip-100.pcap.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("capture", nargs="?")
    parser.add_argument("--size-mb", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--kind", choices=("voip", "turn-server", "av-edge"), default="voip")
    parser.add_argument("--analyze", action="store_true", help="also time `icetrace analyze --json -`")
    parser.add_argument("--stun-mix", choices=("rfc", "heavy"), default="rfc", help="relay captures' STUN share")
    parser.add_argument("--no-tshark", action="store_true", help="time icetrace's commands only")
    parser.add_argument(
        "--no-media", action="store_true", help="also time `icetrace messages --no-media` (no relayed media rows)"
    )
    parser.add_argument(
        "--format", choices=("pcap", "pcapng", "netmon2"), default="pcap", help="benchmark this copy of the capture"
    )
    args = parser.parse_args()
    heavy = "-heavy" if args.stun_mix == "heavy" and args.kind != "voip" else ""
    capture = Path(args.capture) if args.capture else HERE / "data" / f"{args.kind}-{args.size_mb}{heavy}.pcap"
    if not capture.exists():
        capture.parent.mkdir(parents=True, exist_ok=True)
        make = [sys.executable, str(HERE / "make_capture.py"), str(capture), "--size-mb", str(args.size_mb)]
        subprocess.run([*make, "--kind", args.kind, "--stun-mix", args.stun_mix], check=True)
    if args.format != "pcap" and not args.capture:
        copy = capture.with_suffix({"pcapng": ".pcapng", "netmon2": ".cap"}[args.format])
        if not copy.exists():
            subprocess.run(["editcap", "-F", args.format, str(capture), str(copy)], check=True)
        capture = copy
    size_mb = capture.stat().st_size / 1e6
    icetrace = f"{sys.executable} -m icetrace messages --format csv {capture} | wc -l"
    commands = {"icetrace messages": icetrace}
    if args.no_media:
        commands["icetrace messages --no-media"] = icetrace.replace("--format csv", "--format csv --no-media")
    if args.analyze:
        commands["icetrace analyze --json"] = f"{sys.executable} -m icetrace analyze --json - {capture} | wc -l"
    if shutil.which("tshark") and not args.no_tshark:
        # MS-TURN without the RFC 5389 cookie is Wireshark's classicstun
        stun = "'stun or classicstun'" if args.kind == "av-edge" else "stun"
        commands["tshark -Y stun -T fields"] = f"tshark -n -r {capture} -Y {stun} -T fields -e frame.number | wc -l"
        if shutil.which("tcpdump") and args.kind == "voip":
            commands["tcpdump BPF | tshark"] = (
                f"tcpdump -r {capture} -w - 'udp and (udp[8] & 0xc0) = 0' 2>/dev/null"
                f" | tshark -n -r - -Y stun -T fields -e frame.number | wc -l"
            )
    print(
        f"# {capture.name}: {size_mb:.0f} MB; {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, float] = {}
    totals: dict[str, float] = {}
    lines: dict[str, str] = {}
    for _ in range(args.repeat):
        for name, command in commands.items():
            elapsed, rss, total, out = measure(command)
            times[name].append(elapsed)
            peaks[name] = max(peaks.get(name, 0.0), rss)
            totals[name] = max(totals.get(name, 0.0), total)
            lines[name] = out
    for name in commands:
        best, median = min(times[name]), statistics.median(times[name])
        runs = " ".join(f"{t:.2f}" for t in times[name])
        print(
            f"{name:28} min {best:6.2f} s  median {median:6.2f} s  {size_mb / best:7.1f} MB/s  "
            f"peak RSS {peaks[name]:6.1f} MB (largest process), {totals[name]:6.1f} MB (all processes, PSS)  "
            f"({lines[name]} output lines)  runs: {runs}"
        )
    if "tshark -Y stun -T fields" in times:
        ratio = statistics.median(times["tshark -Y stun -T fields"]) / statistics.median(times["icetrace messages"])
        print(f"icetrace is {ratio:.1f}x faster than tshark -Y stun (medians)")
        for name in ("icetrace messages --no-media", "icetrace analyze --json"):
            if name in times:
                ratio = statistics.median(times["tshark -Y stun -T fields"]) / statistics.median(times[name])
                print(f"{name} is {ratio:.1f}x faster than tshark -Y stun (medians)")
    if "tcpdump BPF | tshark" in times:
        ratio = statistics.median(times["tcpdump BPF | tshark"]) / statistics.median(times["icetrace messages"])
        print(f"icetrace takes {1 / ratio:.2f}x the time of tcpdump BPF + tshark (medians)")


def measure(command: str) -> tuple[float, float, float, str]:
    """Wall time, peak RSS of the largest process (MB), peak PSS of all processes together (MB) and
    output of one command, run in a fresh child."""
    # a fresh child per measurement, so ru_maxrss is that command's own peak
    code = (
        "import resource, subprocess, sys, time; t=time.perf_counter(); "
        "out=subprocess.run(['bash','-c',sys.argv[1]],capture_output=True,text=True).stdout; "
        "e=time.perf_counter()-t; "
        "print(e, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024, out.strip())"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, command], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    total = 0.0
    while child.poll() is None:
        total = max(total, group_pss_mb(child.pid))
        time.sleep(0.02)
    out = child.communicate()[0]
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, command)
    fields = out.split()
    return float(fields[0]), float(fields[1]), total, fields[2] if len(fields) > 2 else "?"


def group_pss_mb(group: int) -> float:
    """The PSS of every process in a process group, summed (MB); the measuring child itself, a small
    Python interpreter, is in the group too. Linux's /proc/PID/smaps_rollup."""
    total_kb = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) != group:
                continue
            for line in (proc / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kb += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
    return total_kb / 1024


if __name__ == "__main__":
    main()
