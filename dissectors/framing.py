"""Split reassembled TCP byte streams into STUN-family frames.

Plain RFC 5389/8656 streams (STUN self-delimits, ChannelData padded to 4), RFC
4571 length framing (ICE-TCP, RFC 6544; MS-ICE2 over TCP), and the MS-TURN TCP
framing of [MS-TURN] 2.1.4 (0x02 control / 0x03 data, reserved, length).
Each splitter returns the complete frames and how many bytes it consumed, so the
caller keeps the rest for the next segment.
"""

from __future__ import annotations

import struct
from collections.abc import Collection

_COOKIE = b"\x21\x12\xa4\x42"
_MS_PSEUDO_TLS_CLIENT = b"\x16\x03\x01\x00\x2d\x01\x00\x00\x29\x03\x01"
_MS_PSEUDO_TLS_SERVER = b"\x16\x03\x01\x00\x4e\x02\x00\x00\x46\x03\x01"


def detect_tcp_framing(first: bytes) -> str | None:
    """'stun', 'rfc4571', 'ms-turn-tcp', 'ms-pseudo-tls' or None from a stream's first bytes."""
    if len(first) >= 12 and first[0] in (2, 3) and first[1] == 0 and first[8:12] == _COOKIE:
        return "ms-turn-tcp"
    if len(first) >= 8 and first[0] < 0x40 and first[4:8] == _COOKIE:
        return "stun"
    if len(first) >= 10 and first[2] < 0x40 and first[6:10] == _COOKIE:
        return "rfc4571"
    if first[:11] in (_MS_PSEUDO_TLS_CLIENT, _MS_PSEUDO_TLS_SERVER):
        return "ms-pseudo-tls"
    if len(first) >= 4 and first[0] in (2, 3) and first[1] == 0:
        # MS-TURN framing around a cookie-less (TURN-08) message: check the inner length
        inner = struct.unpack_from("!H", first, 2)[0]
        if len(first) >= 8 and first[4] < 0x40 and 20 + struct.unpack_from("!H", first, 6)[0] == inner:
            return "ms-turn-tcp"
    return None


def split_stun_stream(buf: bytes) -> tuple[list[bytes], int]:
    """STUN messages and ChannelData frames back to back (RFC 8656 12.5 pads ChannelData)."""
    frames: list[bytes] = []
    pos = 0
    n = len(buf)
    while pos + 4 <= n:
        b0 = buf[pos]
        length = struct.unpack_from("!H", buf, pos + 2)[0]
        if b0 < 0x40:
            size = 20 + length
        elif 0x40 <= b0 <= 0x7F or (b0 == 0xFF and buf[pos + 1] == 0x10):
            size = 4 + length
            size += -size % 4
        else:
            break  # not a frame boundary: the caller decides how to resync
        if pos + size > n:
            break
        frames.append(bytes(buf[pos : pos + size]))
        pos += size
    return frames, pos


def split_rfc4571(buf: bytes) -> tuple[list[bytes], int]:
    """RFC 4571: a 16-bit length before every packet (STUN, RTP and RTCP alike)."""
    frames: list[bytes] = []
    pos = 0
    n = len(buf)
    while pos + 2 <= n:
        length = struct.unpack_from("!H", buf, pos)[0]
        if pos + 2 + length > n:
            break
        frames.append(bytes(buf[pos + 2 : pos + 2 + length]))
        pos += 2 + length
    return frames, pos


def split_msturn_tcp(buf: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """[MS-TURN] 2.1.4: (frame type 2=control/3=data, payload) for each framed message."""
    frames: list[tuple[int, bytes]] = []
    pos = 0
    n = len(buf)
    while pos + 4 <= n:
        kind = buf[pos]
        if kind not in (2, 3):
            break
        length = struct.unpack_from("!H", buf, pos + 2)[0]
        if pos + 4 + length > n:
            break
        frames.append((kind, bytes(buf[pos + 4 : pos + 4 + length])))
        pos += 4 + length
    return frames, pos


def next_frame_size(buf: bytes | bytearray, framing: str) -> int:
    """Bytes the frame at the front of `buf` takes, from its header (0 while the header is cut
    or is no frame header): until that many are buffered, splitting again finds nothing."""
    if framing == "rfc4571":
        return 2 + ((buf[0] << 8) | buf[1]) if len(buf) >= 2 else 0
    if len(buf) < 4:
        return 0
    length = (buf[2] << 8) | buf[3]
    if framing == "ms-turn-tcp":
        return 4 + length if buf[0] in (2, 3) else 0
    if buf[0] < 0x40:
        return 20 + length
    if buf[0] <= 0x7F or (buf[0] == 0xFF and buf[1] == 0x10):
        return 4 + length + (-(4 + length) % 4)
    return 0


RESYNC_KEEP = 11  # bytes kept while resynchronising: a frame header split across segments
RESYNC_SEARCHED = 12  # the last bytes of a search may start a header it cannot see whole yet


def resync_offset(buf: bytes | bytearray, framing: str, searched: int = 0) -> int | None:
    """After bytes lost from a stream, where the first plausible frame starts in `buf`, or None
    (no start lies before `searched`: a caller that keeps the buffer searches each byte once).

    Plausible: a STUN header with the magic cookie and a length that is a multiple of 4, inside
    the framing's header when it has one (RFC 4571 length, [MS-TURN] 2.1.4 type 2 and length)
    whose length agrees with the message. Cookie-less (TURN-08) messages under the MS-TURN
    framing are recognised by the two lengths agreeing. ChannelData carries nothing to check,
    so a stream resynchronises on the next STUN message."""
    n = len(buf)
    if framing == "ms-turn-tcp":
        pos = buf.find(b"\x02\x00", searched)
        while 0 <= pos and pos + 8 <= n:
            outer = (buf[pos + 2] << 8) | buf[pos + 3]
            inner = (buf[pos + 6] << 8) | buf[pos + 7]
            if buf[pos + 4] < 0x40 and inner % 4 == 0 and outer == 20 + inner:
                return pos
            pos = buf.find(b"\x02\x00", pos + 1)
        return None
    header = 2 if framing == "rfc4571" else 0
    pos = buf.find(_COOKIE, searched + 4 + header)
    while pos >= 0:
        start = pos - 4 - header
        if start >= 0 and buf[start + header] < 0x40:
            length = (buf[start + header + 2] << 8) | buf[start + header + 3]
            if length % 4 == 0 and (not header or (buf[start] << 8) | buf[start + 1] == 20 + length):
                return start
        pos = buf.find(_COOKIE, pos + 1)
    return None


MAX_RESYNC_CHANNELS = 16  # known channel numbers looked for after a gap (the latest bound)


def resync_point(
    buf: bytes | bytearray, framing: str, channels: Collection[int] = (), searched: int = 0
) -> tuple[int | None, int, int]:
    """After bytes lost from a stream: (start, keep, need). `start` is the first plausible frame
    start in `buf`, or None; then `buf[keep:]` must be kept (a start may still be found there) and
    nothing new can be decided before `buf[keep:]` holds `need` bytes. No STUN message starts
    before `searched` (the caller's earlier searches), so each byte is searched for one once.

    Besides `resync_offset`'s STUN messages, under plain STUN framing a ChannelData frame is a start
    when its channel is one of `channels` (bound, or seen on the stream before the gap: a channel
    number no agent uses matches one position in 65,536 by chance) and the frame after it starts
    plausibly too: a STUN header with the cookie, or ChannelData on one of `channels`. A TURN/TCP
    stream of media is mostly ChannelData: without this, everything up to the next STUN message
    (a refresh, minutes later) would go with the segment."""
    stun = resync_offset(buf, framing, searched)
    n = len(buf)
    if framing != "stun" or not channels:
        return stun, (stun if stun is not None else max(0, n - RESYNC_KEEP)), 0
    best = stun if stun is not None else n
    waiting, need = n, 0  # the earliest candidate that more bytes may still decide
    for channel in sorted(channels)[:MAX_RESYNC_CHANNELS]:
        mark = channel.to_bytes(2, "big")
        pos = buf.find(mark)
        while 0 <= pos < min(best, waiting):
            verdict, wanted = _channel_data_at(buf, pos, channels)
            if verdict:
                best = pos
                break
            if verdict is None:
                waiting, need = pos, wanted
                break
            pos = buf.find(mark, pos + 1)
    if waiting < best:
        return None, waiting, need - waiting
    if best < n:
        return best, best, 0
    return None, max(0, n - RESYNC_KEEP), 0


def _channel_data_at(buf: bytes | bytearray, pos: int, channels: Collection[int]) -> tuple[bool | None, int]:
    """Whether a ChannelData frame on a known channel at `pos` is followed by a plausible frame
    header (None, and the bytes needed to tell, while `buf` ends too early)."""
    n = len(buf)
    if pos + 4 > n:
        return None, pos + 4
    length = (buf[pos + 2] << 8) | buf[pos + 3]
    after = pos + 4 + length + (-(4 + length) % 4)
    if after + 4 > n:
        return None, after + 4
    if ((buf[after] << 8) | buf[after + 1]) in channels:
        return True, 0
    if buf[after] >= 0x40:
        return False, 0
    if after + 8 > n:
        return None, after + 8
    header_length = (buf[after + 2] << 8) | buf[after + 3]
    return buf[after + 4 : after + 8] == _COOKIE and header_length % 4 == 0, 0


def frame_msturn_tcp(kind: int, payload: bytes) -> bytes:
    """Wrap one message in the MS-TURN TCP framing header."""
    return struct.pack("!BBH", kind, 0, len(payload)) + payload


def frame_rfc4571(payload: bytes) -> bytes:
    return struct.pack("!H", len(payload)) + payload
