"""`icetrace check DIR... [--update]`: corpus regression for CI (exit 0 same, 1 changed, 2 bad input)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from icetrace.errors import InputError
from icetrace.exit_status import ExitStatus

SUFFIXES = (".pcap", ".pcapng", ".cap", ".gz")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("check", help="compare every capture under DIR with its golden summary")
    parser.add_argument("directory", nargs="+")
    parser.add_argument("--update", action="store_true", help="rewrite the golden files from this run")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from icetrace.analysis import analyze
    from icetrace.report.golden import differences, load_golden, summary, write_golden

    captures: list[Path] = []
    for name in args.directory:
        root = Path(name)
        if not root.exists():
            raise InputError(f"{root}: no such directory")
        captures += sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
    if not captures:
        raise InputError("no captures found")
    changed = missing = 0
    for capture in captures:
        golden = capture.with_name(capture.name + ".expected.json")
        current = summary(analyze([capture]))
        if args.update:
            write_golden(golden, current)
            out.write(f"updated {golden}\n")
            continue
        if not golden.exists():
            missing += 1
            out.write(f"NEW      {capture} (no {golden.name}; run with --update)\n")
            continue
        diffs = differences(load_golden(golden), current)
        if diffs:
            changed += 1
            out.write(f"CHANGED  {capture}\n")
            for line in diffs:
                out.write(f"    {line}\n")
        else:
            out.write(f"ok       {capture}\n")
    out.write(f"{len(captures)} captures, {changed} changed, {missing} without golden file\n")
    return ExitStatus.REGRESSION if changed else ExitStatus.OK
