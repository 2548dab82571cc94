"""`icetrace annotate CAPTURE... -o OUT`: the same packets, with the analysis as packet comments.

With several captures (the taps of one call, or the files of one ring buffer) the analysis is the
one they tell together, and each capture gets its own annotated copy: `-o` names a folder then, and
each copy is `<capture name without its suffix>.pcapng` in it."""

from __future__ import annotations

import argparse
import os
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

from icetrace.errors import InputError
from icetrace.records.capture_set import display_names


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "annotate", help="write the capture as pcapng with packet comments on checks, allocations and verdicts"
    )
    parser.add_argument(
        "capture", nargs="+", help="pcap, pcapng or Network Monitor capture (several: one annotated copy each)"
    )
    parser.add_argument(
        "-o", "--out", required=True, help="output pcapng file; with several captures, the folder for their copies"
    )
    parser.add_argument("--sdp", action="append", default=[], help="SDP or SIP file (repeatable, offer first)")
    parser.add_argument("--log", action="append", default=[], help="client log with SIP (.uccapilog, text)")
    parser.add_argument(
        "--engine",
        choices=("native", "tshark"),
        default="native",
        help="tshark: let tshark read the file (any format Wireshark reads); the copy is of tshark's pcapng",
    )
    parser.add_argument("--tls-keylog", metavar="FILE", help="TLS key log (SSLKEYLOGFILE) to read SIP over TLS")
    parser.set_defaults(run=run)


def outputs(captures: list[str], out: str) -> list[Path]:
    """Where each capture's annotated copy goes: with several, in the folder under the name the
    analysis gives each (captures of one file name in different folders keep as many folders as tell
    them apart); refuses to overwrite an input or to give two captures one copy."""
    if len(captures) == 1:
        targets = [Path(out)]
    else:
        folder = Path(out)
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{out}: with several captures, -o names a folder for their annotated copies")
        targets = [folder.joinpath(*_inside(name)) for name in display_names(captures)]
        if len(set(targets)) < len(targets):
            raise InputError("two captures share a name: their annotated copies would overwrite each other")
    inputs = {Path(c).resolve() for c in captures}
    for target in targets:
        if target.resolve() in inputs:
            raise InputError(f"{target}: the output would overwrite a capture")
    return targets


def _inside(name: str) -> list[str]:
    """A capture's name as a path under the output folder: its folders (none above the folder), and
    its file name with the .pcapng suffix."""
    *folders, file = [part for part in name.replace("\\", "/").split("/") if part not in ("", os.curdir, os.pardir)]
    return [*folders, _stem(file) + ".pcapng"]


def _stem(name: str) -> str:
    base = name[:-3] if name.endswith(".gz") else name
    return base.rsplit(".", 1)[0] if "." in base else base


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from icetrace.analysis import analyze
    from icetrace.capture.pcapng_writer import write_annotated
    from icetrace.report.annotate import notes_per_capture

    for capture in args.capture:
        if Path(capture).exists() and not Path(capture).is_file():
            # read twice (analysis, then the copy): a pipe would be empty, or block, the second time
            raise InputError(f"{capture}: not a regular file; annotate reads the capture twice")
    targets = outputs(args.capture, args.out)
    with ExitStack() as stack:
        sources: list[str | Path] = list(args.capture)
        if args.engine == "tshark":
            from icetrace.capture.tshark_engine import converted

            sources = [stack.enter_context(converted(c)) for c in args.capture]
        analysis = analyze(sources, sdp=args.sdp, logs=args.log, tls_keylog=args.tls_keylog)
        if len(targets) > 1:
            for target in targets:
                target.parent.mkdir(parents=True, exist_ok=True)
        per_capture = notes_per_capture(analysis, len(sources))
        for source, target, notes in zip(sources, targets, per_capture, strict=True):
            write_annotated(source, target, notes)  # damage it skips is what the analysis reported
            out.write(f"{target}: {sum(len(n) for n in notes.values())} comments on {len(notes)} frames\n")
    for problem in analysis.problems:
        err.write(f"warning: {problem}\n")
    return 0
