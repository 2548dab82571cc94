"""WebSocket frames (RFC 6455 §5) -> whole text messages, one direction of a connection.

Client frames are masked (§5.3); a message may be fragmented over frames (§5.4) and frames over
TCP segments. Control frames (close, ping, pong) are skipped. permessage-deflate (RFC 7692) is
inflated when the handshake negotiated it, since browsers and common servers turn it on by default.
A frame that breaks the framing (reserved opcode, a control frame over 125 bytes, a 64-bit length
with its top bit set) ends the reading of that direction: nothing after it can be framed again.
Messages over `MAX_MESSAGE` bytes are skipped without being buffered.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

MAX_MESSAGE = 1 << 20
_DATA_OPCODES = (0, 1, 2)
_CONTROL_OPCODES = (8, 9, 10)


class WebSocketError(ValueError):
    """The byte stream is not (or no longer) WebSocket framing."""


@dataclass(slots=True)
class WebSocketReader:
    """Feed one direction's bytes; get (opcode, payload) of every complete data message."""

    deflate: bool = False  # permessage-deflate negotiated
    keep_context: bool = True  # the sender did not promise no_context_takeover
    buffer: bytearray = field(default_factory=bytearray)
    parts: list[bytes] = field(default_factory=list)
    size: int = 0
    opcode: int = 0
    compressed: bool = False
    skipping: int = 0  # payload bytes of an oversized frame still to drop
    oversized: bool = False  # the message being assembled went over MAX_MESSAGE
    broken: bool = False
    _inflater: zlib._Decompress | None = None

    def feed(self, data: bytes) -> tuple[list[tuple[int, bytes]], list[str]]:
        """Complete messages and problems (a problem also stops the reader)."""
        if self.broken:
            return [], []
        if self.skipping:
            drop = min(self.skipping, len(data))
            self.skipping -= drop
            data = data[drop:]
        self.buffer += data
        out: list[tuple[int, bytes]] = []
        problems: list[str] = []
        try:
            while self._one_frame(out, problems):
                pass
        except WebSocketError as exc:
            self.broken = True
            self.buffer.clear()
            problems.append(str(exc))
        return out, problems

    def _one_frame(self, out: list[tuple[int, bytes]], problems: list[str]) -> bool:
        buf = self.buffer
        if self.skipping:
            return False
        header = _frame_header(buf)
        if header is None:
            return False
        b0, opcode, length, pos, key = header
        fin = b0 & 0x80
        if opcode in _DATA_OPCODES and (length > MAX_MESSAGE or self.size + length > MAX_MESSAGE):
            return self._skip_oversized(length, pos, bool(fin), problems)
        if len(buf) < pos + length:
            return False
        payload = bytes(buf[pos : pos + length])
        del buf[: pos + length]
        if key:
            payload = _unmask(payload, key)
        if opcode in _CONTROL_OPCODES:
            return True
        if opcode != 0:  # first frame of a message
            self.opcode, self.compressed = opcode, bool(b0 & 0x40) and self.deflate
            self.parts.clear()
            self.size = 0
        if not self.oversized:
            self.parts.append(payload)
            self.size += len(payload)
        if fin:
            if not self.oversized:
                joined = b"".join(self.parts)
                message = self._inflate(joined, problems) if self.compressed else joined
                if message is not None:
                    out.append((self.opcode, message))
            self.parts.clear()
            self.size = 0
            self.oversized = False
        return True

    def _skip_oversized(self, length: int, pos: int, fin: bool, problems: list[str]) -> bool:
        """Drop a frame of a message over MAX_MESSAGE, and what is buffered of the message."""
        buf = self.buffer
        if not self.oversized:
            problems.append(f"WebSocket message over {MAX_MESSAGE} bytes: skipped")
        self.oversized = True
        self.parts.clear()
        self.size = 0
        available = len(buf) - pos
        self.skipping = max(0, length - available)
        del buf[: pos + min(length, available)]
        if fin:
            self.oversized = False
        return not self.skipping

    def _inflate(self, data: bytes, problems: list[str]) -> bytes | None:
        """RFC 7692 §7.2.2: append 00 00 FF FF and inflate; the window carries over between messages
        unless the sender's no_context_takeover was negotiated."""
        if self._inflater is None or not self.keep_context:
            self._inflater = zlib.decompressobj(-15)
        try:
            out = self._inflater.decompress(data + b"\x00\x00\xff\xff", MAX_MESSAGE)
        except zlib.error as exc:
            problems.append(f"WebSocket permessage-deflate message does not inflate: {exc}")
            self._inflater = None
            return None
        if self._inflater.unconsumed_tail:
            problems.append(f"WebSocket message inflates to over {MAX_MESSAGE} bytes: skipped")
            self._inflater = None
            return None
        return out


def _unmask(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    if not n:
        return payload
    mask = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(n, "big")


def _frame_header(buf: bytearray) -> tuple[int, int, int, int, bytes] | None:
    """(first byte, opcode, payload length, payload offset, masking key) of the frame at the front
    of `buf`, or None while its header is cut; raises WebSocketError on a malformed header."""
    if len(buf) < 2:
        return None
    b0, b1 = buf[0], buf[1]
    fin, opcode, masked, length = b0 & 0x80, b0 & 0x0F, b1 & 0x80, b1 & 0x7F
    if opcode not in _DATA_OPCODES and opcode not in _CONTROL_OPCODES:
        raise WebSocketError(f"WebSocket frame with reserved opcode {opcode}")
    pos = 2
    if length == 126:
        if len(buf) < 4:
            return None
        length, pos = int.from_bytes(buf[2:4], "big"), 4
    elif length == 127:
        if len(buf) < 10:
            return None
        length, pos = int.from_bytes(buf[2:10], "big"), 10
        if length >> 63:
            raise WebSocketError("WebSocket frame length with its most significant bit set (RFC 6455 §5.2)")
    if opcode in _CONTROL_OPCODES and (length > 125 or not fin):
        raise WebSocketError(f"WebSocket control frame (opcode {opcode}) of {length} bytes or fragmented")
    key = b""
    if masked:
        if len(buf) < pos + 4:
            return None
        key, pos = bytes(buf[pos : pos + 4]), pos + 4
    return b0, opcode, length, pos, key
