"""The `icetrace` command line: a thin shell around the library."""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence
from typing import TextIO

from icetrace.collector_pace import fewer_collections
from icetrace.crash import crash_line
from icetrace.errors import IcetraceError
from icetrace.exit_status import ExitStatus
from icetrace.output import GuardedOutput
from icetrace.version import __version__

# Subcommand modules under icetrace.commands, in the order `--help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "analyze",
    "watch",
    "messages",
    "candidates",
    "plot",
    "annotate",
    "check",
    "corpus",
    "decode",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="icetrace",
        description="Reconstruct ICE negotiations (STUN/TURN/MS-TURN, SIP/SDP) from captures.",
        epilog="exit status: 0 done, 1 `check` found a change, 2 unreadable input or bad arguments, "
        "3 internal error (a bug in icetrace; --traceback shows where)",
    )
    parser.add_argument("--version", action="version", version=f"icetrace {__version__}")
    parser.add_argument("--traceback", action="store_true", help="also print the full traceback of an error")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"icetrace.commands.{name}")
        module.register(subparsers)
    return parser


def main(
    argv: Sequence[str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    out = GuardedOutput(stdout if stdout is not None else sys.stdout)
    err = stderr if stderr is not None else sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help/--version
        return int(exc.code or 0)
    try:
        if args.command is None:
            parser.print_help(out)
            out.flush()
            return ExitStatus.OK
        with fewer_collections():  # an analysis holds many objects: the collector need not walk them often
            status: int = args.run(args, out, err)
        out.flush()
        return status
    except IcetraceError as exc:
        if args.traceback:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=err)
        err.write(f"icetrace: {exc}\n")
        return ExitStatus.BAD_INPUT
    except BrokenPipeError:
        return ExitStatus.OK
    except Exception as exc:  # a bug in icetrace: its own status, so it never reads as a finding
        if args.traceback:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=err)
        err.write(crash_line(exc) + "\n")
        return ExitStatus.INTERNAL
