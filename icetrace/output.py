"""The commands' standard output: a failed write is one OutputError, never a traceback.

A full disk (`> /dev/full`) or an I/O error fails a write, or the flush at exit. The first failure
is raised as OutputError; the stream's descriptor is then pointed at /dev/null so that Python's own
flush at exit has nowhere to fail a second time. A closed pipe (BrokenPipeError) is left to the caller.
"""

from __future__ import annotations

import io
import os
from typing import NoReturn, TextIO

from icetrace.errors import OutputError


class GuardedOutput(io.TextIOBase):
    """A text stream that turns OSError on write or flush into OutputError."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            self._failed(exc)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            self._failed(exc)

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def writable(self) -> bool:
        return True

    def _failed(self, exc: OSError) -> NoReturn:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass  # not a file descriptor (a StringIO in tests): nothing flushes it at exit
        raise OutputError(f"cannot write the output: {exc.strerror or exc}") from None
