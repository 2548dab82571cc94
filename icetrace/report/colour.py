"""ANSI colour for the terminal report: on a terminal only, never when piped or when NO_COLOR is set.

NO_COLOR (https://no-color.org): any non-empty value turns colour off; TERM=dumb does too.
"""

from __future__ import annotations

import os
from typing import TextIO

RESET = "\033[0m"
CODES = {
    "red": "\033[31m",
    "green": "\033[32m",
    "yellow": "\033[33m",
    "cyan": "\033[36m",
    "bold": "\033[1m",
    "bold-red": "\033[1;31m",
    "dim": "\033[2m",
}
SEQUENCES = frozenset([RESET, *CODES.values()])  # all a Painter writes: icetrace.output lets these through
SEVERITY = {"error": "bold-red", "warning": "yellow", "info": "cyan"}
STATE = {"succeeded": "green", "failed": "red", "in-progress": "yellow"}
OUTCOME = {"CONNECTED": "green", "FAILED": "bold-red", "UNKNOWN": "yellow"}


def wanted(out: TextIO) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


class Painter:
    """Wraps text in a colour when enabled; the text's width is unchanged, so pad before painting."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def paint(self, text: str, style: str | None) -> str:
        if not self.enabled or style is None or style not in CODES:
            return text
        return f"{CODES[style]}{text}{RESET}"

    def severity(self, text: str, severity: str) -> str:
        return self.paint(text, SEVERITY.get(severity))

    def state(self, text: str, state: str) -> str:
        return self.paint(text, STATE.get(state))

    def outcome(self, text: str) -> str:
        return self.paint(text, OUTCOME.get(text.strip()))
