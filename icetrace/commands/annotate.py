"""`icetrace annotate CAPTURE -o OUT.pcapng`: the same packets, with the analysis as packet comments."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

from icetrace.errors import InputError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "annotate", help="write the capture as pcapng with packet comments on checks, allocations and verdicts"
    )
    parser.add_argument("capture", help="pcap, pcapng or Network Monitor capture")
    parser.add_argument("-o", "--out", required=True, help="output pcapng file")
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


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from icetrace.analysis import analyze
    from icetrace.capture.pcapng_writer import write_annotated
    from icetrace.report.annotate import frame_notes

    if Path(args.capture).exists() and not Path(args.capture).is_file():
        # read twice (analysis, then the copy): a pipe would be empty, or block, the second time
        raise InputError(f"{args.capture}: not a regular file; annotate reads the capture twice")
    if Path(args.out).resolve() == Path(args.capture).resolve():
        raise InputError(f"{args.out}: the output would overwrite the capture")
    with ExitStack() as stack:
        source: str | Path = args.capture
        if args.engine == "tshark":
            from icetrace.capture.tshark_engine import converted

            source = stack.enter_context(converted(args.capture))
        analysis = analyze([source], sdp=args.sdp, logs=args.log, tls_keylog=args.tls_keylog)
        notes = frame_notes(analysis)
        copied = write_annotated(source, args.out, notes)  # damage it skips is what the analysis reported
    # and what only the copy meets (a time pcapng cannot hold)
    for problem in [*analysis.problems, *(p for p in map(str, copied) if p not in analysis.problems)]:
        err.write(f"warning: {problem}\n")
    out.write(f"{args.out}: {sum(len(n) for n in notes.values())} comments on {len(notes)} frames\n")
    return 0
