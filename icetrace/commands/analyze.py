"""`icetrace analyze CAPTURE... [--sdp FILE]... [--log FILE]... [--json OUT|-]`."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, TextIO, cast

from icetrace.commands.progress import Progress
from icetrace.errors import InputError
from icetrace.output import whole_or_absent

STREAM_ABOVE = 256 << 20
"""Bytes: one capture larger than this is analysed as a stream unless told otherwise."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("analyze", help="reconstruct the ICE negotiation and diagnose it")
    parser.add_argument("capture", nargs="*", help="pcap, pcapng or Network Monitor captures of one call")
    parser.add_argument("--sdp", action="append", default=[], help="SDP or SIP file (repeatable, offer first)")
    parser.add_argument(
        "--log",
        action="append",
        default=[],
        help="client log: SIP (.uccapilog, text), or a webrtc-internals dump or getStats() export (JSON)",
    )
    parser.add_argument("--json", metavar="OUT", help="write the JSON result to OUT, or to stdout with '-'")
    parser.add_argument("--html", metavar="FILE", help="also write the report as one self-contained HTML page")
    parser.add_argument(
        "--json-lines",
        metavar="OUT",
        help="also write one JSON object per ICE session, a line each, to OUT ('-': standard output)",
    )
    parser.add_argument(
        "--call",
        action="append",
        default=[],
        metavar="ID",
        help="tell this call's story in full (its Call-ID, or a session label the summary prints; repeatable)",
    )
    parser.add_argument("--top", type=int, default=0, metavar="N", help="tell the N worst sessions' stories in full")
    parser.add_argument(
        "--stream",
        choices=("auto", "yes", "no"),
        default="auto",
        help="analyse each session once it ends and let it go, so memory follows the calls open at once"
        f" (auto: one capture file over {STREAM_ABOVE >> 20} MB, without --sdp, --log, --html or TLS keys)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        choices=(1, 2),
        default=1,
        help="2: a streamed analysis analyses the calls that ended in a forked second process while this one"
        " reads on (faster when a second core is free, more CPU time in all); 1 (default): one process",
    )
    parser.add_argument(
        "--every-story",
        action="store_true",
        help="tell every session's story, however many (no many-calls summary)",
    )
    parser.add_argument(
        "--engine",
        choices=("native", "tshark"),
        default="native",
        help="tshark: let tshark read the file (any format Wireshark reads)",
    )
    parser.add_argument("--tls-keylog", metavar="FILE", help="TLS key log (SSLKEYLOGFILE) to read SIP over TLS")
    parser.add_argument("--rsa-key", metavar="FILE", help="server RSA key to read SIP over TLS (RSA key exchange)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # imported here: pandas and the correlator are not needed to parse arguments or for other commands
    from icetrace.analysis import analyze
    from icetrace.report.text import write_report

    if not (args.capture or args.sdp or args.log):
        raise InputError("give at least one capture, --sdp or --log")
    if args.json == "" or args.json_lines == "":
        raise InputError("--json and --json-lines need a file name, or '-' for standard output")
    if args.json == "-" and args.json_lines == "-":
        raise InputError("--json - and --json-lines - both want standard output: give one of them a file")
    for option, name in (("--tls-keylog", args.tls_keylog), ("--rsa-key", args.rsa_key)):
        if name is not None and (not os.path.exists(name) or os.path.isdir(name)):
            raise InputError(f"{option} {name}: no such file")
    if _streamed(args):
        return _run_streamed(args, out)
    progress = Progress(err) if err.isatty() else None  # a gigabyte capture takes seconds to read
    try:
        analysis = analyze(
            args.capture,
            sdp=args.sdp,
            logs=args.log,
            engine=args.engine,
            tls_keylog=args.tls_keylog,
            rsa_key=args.rsa_key,
            progress=progress.update if progress else None,
        )
    finally:
        if progress:
            progress.close()
    if args.html:
        _write_html(analysis, args, err if progress else None)
    if args.json_lines:
        _write_json_lines(analysis, args.json_lines, out)
    if args.json == "-":
        json.dump(analysis.to_dict(), out, indent=2)
        out.write("\n")
        return 0
    if args.json:
        try:
            with whole_or_absent(args.json) as fh:
                json.dump(analysis.to_dict(), fh, indent=2)
        except OSError as exc:
            raise InputError(f"{args.json}: cannot write: {exc.strerror}") from None
    if args.json_lines == "-":
        return 0
    write_report(analysis, out, calls=args.call, top=args.top, every_story=args.every_story)
    return 0


def _streamed(args: argparse.Namespace) -> bool:
    """Whether to analyse as a stream: asked for, or one big capture and nothing it cannot do."""
    can = len(args.capture) == 1 and not (
        args.sdp or args.log or args.html or args.tls_keylog or args.rsa_key or args.every_story
    )
    can = can and args.engine == "native"
    if args.stream == "yes":
        if not can:
            raise InputError("--stream yes reads one capture, without --sdp, --log, --html, --every-story or TLS keys")
        return True
    if args.stream == "no" or not can or args.capture[0] == "-":
        return False
    try:
        return os.path.getsize(args.capture[0]) > STREAM_ABOVE
    except OSError:
        return False


def _run_streamed(args: argparse.Namespace, out: TextIO) -> int:
    from icetrace.live.streamed import analyze_streamed, streamed_document, write_streamed_report

    lines_out = out if args.json_lines == "-" else None
    try:
        lines_file = open(args.json_lines, "w", encoding="utf-8") if args.json_lines not in (None, "-") else None  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"{args.json_lines}: cannot write: {exc.strerror}") from None
    try:
        analysis = analyze_streamed(
            args.capture[0],
            calls=args.call,
            top=args.top,
            json_lines=lines_out or lines_file,
            parallel=args.jobs == 2,
            keep_json=args.json is not None,
        )
    finally:
        if lines_file is not None:
            lines_file.close()
    if args.json == "-":
        streamed_document(analysis, out)
        return 0
    if args.json:
        try:
            with open(args.json, "w", encoding="utf-8") as fh:
                streamed_document(analysis, fh)
        except OSError as exc:
            raise InputError(f"{args.json}: cannot write: {exc.strerror}") from None
    if args.json_lines != "-":
        write_streamed_report(analysis, out, args.top)
    return 0


def _write_html(analysis: Any, args: argparse.Namespace, err: TextIO | None) -> None:
    """The page; on a terminal, each part named as it begins (the plots of a big capture take seconds)."""
    from icetrace.report.html import write_html

    path = args.html

    def stage(part: str) -> None:
        if err is not None:
            err.write(f"writing {path}: {part} ..." if part == "report" else f" {part} ...")
            err.flush()

    try:
        with whole_or_absent(path) as fh:
            write_html(analysis, cast(TextIO, fh), stage, calls=args.call, top=args.top, every_story=args.every_story)
    except OSError as exc:
        if err is not None:
            err.write("\n")  # the error on a line of its own
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None
    if err is not None:
        err.write(" done\n")


def _write_json_lines(analysis: Any, path: str, out: TextIO) -> None:
    from icetrace.report.json_lines import write_json_lines

    if path == "-":
        write_json_lines(analysis.reconstruction, analysis.verdict_list, analysis.sources, out)
        return
    try:
        with open(path, "w", encoding="utf-8") as fh:
            write_json_lines(analysis.reconstruction, analysis.verdict_list, analysis.sources, fh)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None
