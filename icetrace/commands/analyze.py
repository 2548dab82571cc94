"""`icetrace analyze CAPTURE... [--sdp FILE]... [--log FILE]... [--json OUT|-]`."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, TextIO

from icetrace.commands.progress import Progress
from icetrace.errors import InputError


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
    if args.json == "":
        raise InputError("--json needs a file name, or '-' for standard output")
    for option, name in (("--tls-keylog", args.tls_keylog), ("--rsa-key", args.rsa_key)):
        if name is not None and (not os.path.exists(name) or os.path.isdir(name)):
            raise InputError(f"{option} {name}: no such file")
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
        if progress:  # the plots and the messages table of a big capture take a while
            err.write(f"writing {args.html}: plots and {len(analysis.messages):,} messages ...")
            err.flush()
        _write_html(analysis, args.html)
        if progress:
            err.write(" done\n")
    if args.json == "-":
        json.dump(analysis.to_dict(), out, indent=2)
        out.write("\n")
        return 0
    if args.json:
        try:
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump(analysis.to_dict(), fh, indent=2)
        except OSError as exc:
            raise InputError(f"{args.json}: cannot write: {exc.strerror}") from None
    write_report(analysis, out)
    return 0


def _write_html(analysis: Any, path: str) -> None:
    from icetrace.report.html import write_html

    try:
        with open(path, "w", encoding="utf-8") as fh:
            write_html(analysis, fh)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None
