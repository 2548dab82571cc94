"""Build -> dissect -> build for every attribute in the registry, via codec and Scapy."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dissectors.codec import (
    REGISTRY,
    decode_channel_data,
    decode_stun,
    encode_channel_data,
    encode_stun,
)
from dissectors.stun import STUN, STUNAttribute, TURNChannelData

SAMPLES = {
    "address": ("198.51.100.7", 3478),
    "xor-address": ("2001:db8::7", 50033),
    "uint32": 0x01020304,
    "uint64": 0x0102030405060708,
    "text": "relay.example.net",
    "bytes": b"\x01\x02\x03\x04\x05",
    "empty": True,
    "error-code": (438, "Stale Nonce"),
    "attribute-list": (0x0020, 0x8022),
    "channel-number": 0x4001,
    "first-byte": 17,
    "even-port": True,
    "short-pair": (1, 50),
    "ms-sequence": (b"c" * 20, 7),
    "nul-padded-text": "fdn7",
    "nomination": 3,
    "response-port": 5000,
    "icmp": (3, 3, 0),
    "password-algorithm": (2, b""),
    "uint32-list": (64, 128, 64, 128),
    "bandwidth-acm": 1,
    "byte-list": (1, 2, 0, 0),
}
ROWS = sorted(REGISTRY.values(), key=lambda s: s.code)
TID = bytes(range(12))


@pytest.mark.parametrize("spec", ROWS, ids=lambda s: s.name)
def test_codec_round_trip(spec):
    value = SAMPLES[spec.kind]
    raw = encode_stun(0x0001, TID, [(spec.code, value)])
    msg = decode_stun(raw)
    attr = msg.attributes[0]
    assert attr.type == spec.code and attr.name == spec.name
    assert attr.value == value, msg.anomalies
    if spec.name != "FINGERPRINT":  # an arbitrary CRC value is rightly reported as bad
        assert not [a for a in msg.anomalies if spec.name in a]


@pytest.mark.parametrize("spec", ROWS, ids=lambda s: s.name)
def test_scapy_round_trip(spec):
    value = SAMPLES[spec.kind]
    if spec.name == "DATA":
        value = b"\x80\x00\x00\x01"
    pkt = STUN(type=0x0001, transaction_id=TID, attributes=[STUNAttribute(type=spec.code, value=value)])
    wire = bytes(pkt)
    again = STUN(wire)
    assert bytes(again) == wire
    assert again.attributes[0].type == spec.code
    if spec.name != "DATA":
        assert again.attributes[0].decoded == value
    assert decode_stun(wire).attributes[0].value == (value if spec.name != "DATA" else b"\x80\x00\x00\x01")


def test_ms_turn_dialect_swaps_realm_and_nonce_and_skips_padding():
    raw = encode_stun(
        0x0113,
        TID,
        [
            ("MAGIC-COOKIE", 0x72C64BC6),
            ("ERROR-CODE", (401, "Unauthorized")),
            ("REALM", "SIP Communications Service"),
            ("NONCE", "abc"),
        ],
        dialect="ms-turn",
    )
    assert raw[-7:-3] == b"\x00\x14\x00\x03"  # NONCE is 0x0014 in MS-TURN, unpadded
    msg = decode_stun(raw)
    assert msg.dialect == "ms-turn" and not msg.padded
    assert msg.value("REALM") == "SIP Communications Service"
    assert msg.value("NONCE") == "abc"
    pkt = STUN(raw)
    assert bytes(pkt) == raw
    assert [a.attribute_name for a in pkt.attributes][-2:] == ["REALM", "NONCE"]


def test_ms_turn_message_types():
    for msg_type, expect in [
        (0x0004, ("ms-send", "request")),
        (0x0115, ("ms-data", "indication")),
        (0x0006, ("set-active-destination", "request")),
    ]:
        raw = encode_stun(msg_type, TID, [("MAGIC-COOKIE", 0x72C64BC6)], dialect="ms-turn")
        msg = decode_stun(raw)
        assert (msg.method_name, msg.cls) == expect
    # the same 0x0004 without the MS cookie attribute is an RFC 8656 Refresh request
    assert decode_stun(encode_stun(0x0004, TID, [("LIFETIME", 0)])).method_name == "refresh"
    # 0x0017 is a Data indication, not an error (class bits via the 0x0110 mask)
    assert decode_stun(encode_stun(0x0017, TID)).cls == "indication"


def test_ms_turn_remote_address_is_plain():
    raw = encode_stun(
        0x0115,
        TID,
        [("MAGIC-COOKIE", 0x72C64BC6), ("REMOTE-ADDRESS", ("192.0.2.44", 6000)), ("DATA", b"xx")],
        dialect="ms-turn",
    )
    assert raw[24 + 4 + 4 : 24 + 4 + 8] == b"\x00\x01\x17\x70"  # port 6000 as is
    assert decode_stun(raw).value("REMOTE-ADDRESS") == ("192.0.2.44", 6000)


def test_integrity_and_fingerprint_built_then_verified():
    from dissectors.checks import verify_integrity

    raw = encode_stun(0x0001, TID, [("USERNAME", b"a:b")], integrity_key=b"pw", fingerprint=True)
    msg = decode_stun(raw)
    assert msg.fingerprint == "ok"
    assert verify_integrity(raw, b"pw") == "ok"
    raw256 = encode_stun(0x0003, TID, [("USERNAME", b"u")], integrity_key=b"k", integrity_sha256=True)
    assert len(decode_stun(raw256).value("MESSAGE-INTEGRITY")) == 32
    assert verify_integrity(raw256, b"k") == "ok"


def test_data_indication_payload_dissects_as_stun():
    inner = encode_stun(0x0001, b"i" * 12, [("PRIORITY", 1)], fingerprint=True)
    outer = encode_stun(0x0017, TID, [("XOR-PEER-ADDRESS", ("203.0.113.9", 40000)), ("DATA", inner)])
    msg = decode_stun(outer)
    assert msg.nested is not None and msg.nested.value("PRIORITY") == 1
    pkt = STUN(outer)
    data_attr = pkt.attributes[1]
    assert isinstance(data_attr.value, STUN)
    assert data_attr.value.decoded.transaction_id == b"i" * 12


def test_nested_data_depth_is_limited():
    msg = encode_stun(0x0001, TID)
    for _ in range(10):
        msg = encode_stun(0x0017, TID, [("DATA", msg)])
    decoded = decode_stun(msg)
    depth = 0
    while decoded.nested is not None:
        decoded = decoded.nested
        depth += 1
    assert depth == 3
    assert any("nesting" in a for a in decoded.anomalies)
    STUN(msg).show(dump=True)  # Scapy stops nesting too (no recursion error)


def test_channel_data_round_trip_and_padding():
    payload = encode_stun(0x0001, TID)
    udp = encode_channel_data(0x4001, payload + b"x")
    tcp = encode_channel_data(0x4001, payload + b"x", stream=True)
    assert len(tcp) % 4 == 0 and len(udp) == 4 + len(payload) + 1
    decoded = decode_channel_data(tcp, stream=True)
    assert decoded.channel == 0x4001 and decoded.size == len(tcp)
    assert decoded.payload == payload + b"x"
    ms = encode_channel_data(0xFF10, payload, session_id=b"S" * 8)
    decoded = decode_channel_data(ms)
    assert decoded.session_id == b"S" * 8 and decoded.payload == payload
    pkt = TURNChannelData(encode_channel_data(0x4002, payload))
    assert pkt.channel == 0x4002 and isinstance(pkt.inner, STUN)


def test_scapy_idioms_answers_hashret_summary_ls():
    from scapy.packet import ls

    req = STUN(type=0x0001, transaction_id=TID)
    resp = STUN(
        bytes(
            STUN(
                type=0x0101,
                transaction_id=TID,
                attributes=[STUNAttribute(type="XOR-MAPPED-ADDRESS", value=("192.0.2.1", 1))],
            )
        )
    )
    other = STUN(type=0x0101, transaction_id=b"z" * 12)
    assert resp.answers(req) and not other.answers(req) and not req.answers(resp)
    assert resp.hashret() == req.hashret()
    assert "XOR-MAPPED-ADDRESS=192.0.2.1:1" in resp.summary()
    ls(STUN)  # prints the field list without raising


def test_bound_on_udp_3478():
    from scapy.layers.inet import IP, UDP

    pkt = IP(bytes(IP(dst="192.0.2.1") / UDP(sport=40000, dport=3478) / STUN(type=0x0001, transaction_id=TID)))
    assert pkt.haslayer(STUN)


def test_dissectors_never_import_icetrace():
    code = "import sys, dissectors.stun, dissectors.codec; print(any(m.startswith('icetrace') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_fast_path_modules_do_not_import_scapy():
    code = "import sys, dissectors.codec, dissectors.classify, dissectors.framing; print('scapy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("transport", ["UDP", "TCP"])
def test_stun_built_over_a_transport_uses_the_stun_port_both_ways(transport):
    from scapy.layers import inet

    layer = getattr(inet, transport)
    built = inet.IP(bytes(inet.IP() / layer() / STUN()))
    assert (built[layer].sport, built[layer].dport) == (3478, 3478)
    assert built.haslayer(STUN)
