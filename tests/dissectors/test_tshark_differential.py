"""Our codec against tshark on every single-message UDP STUN frame of the public captures."""

from __future__ import annotations

import ipaddress

import pytest

from dissectors.classify import PayloadKind, classify_payload
from dissectors.codec import REGISTRY, decode_stun
from tests.dissectors.tshark_view import (
    have_tshark,
    public_captures,
    transport_payloads,
    tshark_stun,
)

pytestmark = [
    pytest.mark.tshark,
    pytest.mark.skipif(not have_tshark(), reason="tshark is not installed"),
]

# Known tshark 4.x behaviour that differs from the specs (protocol reference §2, §7.2):
# it XOR-decodes MS-TURN REMOTE-ADDRESS (0x0012), which is a plain address there.
TSHARK_XORS_MS_REMOTE_ADDRESS = "tshark XOR-decodes MS-TURN REMOTE-ADDRESS"
# and its RFC 3489 dissector (classicstun) leaves XOR-MAPPED-ADDRESS (0x0020) undecoded, which
# [MS-ICE] responses (libnice's OC2007 mode) carry XORed with the transaction ID's first 32 bits.
TSHARK_SKIPS_CLASSIC_XOR_MAPPED = 0x0020


def _ipv4_addresses(message):
    out = []
    for attr in message.attributes:
        value = attr.value
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
            if ipaddress.ip_address(value[0]).version == 4:
                out.append((attr.type, value[0], value[1]))
    return out


@pytest.mark.parametrize("path", public_captures(), ids=lambda p: p.name)
def test_public_capture_agrees_with_tshark(path):
    seen = tshark_stun(path)
    payloads = transport_payloads(path)
    compared = 0
    for frame, theirs in seen.items():
        transport, data = payloads.get(frame, ("", b""))
        if transport != "udp" or len(theirs.types) != 1:
            continue  # TCP streams and multi-message frames are covered by capture tests
        ours = decode_stun(data)
        if path.name == "stun-attribute-length-ffff.pcap":
            # tshark shows the 0xFFFF-length attribute; we refuse to read past the end
            if ours.anomalies:
                assert any("length 65535" in a for a in ours.anomalies)
                continue
        where = f"{path.name} frame {frame}"
        assert classify_payload(data) == PayloadKind.STUN, where
        assert ours.type == theirs.types[0], where
        assert theirs.ids[0].lower().endswith(ours.transaction_id.hex()[-24:]), where
        # tshark drops attribute types it does not know from stun.att.type
        ours_types = [a.type for a in ours.attributes if a.type in REGISTRY or a.type in theirs.attribute_types]
        assert ours_types == theirs.attribute_types, where
        # tshark shows no code for an ERROR-CODE whose class is outside 3-6; we flag it
        ours_errors = [
            a.value[0]
            for a in ours.attributes
            if a.name == "ERROR-CODE" and isinstance(a.value, tuple) and a.value[0] >= 300
        ]
        assert ours_errors == theirs.error_codes, where
        addresses = _ipv4_addresses(ours)
        if ours.dialect == "ms-ice":
            addresses = [a for a in addresses if a[0] != TSHARK_SKIPS_CLASSIC_XOR_MAPPED]
        if ours.dialect == "ms-turn" and any(t == 0x0012 for t, _, _ in addresses):
            # TSHARK_XORS_MS_REMOTE_ADDRESS: compare only the other addresses
            addresses = [a for a in addresses if a[0] != 0x0012]
            assert [ip for _, ip, _ in addresses] == theirs.ipv4[: len(addresses)], where
        else:
            assert [ip for _, ip, _ in addresses] == theirs.ipv4, where
            assert [port for _, _, port in addresses] == theirs.ports[: len(addresses)], where
        compared += 1
    udp_frames = [f for f in seen if payloads.get(f, ("",))[0] == "udp"]
    if udp_frames and path.name != "stun-attribute-length-ffff.pcap":
        assert compared > 0
