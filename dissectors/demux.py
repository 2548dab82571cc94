"""RFC 7983 demultiplexing by the first byte, and the ChannelData frame test: one owner.

Every path that sorts datagrams (the packet source, the numpy skimmer, the C skimmer in
icetrace/capture/_walk.c, which mirrors this table) asks here, so they give the same answer
for the same bytes. RFC 7983 §7: 0-3 STUN, 16-19 ZRTP, 20-63 DTLS, 64-79 TURN channel,
128-191 RTP/RTCP; everything else is unassigned (QUIC's RFC 9443 ranges included).
"""

from __future__ import annotations

TURN_PORTS = frozenset((3478, 3479, 5349, 5350))
"""IANA's stun/turn and stuns/turns ports: ChannelData there needs no Allocate in the capture."""


def _first_byte_kind(b: int) -> str:
    if b <= 3:
        return "stun"
    if 16 <= b <= 19:
        return "zrtp"
    if 20 <= b <= 63:
        return "dtls"
    if 64 <= b <= 79:
        return "channeldata"
    if 128 <= b <= 191:
        return "rtp"
    return "other"


FIRST_BYTE: tuple[str, ...] = tuple(_first_byte_kind(b) for b in range(256))
"""The kind RFC 7983 gives each first byte ("rtp" also covers RTCP: see `media_kind`)."""

COUNTED: dict[int, str] = {b: k for b, k in enumerate(FIRST_BYTE) if k in ("rtp", "dtls", "zrtp")}
"""First bytes of datagrams that are only counted (per 5-tuple) without looking further."""


def media_kind(data: bytes) -> str:
    """What relayed or direct data holds: stun, rtp, rtcp (RFC 5761 payload types 192-223), dtls,
    zrtp, channeldata, or data (anything else, the empty payload too)."""
    if not data:
        return "data"
    kind = FIRST_BYTE[data[0]]
    if kind == "rtp" and len(data) > 1 and 192 <= data[1] <= 223:
        return "rtcp"
    return "data" if kind == "other" else kind


def channel_data_fits(data: bytes, *, stream: bool = False) -> bool:
    """An RFC 8656 §12.4 ChannelData frame: channel 0x4000-0x4FFF and a length that matches.

    Over UDP the datagram holds the frame and at most 3 bytes of padding (padding is optional
    there); over a stream the frame is followed by the next one, so the bytes only need to hold it.
    """
    n = len(data)
    if n < 4 or FIRST_BYTE[data[0]] != "channeldata":
        return False
    size = 4 + ((data[2] << 8) | data[3])
    if stream:
        return n >= size
    return size <= n <= size + 3
