"""`icetrace plot CAPTURE... --out FILE [--kind ladder|timeline]`: draw the checks."""

from __future__ import annotations

import argparse
from typing import Any, TextIO


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("plot", help="draw the check ladder or the per-pair timeline")
    parser.add_argument("capture", nargs="+")
    parser.add_argument("--sdp", action="append", default=[])
    parser.add_argument("--log", action="append", default=[])
    parser.add_argument("--kind", choices=("ladder", "timeline"), default="ladder")
    parser.add_argument("--out", required=True, help="output image (.png, .svg or .pdf)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from icetrace.analysis import analyze
    from icetrace.plots.ladder import plot_ladder, plot_timeline

    analysis = analyze(args.capture, sdp=args.sdp, logs=args.log)
    path = (plot_ladder if args.kind == "ladder" else plot_timeline)(analysis, args.out)
    out.write(f"{path}\n")
    return 0
