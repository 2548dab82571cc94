"""A pyshark FileCapture (or a path and a display filter) as input to the native pipeline.

pyshark runs tshark with the user's settings (display filter, decode-as, preferences such as
TLS keys); icetrace asks that tshark which frames match and reads only those itself, from a
pcapng copy in which the other frames keep their number and time but no bytes. So frame
numbers stay the original capture's, and the decoding is icetrace's own.

Asking tshark for the matching frame numbers (`-T fields -e frame.number` with pyshark's
parameters) is much faster than iterating pyshark's packets, which parses tshark's PDML for
every packet; both give the same frames.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from icetrace.capture.pcapng_writer import write_annotated
from icetrace.capture.tshark_engine import TIMEOUT, _tshark
from icetrace.errors import InputError


def is_pyshark_capture(value: object) -> bool:
    """A pyshark FileCapture, told without importing pyshark (it starts an event loop policy)."""
    return type(value).__module__.startswith("pyshark.") and hasattr(value, "input_filepath")


def capture_path(value: Any) -> Path:
    """The file a capture argument names: a path, or a pyshark FileCapture's input file."""
    if is_pyshark_capture(value):
        return Path(value.input_filepath)
    if type(value).__module__.startswith("pyshark."):
        raise InputError(f"{type(value).__name__}: only a pyshark FileCapture (a capture file) can be analysed")
    return Path(value)


def tshark_arguments(capture: Any) -> list[str]:
    """The tshark options pyshark would run this capture with (filter, decode-as, preferences),
    without its output format options and its -r."""
    params = list(capture.get_parameters())
    if "-r" in params:
        at = params.index("-r")
        del params[at : at + 2]
    return params


def matching_frames(path: str | Path, arguments: list[str]) -> set[int]:
    """Frame numbers tshark shows for `path` with these options."""
    proc = subprocess.run(
        [_tshark(), "-n", "-r", str(path), *arguments, "-T", "fields", "-e", "frame.number"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    if proc.returncode != 0:
        message = (proc.stderr.strip().splitlines() or ["tshark could not read it"])[-1]
        raise InputError(f"{path}: {message}")
    return {int(line) for line in proc.stdout.split()}


@contextmanager
def filtered(path: str | Path, arguments: list[str]) -> Iterator[Path]:
    """A temporary pcapng of `path` in which only the frames tshark shows with `arguments` carry bytes."""
    keep = matching_frames(path, arguments)
    with tempfile.TemporaryDirectory(prefix="icetrace-") as tmp:
        out = Path(tmp) / "filtered.pcapng"
        write_annotated(path, out, {}, keep=keep)
        yield out


def tls_keylog(arguments: list[str]) -> str | None:
    """The TLS key log a pyshark capture was given as a preference (override_prefs), if any."""
    for option, value in zip(arguments, arguments[1:]):
        if option == "-o" and value.startswith("tls.keylog_file:"):
            return value.partition(":")[2]
    return None


def with_filter(arguments: list[str], display_filter: str | None) -> list[str]:
    """The options with `display_filter` added to (and-ed with) any display filter already there."""
    if not display_filter:
        return arguments
    if "-Y" not in arguments:
        return [*arguments, "-Y", display_filter]
    at = arguments.index("-Y") + 1
    return [*arguments[:at], f"({arguments[at]}) && ({display_filter})", *arguments[at + 1 :]]


@contextmanager
def readable(path: str | Path, arguments: list[str]) -> Iterator[Path]:
    """The file the native readers should read: `path` itself, or a filtered copy when the
    options carry a display filter (other options do not change which frames exist)."""
    if "-Y" not in arguments:
        yield Path(path)
        return
    with filtered(path, arguments) as copy:
        yield copy
