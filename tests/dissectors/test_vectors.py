"""RFC 5769 vectors, the seed's XOR example, MS usernames, and every shared vector file."""

from __future__ import annotations

import pytest

from dissectors.checks import long_term_key, short_term_key, verify_fingerprint, verify_integrity
from dissectors.codec import decode_stun
from tests import testdata

VECTORS = testdata.VECTORS
RFC5769 = VECTORS / "rfc5769"
SHORT_TERM = short_term_key("VOkJxbRl1RmTxUk/WvJxBt")


def load(name: str) -> bytes:
    return testdata.require(RFC5769 / name).read_bytes()


def test_rfc5769_sample_request():
    msg = decode_stun(load("rfc5769_2.1_sample_request_short_term.bin"))
    assert (msg.dialect, msg.method_name, msg.cls) == ("rfc5389", "binding", "request")
    assert msg.transaction_id.hex() == "b7e7a701bc34d686fa87dfae"
    assert msg.value("SOFTWARE") == "STUN test client"
    assert msg.value("PRIORITY") == 0x6E0001FF
    assert msg.value("ICE-CONTROLLED") == 0x932FF9B151263B36
    assert msg.value("USERNAME") == b"evtj:h6vY"
    assert msg.fingerprint == "ok"
    assert verify_integrity(msg.raw, SHORT_TERM) == "ok"
    assert msg.anomalies == ()


@pytest.mark.parametrize(
    "name, address",
    [
        ("rfc5769_2.2_sample_ipv4_response.bin", ("192.0.2.1", 32853)),
        ("rfc5769_2.3_sample_ipv6_response.bin", ("2001:db8:1234:5678:11:2233:4455:6677", 32853)),
    ],
)
def test_rfc5769_responses(name, address):
    msg = decode_stun(load(name))
    assert (msg.method_name, msg.cls) == ("binding", "success")
    assert msg.value("XOR-MAPPED-ADDRESS") == address
    assert msg.value("SOFTWARE") == "test vector"
    assert msg.fingerprint == "ok"
    assert verify_integrity(msg.raw, SHORT_TERM) == "ok"
    assert verify_integrity(msg.raw, b"wrong") == "bad"
    assert verify_integrity(msg.raw, None) == "unknown-key"


def test_rfc5769_long_term_request():
    raw = load("rfc5769_2.4_sample_request_long_term.bin")
    msg = decode_stun(raw)
    assert msg.value("USERNAME").decode() == "マトリックス"
    assert msg.value("REALM") == "example.org"
    assert msg.value("NONCE") == "f//499k954d6OL34oL9FSTvy64sA"
    assert msg.fingerprint == "absent"
    key = long_term_key("マトリックス", "example.org", "TheMatrIX")
    assert verify_integrity(raw, key) == "ok"
    assert verify_integrity(raw, long_term_key("マトリックス", "example.org", "x")) == "bad"


def test_seed_worked_xor_example():
    # Seed article: X-Port 0xE263, X-IP 0x75895AF6 with the standard cookie.
    raw = bytes.fromhex(
        "0101001c2112a4420102030405060708090a0b0c002000080001e26375895af6802200047465737480280004feb2d991"
    )
    msg = decode_stun(raw)
    assert msg.value("XOR-MAPPED-ADDRESS") == ("84.155.254.180", 50033)
    assert msg.fingerprint == "ok"


def test_ms_0x8020_xors_with_transaction_id_top_bits():
    from dissectors.codec import encode_stun

    tid = bytes.fromhex("0badcafe") + bytes(range(12))
    raw = encode_stun(
        0x0103,
        tid,
        [("MAGIC-COOKIE", 0x72C64BC6), ("MS-XOR-MAPPED-ADDRESS", ("84.155.254.180", 50033))],
        dialect="ms-turn",
        cookie=False,
    )
    value = raw[-4:]
    assert int.from_bytes(value, "big") == 0x549BFEB4 ^ 0x0BADCAFE
    msg = decode_stun(raw)
    assert msg.dialect == "ms-turn"
    assert msg.transaction_id == tid
    assert msg.value("MS-XOR-MAPPED-ADDRESS") == ("84.155.254.180", 50033)


def test_ms_ice2_padded_username_and_candidate_identifier():
    from dissectors.codec import encode_stun

    username = b"AbCd:EfGh" + b"\x00" * 3  # RFC-style text, NUL-padded to 4, length covers pad
    raw = encode_stun(
        0x0001,
        b"\x01" * 12,
        [
            ("USERNAME", username),
            ("PRIORITY", 2130706431),
            ("ICE-CONTROLLING", 7),
            ("CANDIDATE-IDENTIFIER", "#1"),
            ("IMPLEMENTATION-VERSION", 2),
        ],
        integrity_key=b"pwd",
        fingerprint=True,
    )
    msg = decode_stun(raw)
    assert msg.dialect == "ms-ice2"
    assert msg.get("USERNAME").length == 12
    assert msg.value("USERNAME").rstrip(b"\0") == b"AbCd:EfGh"
    assert msg.value("CANDIDATE-IDENTIFIER") == "#1"
    assert msg.get("CANDIDATE-IDENTIFIER").length == 4
    assert msg.value("IMPLEMENTATION-VERSION") == 2
    assert verify_integrity(raw, b"pwd") == "ok"


def test_icev6_binary_username_is_ms_ice():
    from dissectors.codec import encode_stun

    user = bytes(range(32)) + b":1:" + bytes(range(100, 132)) + b":1" + b"\x00"
    raw = encode_stun(0x0001, bytes(16), [("USERNAME", user)], cookie=False)
    msg = decode_stun(raw)
    assert msg.dialect == "ms-ice"
    assert msg.transaction_id == bytes(16)
    assert msg.value("USERNAME") == user


def test_legacy_fingerprint_is_recognised():
    from dissectors import checks

    body = bytearray(bytes.fromhex("000100082112a442") + bytes(range(12)) + bytes.fromhex("80280004"))
    # find a message whose CRC passes through the mistyped table entry
    for salt in range(4096):
        candidate = bytes(body[:8]) + salt.to_bytes(12, "big") + bytes(body[20:])
        covered = candidate[:20]  # the CRC covers everything before the FINGERPRINT attribute
        good = checks.compute_fingerprint(covered)
        legacy = checks._legacy_crc32(covered) ^ checks.FINGERPRINT_XOR
        if good != legacy:
            assert verify_fingerprint(candidate + legacy.to_bytes(4, "big")) == "ok-legacy"
            assert verify_fingerprint(candidate + good.to_bytes(4, "big")) == "ok"
            assert verify_fingerprint(candidate + (good ^ 1).to_bytes(4, "big")) == "bad"
            return
    pytest.fail("no message exercised the legacy CRC table entry")


LIBNICE = VECTORS / "libnice_test-parse"


@pytest.mark.parametrize(
    "name, expect",
    [
        ("bad1.bin", "overruns"),
        ("bad_crc.bin", "FINGERPRINT: CRC"),
        ("bad_crc_offset.bin", "FINGERPRINT: not the last"),
        ("extra_garbage.bin", "trailer"),
    ],
)
def test_libnice_negative_vectors_give_anomalies(name, expect):
    msg = decode_stun(testdata.require(LIBNICE / name).read_bytes())
    assert any(expect in a for a in msg.anomalies), msg.anomalies


def test_libnice_positive_vectors():
    acme = decode_stun(testdata.require(LIBNICE / "acme.bin").read_bytes())
    assert acme.value("USERNAME") == b"ABCD"
    assert verify_integrity(acme.raw, b"good_guy") == "ok"
    err = decode_stun(testdata.require(LIBNICE / "binding_error_resp.bin").read_bytes())
    assert err.value("ERROR-CODE")[0] == 431
    assert err.cls == "error"
    key = bytes.fromhex("77d97ae9cfe03ea228a05deccf36e849")
    assert verify_integrity(err.raw, key) == "ok"  # RFC 3489 64-byte padded HMAC input
    v6 = decode_stun(testdata.require(LIBNICE / "respv6.bin").read_bytes())
    assert v6.value("XOR-MAPPED-ADDRESS") == ("2001:db8:1234:5678:11:2233:4455:6677", 32853)


def test_freeswitch_ice_controlled_request():
    msg = decode_stun(testdata.require(VECTORS / "aiortc_aioice" / "binding_request_ice_controlled.bin").read_bytes())
    assert msg.value("USERNAME") == b"AYeZ:sw7YvCSbcVex3bhi"
    assert msg.value("PRIORITY") == 1685987071
    assert msg.value("ICE-CONTROLLED") == 5491930053772927353
    assert msg.value("FINGERPRINT") == 3230414530
    assert msg.fingerprint == "ok"


ALL_VECTOR_FILES = testdata.cases(VECTORS, skip_suffixes=(".md", ".sdp", ".csv", ".license"))


@pytest.mark.parametrize("path", ALL_VECTOR_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_vector_decodes_without_raising(path):
    from dissectors.stun import dissect_payload

    data = path.read_bytes()
    msg = decode_stun(data)
    assert isinstance(msg.anomalies, tuple)
    pkt = dissect_payload(data)
    assert bytes(pkt) == data  # Scapy rebuilds exactly what it dissected
