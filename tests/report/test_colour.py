"""Colour in the terminal report: on a terminal, by verdict severity, pair state and outcome; none
when piped or when NO_COLOR is set."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys

from icetrace.cli import main
from tests import testdata

ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _report(out: io.StringIO) -> str:
    assert main(["analyze", str(testdata.SEED_CALL)], stdout=out, stderr=io.StringIO()) == 0
    return out.getvalue()


def test_colour_on_a_terminal_marks_severity_state_and_outcome(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    text = _report(Terminal())
    assert "outcome \x1b[32mCONNECTED\x1b[0m" in text
    # the seed call's host pair joins private addresses of two networks: it could never work, info in cyan
    assert "\x1b[36m[D8] info:\x1b[0m" in text
    assert "\x1b[31mfailed     \x1b[0m" in text and "\x1b[32msucceeded  \x1b[0m" in text
    # the same report as piped, once the colour is taken out
    assert ESCAPE.sub("", text) == _report(io.StringIO())


def test_no_colour_when_piped_or_asked_not_to(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    assert "\x1b[" not in _report(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in _report(Terminal())


def test_a_real_terminal_gets_colour():
    """Through a pseudo-terminal, as a user's shell runs it."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm"}
    command = [sys.executable, "-m", "icetrace", "analyze", str(testdata.SEED_CALL)]
    process = subprocess.Popen(command, stdout=follower, stderr=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=60) == 0
    text = b"".join(chunks).decode()
    assert "\x1b[32mCONNECTED\x1b[0m" in text
    piped = subprocess.run(command, capture_output=True, text=True, env=env, check=True, timeout=60)
    assert "\x1b[" not in piped.stdout and "CONNECTED" in piped.stdout
