"""One line about an unexpected exception, so a bug in icetrace never reads as a verdict on the input.

The line names the exception, the innermost frame inside icetrace (or its dissectors) where it
happened, and where to report it; the full traceback is for `--traceback`.
"""

from __future__ import annotations

import traceback
from pathlib import Path

# icetrace/ and dissectors/ sit side by side, in a checkout and in site-packages alike.
_ROOT = Path(__file__).resolve().parent.parent
_PACKAGES = ("icetrace", "dissectors")

REPORT_TO = "the icetrace issue tracker, with the command line and the output of --traceback"


def where(exc: BaseException) -> str | None:
    """`icetrace/x/y.py:LINE` of the innermost icetrace frame the exception passed through."""
    found = None
    for summary in traceback.extract_tb(exc.__traceback__):
        try:
            relative = Path(summary.filename).resolve().relative_to(_ROOT)
        except ValueError:
            continue
        if relative.parts and relative.parts[0] in _PACKAGES:
            found = f"{relative.as_posix()}:{summary.lineno}"
    return found


def describe(exc: BaseException) -> str:
    """`Type: message at file:line`, on one line; a multi-line message keeps its first and last lines."""
    kind = type(exc)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    message = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}" if lines else ""
    text = f"{name}: {message}" if message else name
    place = where(exc)
    return f"{text} at {place}" if place else text


def crash_line(exc: BaseException, during: str | None = None) -> str:
    """The single stderr line of a crash; `during` names the input being worked on, if any."""
    context = f" in {during}" if during else ""
    return (
        f"icetrace: internal error{context}: {describe(exc)}; "
        f"this is a bug in icetrace, please report it to {REPORT_TO}"
    )
