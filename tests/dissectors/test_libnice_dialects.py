"""libnice's Microsoft modes as recorded (captures/real/libnice-oc2007*): the bytes decode, and
integrity and FINGERPRINT verify with each dialect's own rules, keys taken from the agents' truth."""

from __future__ import annotations

import base64
import hmac
import struct

import pytest

from dissectors.checks import (
    HEADER_SIZE,
    compute_integrity,
    icev6_key,
    short_term_key,
    verify_fingerprint,
    verify_legacy_integrity,
)
from dissectors.codec import decode_stun
from icetrace.reading import capture_records
from tests.corpus.truth import CAPTURES, load_truth

OC2007 = CAPTURES / "real" / "libnice-oc2007"
OC2007R2 = CAPTURES / "real" / "libnice-oc2007r2"
COOKIE = bytes.fromhex("2112a442")


def _records(folder, tap="left-lan"):
    return list(capture_records(folder / f"{tap}.pcap"))


def _checks(folder, tap="left-lan"):
    return [r for r in _records(folder, tap) if r.method == "binding" and r.username is not None]


def _candidate_passwords(folder) -> dict[bytes, str]:
    """Decoded 32-byte candidate username -> base64 password, as each agent reported them."""
    out = {}
    for agent in load_truth(folder)["agents"].values():
        for cand in agent["streams"][0]["components"][0]["local_candidates"]:
            out[base64.b64decode(cand["username"])] = cand["password"]
    return out


def _mi(raw: bytes) -> tuple[int, bytes]:
    pos = HEADER_SIZE
    while pos < len(raw):
        atype, alen = struct.unpack_from("!HH", raw, pos)
        if atype == 0x0008:
            return pos, raw[pos + 4 : pos + 4 + alen]
        pos += 4 + alen + (-alen % 4)
    raise AssertionError("no MESSAGE-INTEGRITY")


def test_oc2007_checks_are_classic_with_only_username_and_integrity():
    checks = _checks(OC2007)
    assert len(checks) >= 8
    for r in checks:
        assert r.raw[4:8] != COOKIE  # RFC 3489 header: 128-bit transaction ID
        assert r.dialect == "ms-ice"
        msg = decode_stun(r.raw)
        names = [a.name for a in msg.attributes]
        if r.cls == "request":
            assert names == ["USERNAME", "MESSAGE-INTEGRITY"], r.frame
        else:  # the answer echoes the USERNAME and adds the XOR-mapped address
            assert names == ["XOR-MAPPED-ADDRESS", "USERNAME", "MESSAGE-INTEGRITY"], r.frame
        assert r.ice_role is None and not r.use_candidate and r.priority is None


def test_oc2007_username_is_72_binary_bytes_naming_two_candidates():
    users = _candidate_passwords(OC2007)
    for r in _checks(OC2007):
        raw = r.username
        assert len(raw) == 72
        assert raw[32:35] == b":1:" and raw[67:69] == b":1" and raw[69:] == b"\x00\x00\x00"
        receiver, sender = raw[:32], raw[35:67]
        assert receiver in users and sender in users and receiver != sender


def test_oc2007_integrity_is_keyed_with_the_receiving_candidates_decoded_password_over_64_byte_padding():
    passwords = _candidate_passwords(OC2007)
    checked = 0
    for r in _checks(OC2007):
        receiver, sender = r.username[:32], r.username[35:67]
        # the SDP form drops base64's '=' padding; the key is the same
        key = icev6_key(passwords[receiver].rstrip("="))
        assert key == base64.b64decode(passwords[receiver]) and len(key) == 16
        assert verify_legacy_integrity(r.raw, key) == "ok", r.frame
        assert verify_legacy_integrity(r.raw, icev6_key(passwords[sender])) == "bad"
        # the RFC 5389 form (no padding) does not give this MAC
        pos, mac = _mi(r.raw)
        assert len(r.raw[:pos]) % 64 != 0
        assert not hmac.compare_digest(compute_integrity(r.raw[:pos], key), mac)
        checked += 1
    assert checked >= 8


def test_icev6_key_rejects_what_is_not_base64():
    assert icev6_key("not base64!") is None
    assert verify_legacy_integrity(_checks(OC2007)[0].raw, None) == "unknown-key"


def test_oc2007r2_pads_the_username_and_sends_ms_ice2_attributes():
    checks = _checks(OC2007R2)
    assert checks
    for r in checks:
        assert r.raw[4:8] == COOKIE and r.dialect == "ms-ice2"
        assert len(r.username) == 12 and r.username.endswith(b"\x00")
        text = r.username.rstrip(b"\x00").decode()
        assert len(text) == 9 and text[4] == ":"
        types = [a.type for a in decode_stun(r.raw).attributes]
        assert 0x8070 in types  # IMPLEMENTATION-VERSION
        if r.cls == "request":
            assert 0x8054 in types  # CANDIDATE-IDENTIFIER


def test_oc2007r2_integrity_is_keyed_with_the_ice_pwd_over_64_byte_padding():
    truth = load_truth(OC2007R2)
    pwd = {a["ice_ufrag"]: a["ice_pwd"] for a in truth["agents"].values()}
    checked = 0
    for r in _checks(OC2007R2):
        receiver = r.username.rstrip(b"\x00").decode().split(":")[0]
        assert verify_legacy_integrity(r.raw, short_term_key(pwd[receiver])) == "ok", r.frame
        checked += 1
    assert checked >= 4


def test_oc2007r2_sends_each_early_check_again_with_the_legacy_crc():
    checks = _checks(OC2007R2)
    by_id: dict[bytes, list[str]] = {}
    for r in checks:
        if r.cls == "request":
            by_id.setdefault(r.transaction_id, []).append(verify_fingerprint(r.raw))
    doubled = [v for v in by_id.values() if len(v) == 2]
    assert doubled, by_id
    for results in doubled:
        assert results == ["ok", "ok-legacy"]
    legacy = [r for r in checks if verify_fingerprint(r.raw) == "ok-legacy"]
    for r in legacy:
        assert r.fingerprint == "ok-legacy"
        assert not any("CRC does not match" in a for a in decode_stun(r.raw).anomalies)
        # same bytes as the standard copy except the CRC
        twin = next(c for c in checks if c.transaction_id == r.transaction_id and c.fingerprint == "ok")
        assert twin.raw[:-4] == r.raw[:-4] and twin.raw[-4:] != r.raw[-4:]


@pytest.mark.parametrize("folder", [OC2007, OC2007R2], ids=lambda p: p.name)
def test_ms_turn_allocate_uses_the_classic_header_with_magic_cookie_and_ms_version(folder):
    allocates = [r for r in _records(folder) if r.method == "allocate"]
    assert allocates
    for r in allocates:
        assert r.dialect == "ms-turn" and r.raw[4:8] != COOKIE
        assert r.raw[20:24] == bytes.fromhex("000f0004") and r.raw[24:28] == bytes.fromhex("72c64bc6")
        version = next(a.value for a in decode_stun(r.raw).attributes if a.type == 0x8008)
        assert version == 1  # libnice writes 1 ([MS-ICE]) in its OC2007R2 mode too
