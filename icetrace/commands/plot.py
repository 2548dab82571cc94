"""`icetrace plot CAPTURE... --out FILE [--kind ladder|timeline]`: draw the checks."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from icetrace.errors import InputError, OutputError
from icetrace.output import whole_or_absent

IMAGE_SUFFIXES = (".png", ".svg", ".pdf")


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

    target = image_path(args.out)  # before the analysis, which may take a while
    analysis = analyze(args.capture, sdp=args.sdp, logs=args.log)
    figure = analysis.plot_ladder() if args.kind == "ladder" else analysis.plot_timeline()
    try:
        with whole_or_absent(target, binary=True) as fh:
            figure.savefig(fh, format=target.suffix[1:].lower(), dpi=110)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write: {exc.strerror or exc}") from None
    out.write(f"{target}\n")
    return 0


def image_path(name: str) -> Path:
    """The --out file, refused when matplotlib would fail on it or silently write elsewhere (DIR.png)."""
    path = Path(name)
    if path.is_dir():
        raise InputError(f"--out {name}: is a directory; give a file name such as {path / 'ladder.png'}")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise InputError(f"--out {name}: the file name must end in .png, .svg or .pdf")
    if not path.parent.is_dir():
        raise InputError(f"--out {name}: no such directory: {path.parent}")
    return path
