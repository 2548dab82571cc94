"""The RFC 7983 demux and the TCP framing splitters."""

from __future__ import annotations

import pytest

from dissectors.classify import PayloadKind, classify_payload, looks_like_stun
from dissectors.codec import encode_channel_data, encode_stun
from dissectors.framing import (
    detect_tcp_framing,
    frame_msturn_tcp,
    frame_rfc4571,
    split_msturn_tcp,
    split_rfc4571,
    split_stun_stream,
)

TID = bytes(range(12))
BINDING = encode_stun(0x0001, TID, [("PRIORITY", 5)], fingerprint=True)
CLASSIC = encode_stun(0x0001, bytes(range(16)), [("CHANGE-REQUEST", 0)], cookie=False)


@pytest.mark.parametrize(
    "data, kind",
    [
        (BINDING, PayloadKind.STUN),
        (CLASSIC, PayloadKind.STUN),
        (encode_channel_data(0x4000, b"\x80" * 20), PayloadKind.CHANNEL_DATA),
        (
            encode_channel_data(0xFF10, b"\x80" * 20, session_id=b"s" * 8),
            PayloadKind.MS_MULTIPLEXED,
        ),
        (bytes([0x80, 0x00]) + bytes(170), PayloadKind.RTP),
        (bytes([0x81, 0xC8]) + bytes(26), PayloadKind.RTCP),
        (bytes([0x16, 0xFE, 0xFD]) + bytes(40), PayloadKind.DTLS),
        (bytes([0x10]) + bytes(30), PayloadKind.ZRTP),
        (BINDING + b"x", PayloadKind.OTHER),  # length no longer matches
        (b"INVITE sip:bob@example.com SIP/2.0\r\n", PayloadKind.OTHER),
        (b"", PayloadKind.OTHER),
    ],
)
def test_classify(data, kind):
    assert classify_payload(data) == kind


def test_looks_like_stun_needs_no_cookie_or_port():
    assert looks_like_stun(CLASSIC)
    assert not looks_like_stun(BINDING[:-1])


def test_split_plain_stream_with_padded_channel_data():
    cd = encode_channel_data(0x4001, b"abcde", stream=True)
    stream = BINDING + cd + BINDING
    frames, used = split_stun_stream(stream + BINDING[:7])
    assert frames == [BINDING, cd, BINDING]
    assert used == len(stream)
    assert detect_tcp_framing(stream) == "stun"


def test_split_rfc4571():
    stream = frame_rfc4571(BINDING) + frame_rfc4571(b"\x80" * 12)
    frames, used = split_rfc4571(stream + b"\x00")
    assert frames == [BINDING, b"\x80" * 12] and used == len(stream)
    assert detect_tcp_framing(stream) == "rfc4571"


def test_split_msturn_tcp():
    allocate = encode_stun(0x0003, TID, [("MAGIC-COOKIE", 0x72C64BC6)], dialect="ms-turn")
    stream = frame_msturn_tcp(2, allocate) + frame_msturn_tcp(3, b"\x80" * 10)
    frames, used = split_msturn_tcp(stream)
    assert frames == [(2, allocate), (3, b"\x80" * 10)] and used == len(stream)
    assert detect_tcp_framing(stream) == "ms-turn-tcp"


def test_pseudo_tls_is_recognised():
    hello = bytes.fromhex("160301002d0100002903 01".replace(" ", "")) + bytes(40)
    assert detect_tcp_framing(hello) == "ms-pseudo-tls"
