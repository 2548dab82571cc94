"""Hold the corpus's `icetrace analyze --json -` output still while the code is restructured.

    python scripts/corpus_snapshot.py save DIR      # write one JSON per case into DIR
    python scripts/corpus_snapshot.py compare DIR   # run again, compare byte for byte, list changes

A case is one capture under captures/ analysed alone (the .pcap of a recording when it also
exists as .pcapng/.cap), plus, for each recording with SDP or client-log companions, its first
capture read together with them as the corpus tests read them (offer before answer, left before
right). A change of behaviour shows up as a changed or missing case; the exit status is 1 then.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = ROOT / "captures"
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")
SDP_ORDER = ("offer.sdp", "answer.sdp", "left.sdp", "right.sdp", "left-final.sdp")
LOG_PATTERNS = ("*.uccapilog", "*.webrtc-internals.json")


def _captures(folder: Path) -> list[Path]:
    """The folder's captures, one per stem: the .pcap when a recording exists in several formats."""
    by_stem: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in CAPTURE_SUFFIXES:
            known = by_stem.get(path.stem)
            if known is None or CAPTURE_SUFFIXES.index(path.suffix) < CAPTURE_SUFFIXES.index(known.suffix):
                by_stem[path.stem] = path
    return [by_stem[stem] for stem in sorted(by_stem)]


def cases() -> Iterator[tuple[str, list[str]]]:
    """(name, analyze arguments) for every case, in a stable order."""
    folders = sorted({p.parent for p in CAPTURES.rglob("*") if p.suffix in CAPTURE_SUFFIXES})
    for folder in folders:
        if any(part.startswith(".") for part in folder.relative_to(ROOT).parts):
            continue
        found = _captures(folder)
        for capture in found:
            yield capture.relative_to(ROOT).as_posix(), [str(capture)]
        companions: list[str] = []
        for name in SDP_ORDER:
            if (folder / name).is_file():
                companions += ["--sdp", str(folder / name)]
        for pattern in LOG_PATTERNS:
            for log in sorted(folder.glob(pattern)):
                companions += ["--log", str(log)]
        if companions and found:
            yield found[0].relative_to(ROOT).as_posix() + "+companions", [str(found[0]), *companions]


def run(args: list[str]) -> str:
    """What `icetrace analyze --json - ARGS` writes, with its exit status appended."""
    from icetrace.cli import main

    out, err = io.StringIO(), io.StringIO()
    status = main(["analyze", "--json", "-", *args], stdout=out, stderr=err)
    return f"{out.getvalue()}\n--- exit {status}\n{err.getvalue()}"


def _file_name(case: str) -> str:
    return case.replace("/", "__") + ".out"


def outputs(jobs: int) -> dict[str, str]:
    listed = list(cases())
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        texts = list(pool.map(run, [args for _, args in listed]))
    return {_file_name(name): text for (name, _), text in zip(listed, texts, strict=True)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("save", "compare", "list"))
    parser.add_argument("directory", type=Path, nargs="?")
    parser.add_argument("-j", "--jobs", type=int, default=4)
    options = parser.parse_args()
    if options.action == "list":
        for name, args in cases():
            print(name, " ".join(Path(a).name if a.startswith("/") else a for a in args[1:]))
        return 0
    if options.directory is None:
        parser.error("save and compare need a directory")
    now = outputs(options.jobs)
    directory: Path = options.directory
    if options.action == "save":
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("*.out"):
            old.unlink()
        for name, text in now.items():
            (directory / name).write_text(text, encoding="utf-8")
        print(f"saved {len(now)} cases in {directory}")
        return 0
    saved = {p.name: p.read_text(encoding="utf-8") for p in directory.glob("*.out")}
    changed = sorted(name for name in now.keys() & saved.keys() if now[name] != saved[name])
    added = sorted(now.keys() - saved.keys())
    gone = sorted(saved.keys() - now.keys())
    for label, names in (("changed", changed), ("new", added), ("missing", gone)):
        for name in names:
            print(f"{label}: {name}")
    same = len(now.keys() & saved.keys()) - len(changed)
    print(f"{same} identical, {len(changed)} changed, {len(added)} new, {len(gone)} missing")
    return 1 if changed or added or gone else 0


if __name__ == "__main__":
    sys.exit(main())
