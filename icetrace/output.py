"""The commands' output streams: what a capture says is shown, never acted on, and a failed write is one
OutputError, never a traceback.

Strings from a capture (STUN reasons, candidate FQDNs, Call-IDs, file names) may hold control
characters. Written raw, an escape sequence retitles the terminal or plants a hyperlink (OSC 8),
a lone surrogate (from JSON's `\\ud800`) fails the UTF-8 encoder half-way through a report, and a
control character makes XML not well-formed. `shown` writes every such character as a Python-style
escape (`\\x1b`, `\\u202e`, `\\ud800`); tab and newline stay. The streams the commands write to pass
all their text through it, so no capture string reaches a terminal raw, whichever path printed it.
The only control text that passes is icetrace's own: the colours `report.colour` paints (on a
colour terminal) and a write of a lone carriage return (a progress line redrawing itself).

A full disk (`> /dev/full`) or an I/O error fails a write, or the flush at exit. The first failure
is raised as OutputError; the stream's descriptor is then pointed at /dev/null so that Python's own
flush at exit has nowhere to fail a second time. A closed pipe (BrokenPipeError) is left to the caller.

A file a command writes (a plot, the HTML page, the JSON document, an annotated copy) is whole or
absent: `whole_or_absent` removes what was written when writing fails part-way, so that no
half-written page or image is taken for a result.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import stat
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import IO, Any, NoReturn, TextIO

from icetrace.errors import OutputError

# C0 but tab and newline, DEL and C1, bidirectional embeddings, overrides and isolates (they reorder
# what follows them on the line), lone surrogates, and the two noncharacters XML refuses
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff"
_UNSAFE_RE = re.compile(f"[{_UNSAFE}]")
_SURROGATES_RE = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: str) -> str:
    """`text` with each character a terminal, an encoder or an XML parser would act on escaped."""
    return _UNSAFE_RE.sub(_escape, text)


def encodable(text: str) -> str:
    """`text` with only its lone surrogates escaped: data kept as it was, but storable as UTF-8."""
    return _SURROGATES_RE.sub(_escape, text)


def drawn_text(text: str) -> str:
    """`shown`, and plain text for matplotlib: a `$` is drawn as itself, never opens mathtext."""
    return shown(text).replace("$", r"\$")


def utc_text(seconds: float) -> str:
    """An epoch time as `2026-01-01 00:00:00.000 UTC`; one no calendar holds (a damaged or
    hostile timestamp past the year 9999, or not finite) as its number of seconds."""
    try:
        when = datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return f"{seconds:.3f} s after 1970-01-01 UTC" if math.isfinite(seconds) else f"{seconds} s (no time)"
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def _keeping(kept: Iterable[str]) -> re.Pattern[str]:
    """Unsafe characters, except inside the whole sequences `kept` (tried first, passed unchanged)."""
    alternatives = "|".join(re.escape(k) for k in sorted(kept, key=len, reverse=True))
    return re.compile(f"(?P<kept>{alternatives})|[{_UNSAFE}]" if alternatives else f"[{_UNSAFE}]")


def _escape_unkept(match: re.Match[str]) -> str:
    return match.group() if match.lastgroup == "kept" else _escape(match)


class ShownOutput(io.TextIOBase):
    """A text stream that shows what it is given (`shown`), passing only `kept` sequences as they are."""

    def __init__(self, stream: TextIO, kept: Iterable[str] = ()) -> None:
        super().__init__()
        self._stream = stream
        self._unsafe = _keeping(kept)

    def write(self, text: str) -> int:
        safe = text if text == "\r" else self._unsafe.sub(_escape_unkept, text)
        self._stream.write(safe)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def writable(self) -> bool:
        return True


class GuardedOutput(ShownOutput):
    """A ShownOutput that turns OSError on write or flush into OutputError."""

    def write(self, text: str) -> int:
        try:
            return super().write(text)
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

    def _failed(self, exc: OSError) -> NoReturn:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass  # not a file descriptor (a StringIO in tests): nothing flushes it at exit
        raise OutputError(f"cannot write the output: {exc.strerror or exc}") from None


@contextlib.contextmanager
def whole_or_absent(path: str | os.PathLike[str], binary: bool = False) -> Iterator[IO[Any]]:
    """`path` opened for writing (text as UTF-8); when the body fails (a bug, a full disk, Ctrl-C)
    the regular file it was writing is removed before the failure goes on. A path that is no
    regular file (/dev/stdout, a pipe) is written as given and left alone."""
    fh: IO[Any] = open(path, "wb") if binary else open(path, "w", encoding="utf-8")  # noqa: SIM115
    regular = stat.S_ISREG(os.fstat(fh.fileno()).st_mode)
    try:
        with fh:  # its flush at close may be what fails
            yield fh
    except BaseException:
        if regular:
            with contextlib.suppress(OSError):
                os.unlink(path)
        raise
