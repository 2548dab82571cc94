"""SIP messages (RFC 3261): start line, headers, body; stream framing; multipart bodies.

Compact header forms are expanded, folded header lines joined, and a TCP byte
stream is cut into messages by Content-Length (RFC 3261 §18.3).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from icetrace.protocol_number import ascii_number

COMPACT_FORMS = {
    "i": "call-id",
    "m": "contact",
    "e": "content-encoding",
    "l": "content-length",
    "c": "content-type",
    "f": "from",
    "s": "subject",
    "k": "supported",
    "t": "to",
    "v": "via",
    "o": "event",
    "r": "refer-to",
    "b": "referred-by",
    "x": "session-expires",
    "u": "allow-events",
    "a": "accept-contact",
    "j": "reject-contact",
    "d": "request-disposition",
}
_STATUS_LINE = re.compile(r"^SIP/2\.0\s+([0-9]{3})(?:\s+(.*))?$")
_REQUEST_LINE = re.compile(r"^([A-Za-z]+)\s+(\S+)\s+SIP/2\.0$")


class SipSyntaxError(ValueError):
    """Not a SIP message; the message says what was wrong."""


@dataclass(kw_only=True)
class SipMessage:
    """One parsed message. Header names are lower-case and long-form; values keep their order."""

    method: str | None  # request method, or None for a response
    uri: str | None
    status: int | None
    reason: str | None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key == name]

    @functools.cached_property
    def call_id(self) -> str:
        # read once: a long capture's calls are sorted by it again and again
        return (self.header("call-id") or "").strip()

    @property
    def cseq(self) -> tuple[int, str]:
        parts = (self.header("cseq") or "").split()
        number = ascii_number(parts[0], 10) if len(parts) >= 2 else None
        if number is not None:  # RFC 3261 §8.1.1.5: less than 2**31
            return number, parts[1].upper()
        return 0, ""

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").strip()

    def summary(self) -> str:
        return self.method or f"{self.status} {self.reason or ''}".strip()


def parse_sip(data: bytes) -> SipMessage:
    """Parse one complete message (head and body)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    text = head.decode("utf-8", errors="replace")
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or not lines[0].strip():
        raise SipSyntaxError("empty message")
    first = lines[0].strip()
    method = uri = reason = None
    status = None
    match = _STATUS_LINE.match(first)
    if match:
        status = int(match.group(1))
        reason = match.group(2) or ""
    else:
        req = _REQUEST_LINE.match(first)
        if not req:
            raise SipSyntaxError(f"not a SIP start line: {first[:80]!r}")
        method, uri = req.group(1).upper(), req.group(2)
    # each header's value as its parts, joined once: folding many lines stays linear
    parts: list[tuple[str, list[str]]] = []
    for line in lines[1:]:
        if not line.strip():
            continue
        if line[0] in " \t" and parts:  # RFC 3261 §7.3.1 folding
            parts[-1][1].append(line.strip())
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise SipSyntaxError(f"header line without a colon: {line[:80]!r}")
        key = name.strip().lower()
        parts.append((COMPACT_FORMS.get(key, key), [value.strip()]))
    headers = [(name, " ".join(values)) for name, values in parts]
    message = SipMessage(method=method, uri=uri, status=status, reason=reason, headers=headers, body=body)
    length = content_length(message.header("content-length"))
    if length is not None:
        message.body = body[:length]
    return message


def content_length(value: str | None) -> int | None:
    """A Content-Length value (RFC 3261 §20.14: 1*DIGIT), None when absent or not ASCII digits."""
    return None if value is None else ascii_number(value.strip())


def _body_length(head: bytes) -> int:
    for line in head.decode("latin-1").splitlines()[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() in ("content-length", "l"):
            return content_length(value) or 0
    return 0


def message_length(buf: bytes) -> int | None:
    """Bytes of the first complete message in `buf`, or None while it is incomplete."""
    end = buf.find(b"\r\n\r\n")
    sep = 4
    if end < 0:
        end = buf.find(b"\n\n")
        sep = 2
        if end < 0:
            return None
    total = end + sep + _body_length(buf[:end])
    return total if total <= len(buf) else None


MAX_SIP_STREAM_BUFFER = 1 << 20  # bytes of one unfinished message kept per direction


class SipStreamSplitter:
    """Cut a TCP byte stream into SIP messages (RFC 3261 §18.3: Content-Length frames them).

    Each byte is searched once for the end of the head and the message's size is known from
    then on, so a message arriving in many small segments costs its length, not its length
    times its segments. A message longer than MAX_SIP_STREAM_BUFFER is dropped."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self._scanned = 0  # bytes of the buffer searched for the end of the head
        self._total: int | None = None  # size of the message at the buffer's front, once its head is whole

    def feed(self, chunk: bytes) -> list[bytes]:
        self.buffer += chunk
        out: list[bytes] = []
        while True:
            if self._total is None:
                # skip keep-alive CRLFs between messages (RFC 5626 §4.4.1)
                while self.buffer[:2] == b"\r\n":
                    del self.buffer[:2]
                    self._scanned = 0
                self._total = self._head_total()
            if self._total is None or len(self.buffer) < self._total:
                if len(self.buffer) > MAX_SIP_STREAM_BUFFER:
                    self.clear()  # not SIP after all, or a lost segment: resynchronise
                return out
            out.append(bytes(self.buffer[: self._total]))
            del self.buffer[: self._total]
            self._total, self._scanned = None, 0

    def clear(self) -> None:
        self.buffer.clear()
        self._total, self._scanned = None, 0

    def _head_total(self) -> int | None:
        buf = self.buffer
        end, sep = buf.find(b"\r\n\r\n", max(0, self._scanned - 3)), 4
        if end < 0:
            end, sep = buf.find(b"\n\n", max(0, self._scanned - 1)), 2
        if end < 0:
            self._scanned = len(buf)
            return None
        return end + sep + _body_length(bytes(buf[:end]))


def _param(header: str, name: str) -> str | None:
    for part in header.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == name:
            return value.strip().strip('"')
    return None


def header_param(value: str | None, name: str) -> str | None:
    """A ;name=value parameter of a header value (tag, epid, boundary...)."""
    return _param(value, name.lower()) if value else None


@dataclass(kw_only=True)
class BodyPart:
    content_type: str
    disposition: str
    data: bytes


def split_body(message: SipMessage) -> list[BodyPart]:
    """The body, or each part of a multipart/mixed or multipart/alternative body (RFC 2046)."""
    ctype = message.content_type
    disposition = message.header("content-disposition") or ""
    if not ctype.lower().startswith("multipart/"):
        return [BodyPart(content_type=ctype, disposition=disposition, data=message.body)] if message.body else []
    boundary = header_param(ctype, "boundary")
    if not boundary:
        return []
    delimiter = b"--" + boundary.encode()
    parts: list[BodyPart] = []
    for chunk in message.body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.lstrip(b"\r\n")
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, data = chunk.partition(b"\n\n")
        part_ctype = part_disp = ""
        for line in head.decode("utf-8", errors="replace").splitlines():
            name, _, value = line.partition(":")
            key = name.strip().lower()
            if key in ("content-type", "c"):
                part_ctype = value.strip()
            elif key == "content-disposition":
                part_disp = value.strip()
        parts.append(BodyPart(content_type=part_ctype, disposition=part_disp, data=data.rstrip(b"\r\n")))
    return parts
