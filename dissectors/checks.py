"""FINGERPRINT and MESSAGE-INTEGRITY: compute and verify, never raise.

RFC 5389 15.4/15.5, RFC 8489 14.6 (MESSAGE-INTEGRITY-SHA256), RFC 3489 11.2.8
(legacy 64-byte padded HMAC input), and the MS WLM2009 CRC table typo that early
MS-ICE2 agents used for FINGERPRINT (reference §3.3).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import zlib

HEADER_SIZE = 20
FINGERPRINT_XOR = 0x5354554E
_FINGERPRINT = 0x8028
_INTEGRITY = 0x0008
_INTEGRITY_SHA256 = 0x001C


def _crc_table(fix: bool) -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (0xEDB88320 ^ (c >> 1)) if c & 1 else (c >> 1)
        table.append(c)
    if fix:
        # The typo: one entry of the reflected table, 0x8BBEB8EA, was written 0x08BBE8EA.
        table[table.index(0x8BBEB8EA)] = 0x08BBE8EA
    return table


_LEGACY_TABLE = _crc_table(fix=True)
_LEGACY_INDEX = _crc_table(fix=False).index(0x8BBEB8EA)


def _legacy_crc32(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _LEGACY_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def compute_fingerprint(message_before_fingerprint: bytes) -> int:
    """CRC-32 of everything before FINGERPRINT, XOR "STUN"; the length field must already count it."""
    return (zlib.crc32(message_before_fingerprint) & 0xFFFFFFFF) ^ FINGERPRINT_XOR


def _find_attribute(msg: bytes, wanted: int) -> int | None:
    """Offset of the first `wanted` attribute, trying 4-byte padding then none."""
    end = len(msg)
    for padded in (True, False):
        pos = HEADER_SIZE
        while pos + 4 <= end:
            atype, alen = struct.unpack_from("!HH", msg, pos)
            if atype == wanted:
                return pos
            pos += 4 + alen + ((-alen % 4) if padded else 0)
        if pos == end:
            return None  # walked cleanly and found nothing
    return None


def verify_fingerprint(msg: bytes) -> str:
    """'ok', 'ok-legacy' (MS WLM2009 CRC), 'bad', or 'absent'."""
    try:
        if len(msg) < HEADER_SIZE + 8:
            return "absent"
        # found by walking the attributes: the last 8 bytes can be the FINGERPRINT of a message
        # carried in DATA (a check in a Send or Data indication), not one of this message
        pos_found = _find_attribute(msg, _FINGERPRINT)
        if pos_found is None or pos_found + 8 > len(msg):
            return "absent"
        pos = pos_found
        value = struct.unpack_from("!I", msg, pos + 4)[0]
        covered = msg[:pos]
        if compute_fingerprint(covered) == value:
            return "ok"
        if (_legacy_crc32(covered) ^ FINGERPRINT_XOR) == value:
            return "ok-legacy"
        return "bad"
    except (struct.error, ValueError):
        return "bad"


def short_term_key(password: str | bytes) -> bytes:
    """RFC 5389 15.4 short-term credential key: SASLprep(password) (ASCII passwords pass as is)."""
    return password.encode("utf-8") if isinstance(password, str) else bytes(password)


def long_term_key(username: str, realm: str, password: str, *, sha256: bool = False) -> bytes:
    """RFC 5389 15.4: MD5(username ":" realm ":" password); RFC 8489 PASSWORD-ALGORITHM SHA-256."""
    text = f"{username}:{realm}:{password}".encode()
    return hashlib.sha256(text).digest() if sha256 else hashlib.md5(text).digest()


def compute_integrity(
    message_before_integrity: bytes, key: bytes, *, sha256: bool = False, legacy: bool = False
) -> bytes:
    """HMAC over the message up to MESSAGE-INTEGRITY, whose length field already counts it.

    `legacy` (RFC 3489, MS pre-ICE2): the input is zero-padded to a multiple of 64
    bytes and the header length is used as it stands.
    """
    data = message_before_integrity
    if legacy:
        data = data + b"\x00" * (-len(data) % 64)
    return hmac.new(key, data, hashlib.sha256 if sha256 else hashlib.sha1).digest()


def verify_integrity(msg: bytes, key: bytes | None) -> str:
    """'ok', 'bad', 'unknown-key' (no key given) or 'absent' (no integrity attribute)."""
    try:
        for code in (_INTEGRITY, _INTEGRITY_SHA256):
            pos = _find_attribute(msg, code)
            if pos is None:
                continue
            if key is None:
                return "unknown-key"
            alen = struct.unpack_from("!H", msg, pos + 2)[0]
            mac = msg[pos + 4 : pos + 4 + alen]
            use_sha256 = code == _INTEGRITY_SHA256 or alen == 32  # MS-VERSION >= 3
            # RFC 5389 15.4: the length field is rewritten to end just after the MAC
            adjusted = bytearray(msg[:pos])
            struct.pack_into("!H", adjusted, 2, pos + 4 + alen - HEADER_SIZE)
            expect = compute_integrity(bytes(adjusted), key, sha256=use_sha256)
            if hmac.compare_digest(expect[: len(mac)], mac) and len(mac) >= 4:
                return "ok"
            legacy = compute_integrity(msg[:pos], key, sha256=use_sha256, legacy=True)
            if hmac.compare_digest(legacy[: len(mac)], mac) and len(mac) >= 4:
                return "ok"
            return "bad"
        return "absent"
    except (struct.error, ValueError):
        return "bad"


def icev6_key(password: str) -> bytes | None:
    """[MS-ICE] (OC 2007) short-term key: the candidate's password base64-decoded (libnice's OC2007
    mode does the same); SDP writers drop the '=' padding, so it is restored first."""
    text = password.strip()
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def verify_legacy_integrity(msg: bytes, key: bytes | None) -> str:
    """RFC 3489 / [MS-ICE] MESSAGE-INTEGRITY only: HMAC-SHA1 over the header as sent and every
    attribute before it, zero-padded to a multiple of 64 bytes. 'ok', 'bad', 'unknown-key' or 'absent'.

    Unlike verify_integrity this does not accept the RFC 5389 form, so it tells which one an agent used.
    """
    try:
        pos = _find_attribute(msg, _INTEGRITY)
        if pos is None:
            return "absent"
        if key is None:
            return "unknown-key"
        alen = struct.unpack_from("!H", msg, pos + 2)[0]
        mac = msg[pos + 4 : pos + 4 + alen]
        if alen != 20 or len(mac) != 20:
            return "bad"
        expect = compute_integrity(msg[:pos], key, legacy=True)
        return "ok" if hmac.compare_digest(expect, mac) else "bad"
    except (struct.error, ValueError):
        return "bad"
