"""Cheap classification of a UDP payload or TCP frame (RFC 7983 first-byte demux).

No cookie and no port is required: ICE checks run on random ports, and RFC 3489
and MS-TURN headers may lack the 5389 cookie. A few byte checks per packet.
"""

from __future__ import annotations

from enum import Enum

from dissectors.demux import channel_data_fits


class PayloadKind(str, Enum):
    STUN = "stun"
    CHANNEL_DATA = "channeldata"
    MS_MULTIPLEXED = "ms-multiplexed"
    RTP = "rtp"
    RTCP = "rtcp"
    DTLS = "dtls"
    ZRTP = "zrtp"
    QUIC = "quic"
    OTHER = "other"


def looks_like_stun(data: bytes) -> bool:
    """Top two bits 00, exact length (20 + declared), method within the non-DTLS range."""
    n = len(data)
    if n < 20 or data[0] > 0x3F:
        return False
    length = (data[2] << 8) | data[3]
    if 20 + length != n:
        return False
    if data[4:8] == b"\x21\x12\xa4\x42":
        # cookie + exact length is strong enough; some agents (WhatsApp, MS-TURN)
        # send lengths that are not multiples of 4, and the decoder flags that
        return True
    # No cookie: RFC 3489 / MS legacy. Accept the enum values those specs define,
    # and RFC 5389-style method/class values with methods up to 0xFF.
    msg_type = (data[0] << 8) | data[1]
    return msg_type & 0x3E00 == 0  # methods above 0x7F would set these bits


def classify_payload(data: bytes) -> PayloadKind:
    """RFC 7983 + RFC 9443 demultiplexing by the first byte, then sanity checks."""
    n = len(data)
    if n == 0:
        return PayloadKind.OTHER
    b0 = data[0]
    if b0 <= 3:
        return PayloadKind.STUN if looks_like_stun(data) else PayloadKind.OTHER
    if 64 <= b0 <= 79:
        if channel_data_fits(data):
            return PayloadKind.CHANNEL_DATA
        return PayloadKind.OTHER  # SIP text starts here too (A-O); QUIC short headers are unknowable
    if 128 <= b0 <= 191:
        if n >= 8:
            pt = data[1]
            if 192 <= pt <= 223:  # RFC 5761: RTCP packet types 200-204 (and 192-223 range)
                return PayloadKind.RTCP
            return PayloadKind.RTP
        return PayloadKind.OTHER
    if 20 <= b0 <= 63:
        return PayloadKind.DTLS
    if 16 <= b0 <= 19:
        return PayloadKind.ZRTP
    if b0 == 0xFF and n >= 12 and data[1] == 0x10:
        length = (data[2] << 8) | data[3]
        if 4 + length <= n <= 4 + length + 3:
            return PayloadKind.MS_MULTIPLEXED
    if b0 >= 192:
        return PayloadKind.QUIC
    return PayloadKind.OTHER
