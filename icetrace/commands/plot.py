"""`icetrace plot CAPTURE... --out FILE [--kind ladder|timeline]`: draw the checks."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from icetrace.errors import InputError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("plot", help="draw the check ladder or the per-pair timeline")
    parser.add_argument("capture", nargs="+")
    parser.add_argument("--sdp", action="append", default=[])
    parser.add_argument("--log", action="append", default=[])
    parser.add_argument("--kind", choices=("ladder", "timeline"), default="ladder")
    parser.add_argument("--out", required=True, help="output image (.png, .svg or .pdf)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from matplotlib.backend_bases import FigureCanvasBase

    from icetrace.analysis import analyze

    # checked before the analysis, which can take a while on a big capture
    suffix = Path(args.out).suffix.lower().lstrip(".")
    if suffix not in FigureCanvasBase.get_supported_filetypes():
        kind = f"unknown image type .{suffix}" if suffix else "no image type"
        raise InputError(f"{args.out}: {kind}; end the name with .png, .svg or .pdf")
    analysis = analyze(args.capture, sdp=args.sdp, logs=args.log)
    figure = analysis.plot_ladder() if args.kind == "ladder" else analysis.plot_timeline()
    try:
        figure.savefig(args.out, dpi=110)
    except OSError as exc:
        raise InputError(f"{args.out}: cannot write: {exc.strerror or exc}") from None
    out.write(f"{args.out}\n")
    return 0
