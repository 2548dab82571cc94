"""Time `icetrace check` over a generated corpus: --jobs 1, --jobs 2, and a two-worker Dask LocalCluster.

The corpus is made from captures/: every recording (one format each, with its companions) copied
N times into its own folder, each copy's classic-pcap timestamps shifted by a whole number of hours
so no two copies are byte-identical. Run: python benchmarks/corpus_bench.py --captures 1000
"""

from __future__ import annotations

import argparse
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from icetrace.corpus.companions import discover  # noqa: E402

ICETRACE = [sys.executable, "-m", "icetrace"]


def shifted(data: bytes, seconds: int) -> bytes:
    """A classic pcap with every record's timestamp moved by `seconds` (other formats unchanged)."""
    magic = data[:4]
    order = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}
    if magic not in order:
        return data
    end = order[magic]
    out, pos = bytearray(data), 24
    while pos + 16 <= len(data):
        sec, _, incl, _ = struct.unpack_from(end + "IIII", data, pos)
        struct.pack_into(end + "I", out, pos, sec + seconds)
        pos += 16 + incl
    return bytes(out)


def generate(target: Path, count: int) -> int:
    tasks = discover([str(ROOT / "captures")])
    print(f"{len(tasks)} recordings checked in captures/ (one format each), copied until there are {count}")
    if target.exists():
        shutil.rmtree(target)
    made = 0
    copy = 0
    while made < count:
        copy += 1
        for task in tasks:
            if made >= count:
                break
            src = Path(task.capture)
            folder = target / f"copy{copy:03d}" / src.parent.relative_to(ROOT / "captures")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / src.name).write_bytes(shifted(src.read_bytes(), copy * 3600))
            for companion in (*task.sdp, *task.logs, *((task.tls_keylog,) if task.tls_keylog else ())):
                if not (folder / Path(companion).name).exists():
                    shutil.copy(companion, folder / Path(companion).name)
            made += 1
    return made


def timed(argv: list[str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    return time.perf_counter() - started, done.returncode, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--captures", type=int, default=1000)
    parser.add_argument("--dir", default=str(Path(tempfile.gettempdir()) / "icetrace-corpus-bench"))
    args = parser.parse_args()
    target = Path(args.dir)
    made = generate(target, args.captures)
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file()) / 1e6
    print(f"generated {made} captures in {target} ({size:.0f} MB with companions)")
    seconds, status, last = timed([*ICETRACE, "check", "--update", "--jobs", "2", str(target)])
    print(f"check --update --jobs 2: {seconds:.1f} s, exit {status}: {last}")
    for jobs in ("1", "2"):
        seconds, status, last = timed([*ICETRACE, "check", "--jobs", jobs, str(target)])
        print(f"check --jobs {jobs}: {seconds:.1f} s, exit {status}: {last}")
    from distributed import LocalCluster

    started = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        up = time.perf_counter() - started
        seconds, status, last = timed([*ICETRACE, "check", "--dask", cluster.scheduler_address, str(target)])
        print(f"check --dask (LocalCluster 2 workers, started in {up:.1f} s): {seconds:.1f} s, exit {status}: {last}")
    seconds, status, last = timed([*ICETRACE, "corpus", "--jobs", "2", str(target), "--out", str(target) + ".parquet"])
    print(f"corpus --jobs 2 --out: {seconds:.1f} s, exit {status}: {last}")


if __name__ == "__main__":
    main()
