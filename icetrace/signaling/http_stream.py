"""HTTP/1.1 messages (RFC 9112) from one direction of a reassembled TCP connection.

A body is framed by Content-Length or chunked transfer coding (§6-7); a response with neither
runs to the end of the connection. Bodies over `MAX_BODY` bytes are counted past, never buffered.
A request with `Upgrade: websocket` and its `101 Switching Protocols` answer hand the connection
over to WebSocket framing (RFC 6455 §4): the caller switches both directions.

Every line the reader waits for (the head, a chunk size, the trailer) is bounded and searched
once: a segment that does not complete it resumes the search where the last one stopped.
A Content-Length or status code that is not a plain ASCII number ends the reading of that
direction with a problem: the message boundaries after it are unknown (RFC 9112 §6.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dissectors.start_line import looks_like_http
from icetrace.protocol_number import ascii_number

__all__ = ["MAX_BODY", "HttpMessage", "HttpReader", "looks_like_http"]

MAX_BODY = 1 << 20
MAX_HEAD = 64 << 10
MAX_CHUNK_LINE = 1024  # a chunk size with its extensions


@dataclass(slots=True, kw_only=True)
class HttpMessage:
    start_line: str
    headers: list[tuple[str, str]]
    body: bytes
    frame: int
    time: float

    @property
    def is_request(self) -> bool:
        return not self.start_line.startswith("HTTP/")

    @property
    def status(self) -> int | None:
        parts = self.start_line.split()
        return ascii_number(parts[1], 3) if not self.is_request and len(parts) > 1 else None

    def header(self, name: str) -> str:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), "")

    @property
    def upgrades_to_websocket(self) -> bool:
        return "websocket" in self.header("upgrade").lower()


@dataclass(slots=True)
class HttpReader:
    """Feed one direction's in-order bytes; get complete messages and problems."""

    buffer: bytearray = field(default_factory=bytearray)
    head: HttpMessage | None = None  # message whose body is being read
    remaining: int = 0  # Content-Length bytes still to come
    chunked: bool = False
    chunk_left: int = 0  # bytes left in the current chunk (chunked coding)
    in_trailer: bool = False
    until_close: bool = False
    skipping: bool = False  # body too large: its bytes are counted, not kept
    kept: int = 0
    parts: list[bytes] = field(default_factory=list)
    broken: bool = False
    last_request_method: str = ""  # the latest request the other direction carried (a HEAD's answer has no body)
    scanned: int = 0  # bytes at the buffer's front already searched for the line end being waited for

    def feed(self, data: bytes, frame: int, time: float) -> tuple[list[HttpMessage], list[str]]:
        out: list[HttpMessage] = []
        problems: list[str] = []
        if self.broken:
            return out, problems
        self.buffer += data
        while self._step(out, problems, frame, time):
            pass
        return out, problems

    def finish(self) -> list[HttpMessage]:
        """A body read until the connection closed (the capture's end closes it too)."""
        if self.head is not None and self.until_close and not self.skipping:
            self._keep(self.buffer, [])
            self.head.body = b"" if self.skipping else b"".join(self.parts)
            self.parts.clear()
            self.buffer.clear()
            head, self.head = self.head, None
            return [head]
        return []

    def _step(self, out: list[HttpMessage], problems: list[str], frame: int, time: float) -> bool:
        if self.head is None:
            return self._read_head(problems, out, frame, time)
        if self.until_close:
            self._keep(self.buffer, problems)
            self.buffer.clear()
            return False
        if self.chunked:
            return self._read_chunked(out, problems, frame, time)
        take = min(self.remaining, len(self.buffer))
        self._keep(self.buffer[:take], problems)
        del self.buffer[:take]
        self.remaining -= take
        if self.remaining:
            return False
        self._done(out, frame, time)
        return True

    def _read_head(self, problems: list[str], out: list[HttpMessage], frame: int, time: float) -> bool:
        while self.buffer[:2] == b"\r\n":
            del self.buffer[:2]
            self.scanned = 0
        end = self._line_end(b"\r\n\r\n", MAX_HEAD, "HTTP header", problems)
        if end < 0:
            return False
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        del self.buffer[: end + 4]
        headers = []
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if colon:
                headers.append((name.strip().lower(), value.strip()))
        message = HttpMessage(start_line=lines[0], headers=headers, body=b"", frame=frame, time=time)
        self.head, self.kept, self.skipping = message, 0, False
        self.parts.clear()
        self.chunked = self.until_close = False
        status = message.status
        if not message.is_request and status is None:
            return self._stop(f"HTTP status line {lines[0][:40]!r} has no 3-digit status code", problems)
        if status is not None and (status < 200 or status in (204, 304) or self.last_request_method == "HEAD"):
            self._done(out, frame, time)
            return status != 101  # after 101 the bytes are the new protocol's
        if "chunked" in message.header("transfer-encoding").lower():
            self.chunked, self.chunk_left, self.in_trailer = True, -1, False
            return True
        length = message.header("content-length")
        if length:
            remaining = ascii_number(length)
            if remaining is None:
                return self._stop(f"HTTP Content-Length {length[:40]!r} is not a number", problems)
            self.remaining = remaining
            if self.remaining > MAX_BODY:
                self.skipping = True
                problems.append(f"HTTP body of {self.remaining} bytes (over {MAX_BODY}): skipped")
            return True
        if message.is_request:
            self._done(out, frame, time)
            return not message.upgrades_to_websocket
        self.until_close = True
        return True

    def _read_chunked(self, out: list[HttpMessage], problems: list[str], frame: int, time: float) -> bool:
        buf = self.buffer
        if self.in_trailer:
            end = self._line_end(b"\r\n", MAX_HEAD, "HTTP trailer field", problems)
            if end < 0:
                return False
            del buf[: end + 2]
            if end == 0:
                self._done(out, frame, time)
            return True
        if self.chunk_left < 0:
            end = self._line_end(b"\r\n", MAX_CHUNK_LINE, "HTTP chunk size line", problems)
            if end < 0:
                return False
            size_text = bytes(buf[:end]).split(b";")[0].strip()
            del buf[: end + 2]
            size = _hex_number(size_text)
            if size is None:
                return self._stop(f"HTTP chunk size {size_text[:20]!r} is not hexadecimal", problems)
            if size == 0:
                self.in_trailer = True
                return True
            self.chunk_left = size + 2  # the chunk and its CRLF
            return True
        take = min(self.chunk_left, len(buf))
        data = buf[:take]
        if self.chunk_left - take < 2:  # part of the trailing CRLF is in this slice
            data = data[: max(0, self.chunk_left - 2)]
        self._keep(data, problems)
        del buf[:take]
        self.chunk_left -= take
        if self.chunk_left == 0:
            self.chunk_left = -1
            return True
        return False

    def _line_end(self, marker: bytes, limit: int, what: str, problems: list[str]) -> int:
        """Where `marker` starts in the buffer, or -1 while it has not come; each byte is searched once.
        Past `limit` bytes without it the direction is no longer read."""
        buf = self.buffer
        end = buf.find(marker, max(0, self.scanned - len(marker) + 1))
        if end >= 0:
            self.scanned = 0
            return end
        self.scanned = len(buf)
        if len(buf) > limit:
            self._stop(f"{what} over {limit} bytes", problems)
        return -1

    def _stop(self, why: str, problems: list[str]) -> bool:
        """Framing is lost: say why, and read nothing more from this direction."""
        problems.append(f"{why}: connection no longer read")
        self.broken = True
        self.buffer.clear()
        self.scanned = 0
        self.head = None
        self.parts.clear()
        return False

    def _keep(self, data: bytes | bytearray, problems: list[str]) -> None:
        if self.skipping or self.head is None:
            return
        if self.kept + len(data) > MAX_BODY:
            self.skipping = True
            problems.append(f"HTTP body over {MAX_BODY} bytes: skipped")
            self.parts.clear()
            return
        self.parts.append(bytes(data))
        self.kept += len(data)

    def _done(self, out: list[HttpMessage], frame: int, time: float) -> None:
        head, self.head = self.head, None
        if head is None:
            return
        head.frame, head.time = frame, time
        head.body = b"" if self.skipping else b"".join(self.parts)
        self.parts.clear()
        out.append(head)
        self.skipping = False


_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


def _hex_number(text: bytes) -> int | None:
    """A chunk size (RFC 9112 §7.1: 1*HEXDIG), ASCII hex digits only and at most 16 of them."""
    if not text or len(text) > 16 or not _HEX_DIGITS.issuperset(text):
        return None
    return int(text, 16)
