"""`icetrace check DIR... [--update]`: corpus regression for CI.

Exit 0 unchanged, 1 changed, 2 a capture or directory unreadable, 3 the analysis of a capture
crashed (a bug in icetrace). Each capture is analysed on its own, so one that cannot be read or
crashes the analysis is reported as an ERROR and the others still run; the worst status wins
(3 over 2 over 1), so a crash or unreadable input never passes for a mere change.
"""

from __future__ import annotations

import argparse
import traceback
from pathlib import Path
from typing import Any, TextIO

from icetrace.crash import crash_line, describe
from icetrace.errors import IcetraceError, InputError
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
    changed = missing = unreadable = crashed = 0
    for capture in captures:
        golden = capture.with_name(capture.name + ".expected.json")
        try:
            current = summary(analyze([capture]))
            expected = None if args.update or not golden.exists() else load_golden(golden)
        except IcetraceError as exc:  # this capture cannot be read; the others still can
            unreadable += 1
            out.write(f"ERROR    {capture}\n    {exc}\n")
            continue
        except Exception as exc:  # a bug in icetrace, not a change in the analysis
            crashed += 1
            out.write(f"ERROR    {capture}\n    internal error: {describe(exc)}\n")
            if args.traceback:
                traceback.print_exception(type(exc), exc, exc.__traceback__, file=err)
            err.write(crash_line(exc, str(capture)) + "\n")
            continue
        if args.update:
            write_golden(golden, current)
            out.write(f"updated {golden}\n")
            continue
        if expected is None:
            missing += 1
            out.write(f"NEW      {capture} (no {golden.name}; run with --update)\n")
            continue
        diffs = differences(expected, current)
        if diffs:
            changed += 1
            out.write(f"CHANGED  {capture}\n")
            for line in diffs:
                out.write(f"    {line}\n")
        else:
            out.write(f"ok       {capture}\n")
    out.write(
        f"{len(captures)} captures, {changed} changed, {missing} without golden file, "
        f"{unreadable} unreadable, {crashed} crashed\n"
    )
    if crashed:
        return ExitStatus.INTERNAL
    if unreadable:
        return ExitStatus.BAD_INPUT
    return ExitStatus.REGRESSION if changed else ExitStatus.OK
