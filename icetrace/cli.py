"""The `icetrace` command line: a thin shell around the library."""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TextIO, cast

from icetrace.collector_pace import fewer_collections
from icetrace.crash import crash_line, describe
from icetrace.errors import IcetraceError
from icetrace.exit_status import ExitStatus
from icetrace.output import GuardedOutput, ShownOutput
from icetrace.report.colour import SEQUENCES, wanted
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
    raw_out = stdout if stdout is not None else sys.stdout
    raw_err = stderr if stderr is not None else sys.stderr
    # capture strings are shown escaped; only the report's own colours pass, where colour is wanted
    out = GuardedOutput(raw_out, SEQUENCES if wanted(raw_out) else ())
    err = cast(TextIO, ShownOutput(raw_err, SEQUENCES if wanted(raw_err) else ()))
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help/--version
        return int(exc.code or 0)
    previous_hook = sys.unraisablehook
    if not args.traceback:
        sys.unraisablehook = _ignored_error_shown(err)
    try:
        return _command(parser, args, out, err)
    finally:
        sys.unraisablehook = previous_hook


def _ignored_error_shown(err: TextIO) -> Callable[[Any], None]:
    """Python's hook for an exception it cannot raise (in a finaliser, or a generator closed while
    memory ran out): one line, not a raw traceback (`--traceback` keeps Python's own)."""

    def hook(unraisable: Any) -> None:
        exc = unraisable.exc_value
        if exc is not None:
            err.write(f"icetrace: warning: an error while cleaning up was ignored: {describe(exc)}\n")

    return hook


def _command(parser: argparse.ArgumentParser, args: argparse.Namespace, out: GuardedOutput, err: TextIO) -> int:
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
