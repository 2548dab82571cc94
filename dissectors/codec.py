"""Scapy-free STUN/TURN/MS-TURN codec: one attribute registry, value codecs, decode and encode.

The Scapy layers call the same value codecs, and capture input decodes with this
module directly, because building a Scapy packet per message costs ~50x more.
Specs: RFC 3489, 5389, 8489, 5766, 8656, 6062, 5245, 8445, 5780, [MS-TURN],
[MS-TURNBWM], [MS-ICE2]. Decoding never raises: problems become anomalies.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from dissectors.checks import (
    FINGERPRINT_XOR,
    FingerprintResult,
    compute_fingerprint,
    compute_integrity,
    verify_fingerprint,
)
from dissectors.constants import (
    CLASS_NAMES,
    HEADER_SIZE,
    LEGACY_DIALECTS,
    LEGACY_TYPES,
    MAGIC_COOKIE_BYTES,
    METHOD_NAMES,
    MS_MAGIC_COOKIE_VALUE,
    MS_MULTIPLEXED_CHANNEL,
    AttributeType,
    Dialect,
)

MAX_DEPTH = 3  # DATA inside DATA inside DATA: deeper nesting is an attack, not TURN

# ---------------------------------------------------------------------------
# Value codecs. Each decoder takes (value bytes, header bytes 0..20) and returns a
# Python value or raises ValueError with a message saying what is wrong; the caller
# turns that into an anomaly. Each encoder takes (value, header) and returns bytes.
# ---------------------------------------------------------------------------

Address = tuple[str, int]
_AF_INET, _AF_INET6 = socket.AF_INET, socket.AF_INET6
_ntop = socket.inet_ntop


def _decode_plain_address(value: bytes, header: bytes) -> Address:
    if len(value) < 4:
        raise ValueError(f"value is {len(value)} bytes, too short for an address")
    family = value[1]
    port = struct.unpack_from("!H", value, 2)[0]
    if family == 1:
        if len(value) != 8:
            raise ValueError(f"IPv4 value is {len(value)} bytes, expected 8")
        return _ntop(_AF_INET, value[4:8]), port
    if family == 2:
        if len(value) != 20:
            raise ValueError(f"IPv6 value is {len(value)} bytes, expected 20")
        return _ntop(_AF_INET6, value[4:20]), port
    raise ValueError(f"unknown address family 0x{family:02x}")


def _xor_key(header: bytes) -> bytes:
    # RFC 5389 15.2: XOR with the cookie (IPv4) or cookie + TID (IPv6). For MS 0x8020
    # and MS-TURNBWM site addresses the key is the first TID bits, which sit in the
    # same header bytes 4..20, so one rule covers every dialect.
    return header[4:20]


def _decode_xor_address(value: bytes, header: bytes) -> Address:
    ip, port = _decode_plain_address(value, header)
    key = _xor_key(header)
    xport = port ^ int.from_bytes(key[0:2], "big")
    if value[1] == 1:
        raw = (int.from_bytes(value[4:8], "big") ^ int.from_bytes(key[0:4], "big")).to_bytes(4, "big")
        return _ntop(_AF_INET, raw), xport
    raw = (int.from_bytes(value[4:20], "big") ^ int.from_bytes(key[0:16], "big")).to_bytes(16, "big")
    return _ntop(_AF_INET6, raw), xport


def _encode_plain_address(addr: Address, header: bytes) -> bytes:
    ip = ipaddress.ip_address(addr[0])
    family = 1 if ip.version == 4 else 2
    return struct.pack("!BBH", 0, family, addr[1]) + ip.packed


def _encode_xor_address(addr: Address, header: bytes) -> bytes:
    plain = _encode_plain_address(addr, header)
    key = _xor_key(header)
    port = addr[1] ^ int.from_bytes(key[0:2], "big")
    raw = bytes(a ^ b for a, b in zip(plain[4:], key))
    return plain[0:2] + struct.pack("!H", port) + raw


def _decode_uint32(value: bytes, header: bytes) -> int:
    if len(value) != 4:
        raise ValueError(f"value is {len(value)} bytes, expected 4")
    return int.from_bytes(value, "big")


def _encode_uint32(value: int, header: bytes) -> bytes:
    return struct.pack("!I", value)


def _decode_uint64(value: bytes, header: bytes) -> int:
    if len(value) != 8:
        raise ValueError(f"value is {len(value)} bytes, expected 8")
    return int.from_bytes(value, "big")


def _encode_uint64(value: int, header: bytes) -> bytes:
    return struct.pack("!Q", value)


def _decode_text(value: bytes, header: bytes) -> str:
    # MS-TURN and MS-ICE2 pad text with NULs inside the declared length.
    return value.rstrip(b"\x00").decode("utf-8", errors="replace")


def _encode_text(value: str, header: bytes) -> bytes:
    return value.encode("utf-8")


def _decode_bytes(value: bytes, header: bytes) -> bytes:
    return value


def _encode_bytes(value: bytes, header: bytes) -> bytes:
    return bytes(value)


def _decode_empty(value: bytes, header: bytes) -> bool:
    if value:
        raise ValueError(f"value is {len(value)} bytes, expected empty")
    return True


def _encode_empty(value: Any, header: bytes) -> bytes:
    return b""


def _decode_error_code(value: bytes, header: bytes) -> tuple[int, str]:
    # RFC 5389 15.6: 21 reserved bits, class (3 bits), number (8 bits), reason.
    if len(value) < 4:
        raise ValueError(f"value is {len(value)} bytes, expected at least 4")
    cls = value[2] & 0x07
    number = value[3]
    if not 3 <= cls <= 6 or number > 99:
        raise ValueError(f"class {cls} / number {number} is not a valid code (300-699)")
    return cls * 100 + number, value[4:].decode("utf-8", errors="replace").rstrip("\x00")


def _encode_error_code(value: tuple[int, str], header: bytes) -> bytes:
    code, reason = value
    return struct.pack("!HBB", 0, code // 100, code % 100) + reason.encode("utf-8")


def _decode_attribute_list(value: bytes, header: bytes) -> tuple[int, ...]:
    if len(value) % 2:
        raise ValueError(f"value is {len(value)} bytes, not a list of 16-bit types")
    return struct.unpack(f"!{len(value) // 2}H", value)


def _encode_attribute_list(value: Sequence[int], header: bytes) -> bytes:
    return struct.pack(f"!{len(value)}H", *value)


def _decode_channel_number(value: bytes, header: bytes) -> int:
    if len(value) != 4:
        raise ValueError(f"value is {len(value)} bytes, expected 4")
    return int(struct.unpack_from("!H", value)[0])


def _encode_channel_number(value: int, header: bytes) -> bytes:
    return struct.pack("!HH", value, 0)


def _decode_first_byte(value: bytes, header: bytes) -> int:
    # REQUESTED-TRANSPORT (protocol), REQUESTED-ADDRESS-FAMILY (family)
    if len(value) != 4:
        raise ValueError(f"value is {len(value)} bytes, expected 4")
    return value[0]


def _encode_first_byte(value: int, header: bytes) -> bytes:
    return bytes([value, 0, 0, 0])


def _decode_even_port(value: bytes, header: bytes) -> bool:
    if len(value) < 1:
        raise ValueError("value is empty, expected 1 byte")
    return bool(value[0] & 0x80)


def _encode_even_port(value: bool, header: bytes) -> bytes:
    return bytes([0x80 if value else 0])


def _decode_short_pair(value: bytes, header: bytes) -> tuple[int, int]:
    # MS-SERVICE-QUALITY (stream type, quality); GOOG-NETWORK-INFO (id, cost)
    if len(value) != 4:
        raise ValueError(f"value is {len(value)} bytes, expected 4")
    first, second = struct.unpack("!HH", value)
    return int(first), int(second)


def _encode_short_pair(value: tuple[int, int], header: bytes) -> bytes:
    return struct.pack("!HH", *value)


def _decode_ms_sequence(value: bytes, header: bytes) -> tuple[bytes, int]:
    # [MS-TURN] 2.2.2.16: connection ID (20 bytes) + sequence number. Teams clients
    # send the 4-byte sequence number alone in Allocate requests (ntop teams.pcap).
    if len(value) == 4:
        return b"", int.from_bytes(value, "big")
    if len(value) != 24:
        raise ValueError(f"value is {len(value)} bytes, expected 24 (or 4)")
    return value[:20], int.from_bytes(value[20:], "big")


def _encode_ms_sequence(value: tuple[bytes, int], header: bytes) -> bytes:
    return value[0][:20].ljust(20, b"\x00") + struct.pack("!I", value[1])


def _decode_candidate_identifier(value: bytes, header: bytes) -> str:
    # [MS-ICE2] 2.2.2.3: the foundation, NUL-padded to 4; the length covers the pad
    return value.rstrip(b"\x00").decode("ascii", errors="replace")


def _encode_nul_padded_text(value: str, header: bytes) -> bytes:
    raw = value.encode("utf-8")
    return raw + b"\x00" * (-len(raw) % 4)


def _decode_nomination(value: bytes, header: bytes) -> int:
    if len(value) != 4:
        raise ValueError(f"value is {len(value)} bytes, expected 4")
    return int.from_bytes(value[1:], "big")  # 24-bit counter


def _encode_nomination(value: int, header: bytes) -> bytes:
    return struct.pack("!I", value & 0xFFFFFF)


def _decode_response_port(value: bytes, header: bytes) -> int:
    if len(value) != 4:
        raise ValueError(f"value is {len(value)} bytes, expected 4")
    return int(struct.unpack_from("!H", value)[0])


def _encode_response_port(value: int, header: bytes) -> bytes:
    return struct.pack("!HH", value, 0)


def _decode_icmp(value: bytes, header: bytes) -> tuple[int, int, int]:
    # RFC 8656 18.13: reserved (2), type (1), code (1), error data (4)
    if len(value) != 8:
        raise ValueError(f"value is {len(value)} bytes, expected 8")
    return value[2], value[3], int.from_bytes(value[4:8], "big")


def _encode_icmp(value: tuple[int, int, int], header: bytes) -> bytes:
    return struct.pack("!HBBI", 0, value[0], value[1], value[2])


def _decode_password_algorithm(value: bytes, header: bytes) -> tuple[int, bytes]:
    if len(value) < 4:
        raise ValueError(f"value is {len(value)} bytes, expected at least 4")
    alg, plen = struct.unpack_from("!HH", value)
    if 4 + plen > len(value):
        raise ValueError(f"parameter length {plen} overruns the value")
    return alg, value[4 : 4 + plen]


def _encode_password_algorithm(value: tuple[int, bytes], header: bytes) -> bytes:
    params = value[1]
    return struct.pack("!HH", value[0], len(params)) + params + b"\x00" * (-len(params) % 4)


def _decode_uint32_list(value: bytes, header: bytes) -> tuple[int, ...]:
    if len(value) % 4:
        raise ValueError(f"value is {len(value)} bytes, not a list of 32-bit values")
    return struct.unpack(f"!{len(value) // 4}I", value)


def _encode_uint32_list(value: Sequence[int], header: bytes) -> bytes:
    return struct.pack(f"!{len(value)}I", *value)


def _decode_bw_acm(value: bytes, header: bytes) -> int:
    if len(value) != 4:
        raise ValueError(f"value is {len(value)} bytes, expected 4")
    return int(struct.unpack_from("!H", value, 2)[0])  # 0 Check, 1 Commit, 2 Update


def _encode_bw_acm(value: int, header: bytes) -> bytes:
    return struct.pack("!HH", 0, value)


def _decode_bytes_tuple(value: bytes, header: bytes) -> tuple[int, ...]:
    return tuple(value)


def _encode_bytes_tuple(value: Sequence[int], header: bytes) -> bytes:
    return bytes(value)


@dataclass(frozen=True)
class ValueCodec:
    """How one kind of attribute value is read and written."""

    kind: str
    decode: Callable[[bytes, bytes], Any]
    encode: Callable[[Any, bytes], bytes]


CODECS: dict[str, ValueCodec] = {
    c.kind: c
    for c in (
        ValueCodec("address", _decode_plain_address, _encode_plain_address),
        ValueCodec("xor-address", _decode_xor_address, _encode_xor_address),
        ValueCodec("uint32", _decode_uint32, _encode_uint32),
        ValueCodec("uint64", _decode_uint64, _encode_uint64),
        ValueCodec("text", _decode_text, _encode_text),
        ValueCodec("bytes", _decode_bytes, _encode_bytes),
        ValueCodec("empty", _decode_empty, _encode_empty),
        ValueCodec("error-code", _decode_error_code, _encode_error_code),
        ValueCodec("attribute-list", _decode_attribute_list, _encode_attribute_list),
        ValueCodec("channel-number", _decode_channel_number, _encode_channel_number),
        ValueCodec("first-byte", _decode_first_byte, _encode_first_byte),
        ValueCodec("even-port", _decode_even_port, _encode_even_port),
        ValueCodec("short-pair", _decode_short_pair, _encode_short_pair),
        ValueCodec("ms-sequence", _decode_ms_sequence, _encode_ms_sequence),
        ValueCodec("nul-padded-text", _decode_candidate_identifier, _encode_nul_padded_text),
        ValueCodec("nomination", _decode_nomination, _encode_nomination),
        ValueCodec("response-port", _decode_response_port, _encode_response_port),
        ValueCodec("icmp", _decode_icmp, _encode_icmp),
        ValueCodec("password-algorithm", _decode_password_algorithm, _encode_password_algorithm),
        ValueCodec("uint32-list", _decode_uint32_list, _encode_uint32_list),
        ValueCodec("bandwidth-acm", _decode_bw_acm, _encode_bw_acm),
        ValueCodec("byte-list", _decode_bytes_tuple, _encode_bytes_tuple),
    )
}


@dataclass(frozen=True)
class AttributeSpec:
    """One row of the attribute registry: code, name, value kind, defining spec."""

    code: int
    name: str
    kind: str
    spec: str


A = AttributeType
_REGISTRY_ROWS: tuple[tuple[int, str, str, str], ...] = (
    (A.MAPPED_ADDRESS, "MAPPED-ADDRESS", "address", "RFC 5389"),
    (A.RESPONSE_ADDRESS, "RESPONSE-ADDRESS", "address", "RFC 3489"),
    (A.CHANGE_REQUEST, "CHANGE-REQUEST", "uint32", "RFC 5780"),
    (A.SOURCE_ADDRESS, "SOURCE-ADDRESS", "address", "RFC 3489"),
    (A.CHANGED_ADDRESS, "CHANGED-ADDRESS", "address", "RFC 3489"),
    (A.USERNAME, "USERNAME", "bytes", "RFC 5389"),
    (A.PASSWORD, "PASSWORD", "bytes", "RFC 3489"),
    (A.MESSAGE_INTEGRITY, "MESSAGE-INTEGRITY", "bytes", "RFC 5389"),
    (A.ERROR_CODE, "ERROR-CODE", "error-code", "RFC 5389"),
    (A.UNKNOWN_ATTRIBUTES, "UNKNOWN-ATTRIBUTES", "attribute-list", "RFC 5389"),
    (A.REFLECTED_FROM, "REFLECTED-FROM", "address", "RFC 3489"),
    (A.CHANNEL_NUMBER, "CHANNEL-NUMBER", "channel-number", "RFC 8656"),
    (A.LIFETIME, "LIFETIME", "uint32", "RFC 8656"),
    (A.MS_ALTERNATE_SERVER, "MS-ALTERNATE-SERVER", "address", "MS-TURN"),
    (A.MAGIC_COOKIE, "MAGIC-COOKIE", "uint32", "MS-TURN"),
    (A.BANDWIDTH, "BANDWIDTH", "uint32", "MS-TURN"),
    (A.DESTINATION_ADDRESS, "DESTINATION-ADDRESS", "address", "MS-TURN"),
    (A.XOR_PEER_ADDRESS, "XOR-PEER-ADDRESS", "xor-address", "RFC 8656"),
    (A.DATA, "DATA", "bytes", "RFC 8656"),
    (A.REALM, "REALM", "text", "RFC 5389"),
    (A.NONCE, "NONCE", "text", "RFC 5389"),
    (A.XOR_RELAYED_ADDRESS, "XOR-RELAYED-ADDRESS", "xor-address", "RFC 8656"),
    (A.REQUESTED_ADDRESS_FAMILY, "REQUESTED-ADDRESS-FAMILY", "first-byte", "RFC 6156"),
    (A.EVEN_PORT, "EVEN-PORT", "even-port", "RFC 8656"),
    (A.REQUESTED_TRANSPORT, "REQUESTED-TRANSPORT", "first-byte", "RFC 8656"),
    (A.DONT_FRAGMENT, "DONT-FRAGMENT", "empty", "RFC 8656"),
    (A.ACCESS_TOKEN, "ACCESS-TOKEN", "bytes", "RFC 7635"),
    (A.MESSAGE_INTEGRITY_SHA256, "MESSAGE-INTEGRITY-SHA256", "bytes", "RFC 8489"),
    (A.PASSWORD_ALGORITHM, "PASSWORD-ALGORITHM", "password-algorithm", "RFC 8489"),
    (A.USERHASH, "USERHASH", "bytes", "RFC 8489"),
    (A.XOR_MAPPED_ADDRESS, "XOR-MAPPED-ADDRESS", "xor-address", "RFC 5389"),
    (A.TIMER_VAL, "TIMER-VAL", "bytes", "TURN drafts"),
    (A.RESERVATION_TOKEN, "RESERVATION-TOKEN", "bytes", "RFC 8656"),
    (A.PRIORITY, "PRIORITY", "uint32", "RFC 8445"),
    (A.USE_CANDIDATE, "USE-CANDIDATE", "empty", "RFC 8445"),
    (A.PADDING, "PADDING", "bytes", "RFC 5780"),
    (A.RESPONSE_PORT, "RESPONSE-PORT", "response-port", "RFC 5780"),
    (A.CONNECTION_ID, "CONNECTION-ID", "uint32", "RFC 6062"),
    (A.LEGACY_ICMP, "LEGACY-ICMP", "bytes", "TURN draft"),
    (A.ADDITIONAL_ADDRESS_FAMILY, "ADDITIONAL-ADDRESS-FAMILY", "first-byte", "RFC 8656"),
    (A.ADDRESS_ERROR_CODE, "ADDRESS-ERROR-CODE", "bytes", "RFC 8656"),
    (A.PASSWORD_ALGORITHMS, "PASSWORD-ALGORITHMS", "bytes", "RFC 8489"),
    (A.ALTERNATE_DOMAIN, "ALTERNATE-DOMAIN", "text", "RFC 8489"),
    (A.ICMP, "ICMP", "icmp", "RFC 8656"),
    (A.MS_UNKNOWN_8006, "MS-UNKNOWN-8006", "bytes", "MS-TURN (undocumented)"),
    (A.MS_VERSION, "MS-VERSION", "uint32", "MS-TURN"),
    (A.MS_XOR_MAPPED_ADDRESS, "MS-XOR-MAPPED-ADDRESS", "xor-address", "MS-TURN"),
    (A.SOFTWARE, "SOFTWARE", "text", "RFC 5389"),
    (A.ALTERNATE_SERVER, "ALTERNATE-SERVER", "address", "RFC 5389"),
    (A.TRANSACTION_TRANSMIT_COUNTER, "TRANSACTION-TRANSMIT-COUNTER", "bytes", "RFC 7982"),
    (A.CACHE_TIMEOUT, "CACHE-TIMEOUT", "uint32", "RFC 5780"),
    (A.FINGERPRINT, "FINGERPRINT", "uint32", "RFC 5389"),
    (A.ICE_CONTROLLED, "ICE-CONTROLLED", "uint64", "RFC 8445"),
    (A.ICE_CONTROLLING, "ICE-CONTROLLING", "uint64", "RFC 8445"),
    (A.RESPONSE_ORIGIN, "RESPONSE-ORIGIN", "address", "RFC 5780"),
    (A.OTHER_ADDRESS, "OTHER-ADDRESS", "address", "RFC 5780"),
    (A.ECN_CHECK_STUN, "ECN-CHECK-STUN", "uint32", "RFC 6679"),
    (A.THIRD_PARTY_AUTHORIZATION, "THIRD-PARTY-AUTHORIZATION", "text", "RFC 7635"),
    (A.MOBILITY_TICKET, "MOBILITY-TICKET", "bytes", "RFC 8016"),
    (A.MS_ALTERNATE_HOST_NAME, "MS-ALTERNATE-HOST-NAME", "text", "MS-TURN"),
    (A.MS_APP_ID, "MS-APP-ID", "bytes", "MS-TURN"),
    (A.MS_SECURE_TAG, "MS-SECURE-TAG", "bytes", "MS-TURN"),
    (A.MS_SEQUENCE_NUMBER, "MS-SEQUENCE-NUMBER", "ms-sequence", "MS-TURN"),
    (A.CANDIDATE_IDENTIFIER, "CANDIDATE-IDENTIFIER", "nul-padded-text", "MS-ICE2"),
    (A.MS_SERVICE_QUALITY, "MS-SERVICE-QUALITY", "short-pair", "MS-TURN"),
    (A.BANDWIDTH_ACM, "BANDWIDTH-ACM", "bandwidth-acm", "MS-TURNBWM"),
    (A.BANDWIDTH_RESERVATION_ID, "BANDWIDTH-RESERVATION-ID", "bytes", "MS-TURNBWM"),
    (A.BANDWIDTH_RESERVATION_AMOUNT, "BANDWIDTH-RESERVATION-AMOUNT", "uint32-list", "MS-TURNBWM"),
    (A.REMOTE_SITE_ADDRESS, "REMOTE-SITE-ADDRESS", "xor-address", "MS-TURNBWM"),
    (A.REMOTE_RELAY_SITE_ADDRESS, "REMOTE-RELAY-SITE-ADDRESS", "xor-address", "MS-TURNBWM"),
    (A.LOCAL_SITE_ADDRESS, "LOCAL-SITE-ADDRESS", "xor-address", "MS-TURNBWM"),
    (A.LOCAL_RELAY_SITE_ADDRESS, "LOCAL-RELAY-SITE-ADDRESS", "xor-address", "MS-TURNBWM"),
    (A.REMOTE_SITE_ADDRESS_RESPONSE, "REMOTE-SITE-ADDRESS-RESPONSE", "uint32-list", "MS-TURNBWM"),
    (
        A.REMOTE_RELAY_SITE_ADDRESS_RESPONSE,
        "REMOTE-RELAY-SITE-ADDRESS-RESPONSE",
        "uint32-list",
        "MS-TURNBWM",
    ),
    (A.LOCAL_SITE_ADDRESS_RESPONSE, "LOCAL-SITE-ADDRESS-RESPONSE", "uint32-list", "MS-TURNBWM"),
    (
        A.LOCAL_RELAY_SITE_ADDRESS_RESPONSE,
        "LOCAL-RELAY-SITE-ADDRESS-RESPONSE",
        "uint32-list",
        "MS-TURNBWM",
    ),
    (A.SIP_DIALOG_ID, "SIP-DIALOG-ID", "bytes", "MS-TURNBWM"),
    (A.SIP_CALL_ID, "SIP-CALL-ID", "text", "MS-TURNBWM"),
    (A.LOCATION_PROFILE, "LOCATION-PROFILE", "byte-list", "MS-TURNBWM"),
    (A.IMPLEMENTATION_VERSION, "IMPLEMENTATION-VERSION", "uint32", "MS-ICE2"),
    (A.MS_ALTERNATE_MAPPED_ADDRESS, "MS-ALTERNATE-MAPPED-ADDRESS", "address", "MS-TURN"),
    (A.MULTIPLEXED_TURN_SESSION_ID, "MULTIPLEXED-TURN-SESSION-ID", "bytes", "MS-TURN"),
    (A.CISCO_STUN_FLOWDATA, "CISCO-STUN-FLOWDATA", "bytes", "IANA (Cisco)"),
    (A.NOMINATION, "NOMINATION", "nomination", "WebRTC renomination"),
    (A.ENF_NETWORK_STATUS, "ENF-NETWORK-STATUS", "bytes", "IANA (Cisco)"),
    (A.GOOG_NETWORK_INFO, "GOOG-NETWORK-INFO", "short-pair", "IANA (Google)"),
    (A.GOOG_LAST_ICE_CHECK_RECEIVED, "GOOG-LAST-ICE-CHECK-RECEIVED", "bytes", "Google"),
    (A.GOOG_MISC_INFO, "GOOG-MISC-INFO", "bytes", "Google"),
    (A.GOOG_OBSOLETE_1, "GOOG-OBSOLETE-1", "bytes", "Google"),
    (A.GOOG_CONNECTION_ID, "GOOG-CONNECTION-ID", "bytes", "Google"),
    (A.GOOG_DELTA, "GOOG-DELTA", "bytes", "Google"),
    (A.GOOG_DELTA_ACK, "GOOG-DELTA-ACK", "bytes", "Google"),
    (A.GOOG_DELTA_SYNC_REQ, "GOOG-DELTA-SYNC-REQ", "bytes", "libwebrtc"),
    (A.GOOG_MESSAGE_INTEGRITY_32, "GOOG-MESSAGE-INTEGRITY-32", "bytes", "Google"),
    (A.META_DTLS_IN_STUN, "META-DTLS-IN-STUN", "bytes", "libwebrtc"),
    (A.META_DTLS_IN_STUN_ACK, "META-DTLS-IN-STUN-ACK", "bytes", "libwebrtc"),
    (A.GOOG_MULTI_MAPPING, "GOOG-MULTI-MAPPING", "bytes", "libwebrtc"),
    (A.GOOG_LOGGING_ID, "GOOG-LOGGING-ID", "bytes", "libwebrtc"),
)

REGISTRY: dict[int, AttributeSpec] = {
    int(code): AttributeSpec(int(code), name, kind, spec) for code, name, kind, spec in _REGISTRY_ROWS
}

# Codes whose meaning differs in the pre-5389 dialects (TURN-08, MS-TURN, RFC 3489).
_LEGACY_OVERRIDES: dict[int, AttributeSpec] = {
    0x0012: AttributeSpec(0x0012, "REMOTE-ADDRESS", "address", "MS-TURN"),
    0x0014: AttributeSpec(0x0014, "NONCE", "text", "MS-TURN"),
    0x0015: AttributeSpec(0x0015, "REALM", "text", "MS-TURN"),
}

NAME_TO_CODE: dict[str, int] = {spec.name: code for code, spec in REGISTRY.items()}
NAME_TO_CODE.update({spec.name: code for code, spec in _LEGACY_OVERRIDES.items() if spec.name not in NAME_TO_CODE})
NAME_TO_CODE["REMOTE-ADDRESS"] = 0x0012


_INTEGRITY, _INTEGRITY_SHA256, _FINGERPRINT, _DATA = 0x0008, 0x001C, 0x8028, 0x0013
# code -> (name, decoder), precomputed per dialect family for the per-message loop
_DECODERS: dict[int, tuple[str, Callable[[bytes, bytes], Any]]] = {
    code: (spec.name, CODECS[spec.kind].decode) for code, spec in REGISTRY.items()
}
_LEGACY_DECODERS = {
    **_DECODERS,
    **{code: (spec.name, CODECS[spec.kind].decode) for code, spec in _LEGACY_OVERRIDES.items()},
}


def attribute_spec(code: int, dialect: str = "rfc5389") -> AttributeSpec:
    """The registry row for `code` as `dialect` reads it; unknown codes get a raw row."""
    if dialect in LEGACY_DIALECTS and code in _LEGACY_OVERRIDES:
        return _LEGACY_OVERRIDES[code]
    spec = REGISTRY.get(code)
    if spec is None:
        return AttributeSpec(code, f"0x{code:04X}", "bytes", "unknown")
    return spec


def attribute_name(code: int, dialect: str = "rfc5389") -> str:
    return attribute_spec(code, dialect).name


# ---------------------------------------------------------------------------
# Decoded messages
# ---------------------------------------------------------------------------


class DecodedAttribute(NamedTuple):
    """One attribute; a NamedTuple because thousands are made per second on the capture path."""

    type: int
    name: str
    offset: int  # from the start of the message
    length: int  # declared value length
    raw: bytes
    value: Any  # typed per the registry; the raw bytes when the value was malformed


@dataclass(slots=True)
class DecodedStun:
    dialect: Dialect | Literal[""]  # "" when too short to have a header
    type: int
    method: int
    method_name: str
    cls: str
    transaction_id: bytes
    length: int
    attributes: tuple[DecodedAttribute, ...]
    anomalies: tuple[str, ...]
    fingerprint: FingerprintResult
    nested: DecodedStun | None
    raw: bytes
    padded: bool = True

    def get(self, key: str | int) -> DecodedAttribute | None:
        """First attribute with this name or code, or None."""
        for attr in self.attributes:
            if attr.type == key or attr.name == key:
                return attr
        return None

    def value(self, key: str | int, default: Any = None) -> Any:
        attr = self.get(key)
        return default if attr is None else attr.value


@dataclass(frozen=True, slots=True)
class DecodedChannelData:
    channel: int
    length: int
    payload: bytes
    size: int  # bytes consumed, TCP padding included
    session_id: bytes | None = None  # MS multiplexed TURN (0xFF10)
    anomalies: tuple[str, ...] = ()


def _split_type(msg_type: int) -> tuple[int, int]:
    # RFC 5389 6: 0 0 M11..M7 C1 M6..M4 C0 M3..M0
    method = (msg_type & 0x000F) | ((msg_type & 0x00E0) >> 1) | ((msg_type & 0x3E00) >> 2)
    cls = ((msg_type >> 4) & 0x1) | ((msg_type >> 7) & 0x2)
    return method, cls


def compose_type(method: int, cls: int) -> int:
    """RFC 5389 6: interleave method and class bits into a message type."""
    return (
        (method & 0x000F)
        | ((method & 0x0070) << 1)
        | ((method & 0x0F80) << 2)
        | ((cls & 0x1) << 4)
        | ((cls & 0x2) << 7)
    )


def _walk_attributes(data: bytes, padded: bool, end: int) -> tuple[list[tuple[int, int, int]], str | None]:
    """(type, offset, length) of each attribute, or the problem that stopped the walk."""
    out: list[tuple[int, int, int]] = []
    append = out.append
    pos = HEADER_SIZE
    while pos < end:
        if pos + 4 > end:
            return out, f"attribute header at offset {pos} is cut short"
        atype = (data[pos] << 8) | data[pos + 1]
        alen = (data[pos + 2] << 8) | data[pos + 3]
        if pos + 4 + alen > end:
            name = attribute_name(atype)
            return out, f"attribute/{name}: length {alen} at offset {pos} overruns the message"
        append((atype, pos, alen))
        pos += 4 + alen
        if padded and alen & 3:
            pos += 4 - (alen & 3)
    if pos > end:
        # the last attribute's padding runs past the end (lenient: keep it)
        return out, "last attribute's padding runs past the message end"
    return out, None


# attribute types that decide the dialect by their mere presence
_DIALECT_MARKERS = frozenset(
    (
        AttributeType.MAGIC_COOKIE,
        AttributeType.MS_VERSION,
        AttributeType.IMPLEMENTATION_VERSION,
        AttributeType.CANDIDATE_IDENTIFIER,
    )
)


def _detect_dialect(data: bytes, has_cookie: bool, walk: list[tuple[int, int, int]]) -> Dialect:
    types = [t for t, _, _ in walk]
    if has_cookie and _DIALECT_MARKERS.isdisjoint(types):
        return "rfc5389"
    if types and types[0] == AttributeType.MAGIC_COOKIE:
        off = walk[0][1]
        if walk[0][2] == 4 and struct.unpack_from("!I", data, off + 4)[0] == MS_MAGIC_COOKIE_VALUE:
            return "ms-turn"
    if AttributeType.MS_VERSION in types:
        return "ms-turn"
    if AttributeType.IMPLEMENTATION_VERSION in types or AttributeType.CANDIDATE_IDENTIFIER in types:
        return "ms-ice2"
    if has_cookie:
        return "rfc5389"
    for t, off, length in walk:
        if t == AttributeType.USERNAME:
            value = data[off + 4 : off + 4 + length]
            if any(b < 0x20 or b > 0x7E for b in value.rstrip(b"\x00")):
                return "ms-ice"  # [MS-ICE] binary USERNAME (OC 2007)
    return "rfc3489"


def looks_like_stun_header(data: bytes) -> bool:
    """Top bits 00, and 20 + declared length fits the buffer exactly."""
    return len(data) >= HEADER_SIZE and data[0] < 0x40 and HEADER_SIZE + ((data[2] << 8) | data[3]) == len(data)


def decode_stun(data: bytes, *, depth: int = 0, dialect_hint: Dialect | None = None) -> DecodedStun:
    """Decode one STUN-family message; never raises, problems go to `anomalies`."""
    data = bytes(data)
    anomalies: list[str] = []
    if len(data) < HEADER_SIZE:
        return DecodedStun(
            "",
            0,
            0,
            "",
            "",
            b"",
            0,
            (),
            (f"header: message is {len(data)} bytes, expected at least 20",),
            "absent",
            None,
            data,
        )
    msg_type, length = struct.unpack_from("!HH", data)
    end = _message_end(data, msg_type, length, anomalies)
    has_cookie = data[4:8] == MAGIC_COOKIE_BYTES
    walk, err, padded, dialect = _layout(data, end, has_cookie, dialect_hint)
    if err:
        anomalies.append(err)
    if has_cookie and length % 4 and padded:
        anomalies.append(f"header: length {length} is not a multiple of 4")

    legacy_types = dialect in LEGACY_DIALECTS or (not has_cookie and dialect == "ms-ice2")
    method, method_name, cls_name = _type_names(msg_type, legacy_types)
    tid = data[8:20] if has_cookie else data[4:20]

    attributes, nested = _attributes(data, walk, dialect, depth, anomalies)

    raw_message = data if end == len(data) else data[:end]
    fingerprint = _fingerprint(data, walk, end, raw_message)
    if fingerprint == "bad":
        anomalies.append("attribute/FINGERPRINT: CRC does not match the message")
    return DecodedStun(
        dialect,
        msg_type,
        method,
        method_name,
        cls_name,
        tid,
        length,
        attributes,
        tuple(anomalies),
        fingerprint,
        nested,
        raw_message,
        padded,
    )


def _message_end(data: bytes, msg_type: int, length: int, anomalies: list[str]) -> int:
    """Where the message ends by its header's length, clamped to the bytes present."""
    if msg_type & 0xC000:
        anomalies.append(f"header: top bits of type 0x{msg_type:04x} are not 00")
    end = HEADER_SIZE + length
    if end > len(data):
        anomalies.append(f"header: length {length} overruns the {len(data) - HEADER_SIZE} bytes present")
        return len(data)
    if end < len(data):
        anomalies.append(f"trailer: {len(data) - end} bytes after the message")
    return end


def _layout(
    data: bytes, end: int, has_cookie: bool, dialect_hint: Dialect | None
) -> tuple[list[tuple[int, int, int]], str | None, bool, Dialect]:
    """(attribute walk, walk error, padded, dialect). Attribute padding: 5389 pads, MS-TURN and
    classic do not. Walk the expected layout first, and the other one only if the first does not
    end cleanly."""
    walk, err = _walk_attributes(data, True, end)
    dialect = dialect_hint or _detect_dialect(data, has_cookie, walk)
    if err is not None or dialect == "ms-turn":
        walk_plain, err_plain = _walk_attributes(data, False, end)
        plain_dialect = dialect_hint or _detect_dialect(data, has_cookie, walk_plain)
        if (err_plain is None and (err is not None or plain_dialect == "ms-turn")) or (
            err is not None and err_plain is not None and plain_dialect == "ms-turn"
        ):
            return walk_plain, err_plain, False, plain_dialect
    return walk, err, True, dialect


def _attributes(
    data: bytes, walk: list[tuple[int, int, int]], dialect: str, depth: int, anomalies: list[str]
) -> tuple[tuple[DecodedAttribute, ...], DecodedStun | None]:
    """Every attribute decoded by the dialect's registry, and the message a DATA attribute carries."""
    header = data[:HEADER_SIZE]
    attributes: list[DecodedAttribute] = []
    nested: DecodedStun | None = None
    seen_integrity = False
    decoders = _LEGACY_DECODERS if dialect in LEGACY_DIALECTS else _DECODERS
    last = len(walk) - 1
    new_tuple = tuple.__new__  # DecodedAttribute(...) without the generated __new__'s Python frame
    decode: Callable[[bytes, bytes], Any]
    for index, (atype, off, alen) in enumerate(walk):
        entry = decoders.get(atype)
        if entry is None:
            name, decode = f"0x{atype:04X}", _decode_bytes
        else:
            name, decode = entry
        raw = data[off + 4 : off + 4 + alen]
        if seen_integrity and atype != _FINGERPRINT and atype != _INTEGRITY_SHA256:
            anomalies.append(f"attribute/{name}: follows MESSAGE-INTEGRITY")
        if atype == _INTEGRITY:
            seen_integrity = True
        elif atype == _FINGERPRINT and index != last:
            anomalies.append("attribute/FINGERPRINT: not the last attribute")
        try:
            value = decode(raw, header)
        except (ValueError, struct.error) as exc:
            anomalies.append(f"attribute/{name}: {exc}")
            value = raw
        attributes.append(new_tuple(DecodedAttribute, (atype, name, off, alen, raw, value)))
        if atype == _DATA and nested is None and raw:
            if depth >= MAX_DEPTH:
                anomalies.append("attribute/DATA: nesting deeper than the limit, not decoded")
            elif looks_like_stun_header(raw):
                nested = decode_stun(raw, depth=depth + 1)

    return tuple(attributes), nested


def _fingerprint(data: bytes, walk: list[tuple[int, int, int]], end: int, raw_message: bytes) -> FingerprintResult:
    last_type, last_offset, last_length = walk[-1] if walk else (0, 0, 0)
    if (
        last_type == _FINGERPRINT
        and last_length == 4
        and last_offset + 8 == end
        and (zlib.crc32(data[:last_offset]) ^ FINGERPRINT_XOR) == int.from_bytes(data[end - 4 : end], "big")
    ):
        return "ok"  # the common case, checked without searching for the attribute
    return verify_fingerprint(raw_message) if walk else "absent"


_TYPE_NAMES: dict[tuple[int, bool], tuple[int, str, str]] = {}


def _type_names(msg_type: int, legacy_types: bool) -> tuple[int, str, str]:
    """(method, method name, class name) of a message type, remembered: few types recur."""
    names = _TYPE_NAMES.get((msg_type, legacy_types))
    if names is None:
        method, cls = _split_type(msg_type)
        if legacy_types and msg_type in LEGACY_TYPES:
            names = (method, *LEGACY_TYPES[msg_type])
        else:
            names = (method, METHOD_NAMES.get(method, f"0x{method:03x}"), CLASS_NAMES[cls])
        _TYPE_NAMES[(msg_type, legacy_types)] = names  # at most 2 x 65536 entries
    return names


def decode_channel_data(data: bytes, *, stream: bool = False) -> DecodedChannelData | None:
    """RFC 8656 12.4 ChannelData, or MS 0xFF10 multiplexed TURN; None if not ChannelData.

    Over streams the frame is padded to 4 bytes and `size` includes the pad.
    """
    if len(data) < 4:
        return None
    channel, length = struct.unpack_from("!HH", data)
    anomalies: list[str] = []
    session_id = None
    if channel == MS_MULTIPLEXED_CHANNEL:
        # [MS-TURN] multiplexed TURN: 0xFF10, length, 8-byte session id, data
        if len(data) < 12:
            return None
        session_id = bytes(data[4:12])
        payload_start = 12
        body_len = length - 8 if length >= 8 else 0
    elif 0x4000 <= channel <= 0x7FFF:
        if channel > 0x4FFF:
            anomalies.append(f"channel: 0x{channel:04x} is outside RFC 8656's 0x4000-0x4FFF")
        payload_start = 4
        body_len = length
    else:
        return None
    size = payload_start + body_len
    if stream:
        size += -size % 4
    if payload_start + body_len > len(data):
        anomalies.append(f"length: {length} overruns the {len(data) - 4} bytes present")
    payload = bytes(data[payload_start : payload_start + body_len])
    return DecodedChannelData(channel, length, payload, size, session_id, tuple(anomalies))


# ---------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------


@dataclass
class Attr:
    """An attribute to encode: a registry name or code, and a typed value or raw bytes."""

    key: str | int
    value: Any = None
    raw: bytes | None = None


@dataclass
class StunBuilder:
    """Assemble a message: header fields, attributes, then INTEGRITY and FINGERPRINT.

    `dialect` "ms-turn" writes no attribute padding and reads 0x0012/0x0014/0x0015
    with their MS-TURN meanings. `integrity_key` adds MESSAGE-INTEGRITY (SHA-1, or
    SHA-256 when `integrity_sha256`), `integrity_legacy` uses the RFC 3489 64-byte
    zero-padded input; `fingerprint` appends FINGERPRINT.
    """

    msg_type: int
    transaction_id: bytes
    attributes: list[Attr] = field(default_factory=list)
    dialect: str = "rfc5389"
    cookie: bool = True
    integrity_key: bytes | None = None
    integrity_sha256: bool = False
    integrity_legacy: bool = False
    fingerprint: bool = False

    def encode(self) -> bytes:
        padded = self.dialect != "ms-turn"
        if self.cookie:
            if len(self.transaction_id) != 12:
                raise ValueError("a 5389-style transaction id is 12 bytes")
            tid_field = MAGIC_COOKIE_BYTES + self.transaction_id
        else:
            if len(self.transaction_id) != 16:
                raise ValueError("a classic transaction id is 16 bytes")
            tid_field = self.transaction_id
        header = struct.pack("!HH", self.msg_type, 0) + tid_field
        body = b"".join(self._encode_attr(a, header, padded) for a in self.attributes)
        msg = bytearray(header + body)
        struct.pack_into("!H", msg, 2, len(body))
        if self.integrity_key is not None:
            size = 32 if self.integrity_sha256 else 20
            struct.pack_into("!H", msg, 2, len(msg) - HEADER_SIZE + 4 + size)
            mac = compute_integrity(
                bytes(msg),
                self.integrity_key,
                sha256=self.integrity_sha256,
                legacy=self.integrity_legacy,
            )
            msg += struct.pack("!HH", AttributeType.MESSAGE_INTEGRITY, size) + mac
        if self.fingerprint:
            struct.pack_into("!H", msg, 2, len(msg) - HEADER_SIZE + 8)
            msg += struct.pack("!HHI", AttributeType.FINGERPRINT, 4, compute_fingerprint(bytes(msg)))
        struct.pack_into("!H", msg, 2, len(msg) - HEADER_SIZE)
        return bytes(msg)

    def _encode_attr(self, attr: Attr, header: bytes, padded: bool) -> bytes:
        code = attr.key if isinstance(attr.key, int) else code_for(attr.key, self.dialect)
        if attr.raw is not None:
            value = attr.raw
        else:
            spec = attribute_spec(code, self.dialect)
            value = CODECS[spec.kind].encode(attr.value, header)
        out = struct.pack("!HH", code, len(value)) + value
        if padded:
            out += b"\x00" * (-len(value) % 4)
        return out


def code_for(name: str, dialect: str = "rfc5389") -> int:
    """Attribute code for a registry name, honouring the legacy dialects' names."""
    if dialect in LEGACY_DIALECTS:
        for code, spec in _LEGACY_OVERRIDES.items():
            if spec.name == name:
                return code
    try:
        return NAME_TO_CODE[name]
    except KeyError:
        raise ValueError(f"unknown attribute name {name!r}") from None


def encode_stun(
    msg_type: int,
    transaction_id: bytes,
    attributes: Iterable[Attr | tuple[str | int, Any]] = (),
    **options: Any,
) -> bytes:
    """Build a message; see StunBuilder for the options."""
    attrs = [a if isinstance(a, Attr) else Attr(a[0], a[1]) for a in attributes]
    return StunBuilder(msg_type, transaction_id, attrs, **options).encode()


def encode_channel_data(
    channel: int, payload: bytes, *, stream: bool = False, session_id: bytes | None = None
) -> bytes:
    """ChannelData (padded to 4 when `stream`), or MS 0xFF10 with its session id."""
    if channel == MS_MULTIPLEXED_CHANNEL:
        sid = (session_id or b"\x00" * 8)[:8].ljust(8, b"\x00")
        out = struct.pack("!HH", channel, 8 + len(payload)) + sid + payload
    else:
        out = struct.pack("!HH", channel, len(payload)) + payload
    if stream:
        out += b"\x00" * (-len(out) % 4)
    return out
