"""STUN-family wire constants: methods, classes, attribute codes, error codes.

Specs: RFC 3489, 5389, 8489 (STUN); 5766, 8656, 6062, 6156 (TURN); 5245, 8445
(ICE); 5780 (NAT behaviour discovery); [MS-TURN], [MS-TURNBWM], [MS-ICE2].
"""

from __future__ import annotations

from enum import IntEnum
from typing import Literal

# How a message reads its attributes: RFC 5389/8489, the pre-5389 family (RFC 3489, TURN-08 and
# MS-TURN, which share the 0x0012/0x0014/0x0015 meanings), [MS-ICE] binary usernames, MS-ICE2.
Dialect = Literal["rfc5389", "rfc3489", "ms-turn", "ms-ice", "ms-ice2"]
LEGACY_DIALECTS: frozenset[Dialect] = frozenset(("ms-turn", "rfc3489", "ms-ice"))

MAGIC_COOKIE = 0x2112A442
MAGIC_COOKIE_BYTES = b"\x21\x12\xa4\x42"
MS_MAGIC_COOKIE_VALUE = 0x72C64BC6  # [MS-TURN] 2.2.2.12, MAGIC-COOKIE attribute value
FINGERPRINT_XOR = 0x5354554E  # RFC 5389 15.5, ASCII "STUN"
HEADER_SIZE = 20
MS_MULTIPLEXED_CHANNEL = 0xFF10  # [MS-TURN] multiplexed TURN data


class Method(IntEnum):
    BINDING = 0x001  # RFC 5389
    SHARED_SECRET = 0x002  # RFC 3489, removed in 5389
    ALLOCATE = 0x003  # RFC 5766/8656, MS-TURN
    REFRESH = 0x004  # RFC 5766/8656 (MS-TURN: Send request)
    SEND = 0x006  # RFC 5766/8656 (MS-TURN: Set Active Destination)
    DATA = 0x007  # RFC 5766/8656
    CREATE_PERMISSION = 0x008  # RFC 5766/8656
    CHANNEL_BIND = 0x009  # RFC 5766/8656
    CONNECT = 0x00A  # RFC 6062
    CONNECTION_BIND = 0x00B  # RFC 6062
    CONNECTION_ATTEMPT = 0x00C  # RFC 6062
    GOOG_PING = 0x080  # IANA, Google


METHOD_NAMES: dict[int, str] = {
    Method.BINDING: "binding",
    Method.SHARED_SECRET: "shared-secret",
    Method.ALLOCATE: "allocate",
    Method.REFRESH: "refresh",
    Method.SEND: "send",
    Method.DATA: "data",
    Method.CREATE_PERMISSION: "create-permission",
    Method.CHANNEL_BIND: "channel-bind",
    Method.CONNECT: "connect",
    Method.CONNECTION_BIND: "connection-bind",
    Method.CONNECTION_ATTEMPT: "connection-attempt",
    Method.GOOG_PING: "goog-ping",
}


class MessageClass(IntEnum):
    REQUEST = 0b00
    INDICATION = 0b01
    SUCCESS = 0b10
    ERROR = 0b11


CLASS_NAMES: dict[int, str] = {
    MessageClass.REQUEST: "request",
    MessageClass.INDICATION: "indication",
    MessageClass.SUCCESS: "success",
    MessageClass.ERROR: "error",
}

# RFC 3489 / TURN-08 / [MS-TURN] 2.2.1: types are plain enum values, not method+class bits.
# value -> (method name, class name)
LEGACY_TYPES: dict[int, tuple[str, str]] = {
    0x0001: ("binding", "request"),
    0x0101: ("binding", "success"),
    0x0111: ("binding", "error"),
    0x0011: ("binding", "indication"),
    0x0002: ("shared-secret", "request"),
    0x0102: ("shared-secret", "success"),
    0x0112: ("shared-secret", "error"),
    0x0003: ("allocate", "request"),
    0x0103: ("allocate", "success"),
    0x0113: ("allocate", "error"),
    0x0004: ("ms-send", "request"),  # TURN-08 Send request; never answered in MS-TURN
    0x0115: ("ms-data", "indication"),  # TURN-08 / MS-TURN Data indication
    0x0006: ("set-active-destination", "request"),
    0x0106: ("set-active-destination", "success"),
    0x0116: ("set-active-destination", "error"),
}


class AttributeType(IntEnum):
    MAPPED_ADDRESS = 0x0001  # RFC 3489/5389; MS-TURN Allocate success: the relayed address
    RESPONSE_ADDRESS = 0x0002  # RFC 3489
    CHANGE_REQUEST = 0x0003  # RFC 3489/5780
    SOURCE_ADDRESS = 0x0004  # RFC 3489
    CHANGED_ADDRESS = 0x0005  # RFC 3489
    USERNAME = 0x0006  # all
    PASSWORD = 0x0007  # RFC 3489
    MESSAGE_INTEGRITY = 0x0008  # all
    ERROR_CODE = 0x0009  # all
    UNKNOWN_ATTRIBUTES = 0x000A  # all
    REFLECTED_FROM = 0x000B  # RFC 3489
    CHANNEL_NUMBER = 0x000C  # RFC 5766/8656
    LIFETIME = 0x000D  # RFC 5766/8656, MS-TURN
    MS_ALTERNATE_SERVER = 0x000E  # MS-TURN
    MAGIC_COOKIE = 0x000F  # MS-TURN
    BANDWIDTH = 0x0010  # MS-TURN
    DESTINATION_ADDRESS = 0x0011  # MS-TURN (plain address)
    XOR_PEER_ADDRESS = 0x0012  # RFC 5766/8656; MS-TURN REMOTE-ADDRESS (plain)
    DATA = 0x0013  # TURN, MS-TURN
    REALM = 0x0014  # RFC 5389; MS-TURN NONCE
    NONCE = 0x0015  # RFC 5389; MS-TURN REALM
    XOR_RELAYED_ADDRESS = 0x0016  # RFC 5766/8656
    REQUESTED_ADDRESS_FAMILY = 0x0017  # RFC 6156/8656, MS-TURN
    EVEN_PORT = 0x0018  # RFC 5766/8656
    REQUESTED_TRANSPORT = 0x0019  # RFC 5766/8656
    DONT_FRAGMENT = 0x001A  # RFC 5766/8656
    ACCESS_TOKEN = 0x001B  # RFC 7635
    MESSAGE_INTEGRITY_SHA256 = 0x001C  # RFC 8489
    PASSWORD_ALGORITHM = 0x001D  # RFC 8489
    USERHASH = 0x001E  # RFC 8489
    XOR_MAPPED_ADDRESS = 0x0020  # RFC 5389/8489
    TIMER_VAL = 0x0021  # old TURN drafts
    RESERVATION_TOKEN = 0x0022  # RFC 5766/8656
    PRIORITY = 0x0024  # RFC 5245/8445
    USE_CANDIDATE = 0x0025  # RFC 5245/8445
    PADDING = 0x0026  # RFC 5780
    RESPONSE_PORT = 0x0027  # RFC 5780
    CONNECTION_ID = 0x002A  # RFC 6062
    LEGACY_ICMP = 0x0030  # TURN draft
    ADDITIONAL_ADDRESS_FAMILY = 0x8000  # RFC 8656
    ADDRESS_ERROR_CODE = 0x8001  # RFC 8656
    PASSWORD_ALGORITHMS = 0x8002  # RFC 8489
    ALTERNATE_DOMAIN = 0x8003  # RFC 8489
    ICMP = 0x8004  # RFC 8656
    MS_UNKNOWN_8006 = 0x8006  # seen in MS-TURN captures, undocumented
    MS_VERSION = 0x8008  # MS-TURN
    MS_XOR_MAPPED_ADDRESS = 0x8020  # MS-TURN, rfc3489bis drafts
    SOFTWARE = 0x8022  # RFC 5389
    ALTERNATE_SERVER = 0x8023  # RFC 5389
    TRANSACTION_TRANSMIT_COUNTER = 0x8025  # RFC 7982
    CACHE_TIMEOUT = 0x8027  # RFC 5780
    FINGERPRINT = 0x8028  # RFC 5389
    ICE_CONTROLLED = 0x8029  # RFC 5245/8445
    ICE_CONTROLLING = 0x802A  # RFC 5245/8445
    RESPONSE_ORIGIN = 0x802B  # RFC 5780
    OTHER_ADDRESS = 0x802C  # RFC 5780
    ECN_CHECK_STUN = 0x802D  # RFC 6679
    THIRD_PARTY_AUTHORIZATION = 0x802E  # RFC 7635
    MOBILITY_TICKET = 0x8030  # RFC 8016
    MS_ALTERNATE_HOST_NAME = 0x8032  # MS-TURN
    MS_APP_ID = 0x8037  # MS-TURN
    MS_SECURE_TAG = 0x8039  # MS-TURN
    MS_SEQUENCE_NUMBER = 0x8050  # MS-TURN
    CANDIDATE_IDENTIFIER = 0x8054  # MS-ICE2
    MS_SERVICE_QUALITY = 0x8055  # MS-TURN
    BANDWIDTH_ACM = 0x8056  # MS-TURNBWM
    BANDWIDTH_RESERVATION_ID = 0x8057  # MS-TURNBWM
    BANDWIDTH_RESERVATION_AMOUNT = 0x8058  # MS-TURNBWM
    REMOTE_SITE_ADDRESS = 0x8059  # MS-TURNBWM
    REMOTE_RELAY_SITE_ADDRESS = 0x805A  # MS-TURNBWM
    LOCAL_SITE_ADDRESS = 0x805B  # MS-TURNBWM
    LOCAL_RELAY_SITE_ADDRESS = 0x805C  # MS-TURNBWM
    REMOTE_SITE_ADDRESS_RESPONSE = 0x805D  # MS-TURNBWM
    REMOTE_RELAY_SITE_ADDRESS_RESPONSE = 0x805E  # MS-TURNBWM
    LOCAL_SITE_ADDRESS_RESPONSE = 0x805F  # MS-TURNBWM
    LOCAL_RELAY_SITE_ADDRESS_RESPONSE = 0x8060  # MS-TURNBWM
    SIP_DIALOG_ID = 0x8061  # MS-TURNBWM
    SIP_CALL_ID = 0x8062  # MS-TURNBWM
    LOCATION_PROFILE = 0x8068  # MS-TURNBWM
    IMPLEMENTATION_VERSION = 0x8070  # MS-ICE2
    MS_ALTERNATE_MAPPED_ADDRESS = 0x8090  # MS-TURN (plain IPv6 relayed address)
    MULTIPLEXED_TURN_SESSION_ID = 0x8095  # MS-TURN
    CISCO_STUN_FLOWDATA = 0xC000  # IANA (Cisco)
    NOMINATION = 0xC001  # WebRTC renomination (IANA: ENF-FLOW-DESCRIPTION)
    ENF_NETWORK_STATUS = 0xC002  # IANA (Cisco)
    GOOG_NETWORK_INFO = 0xC057  # IANA (Google)
    GOOG_LAST_ICE_CHECK_RECEIVED = 0xC058  # Google
    GOOG_MISC_INFO = 0xC059  # Google
    GOOG_OBSOLETE_1 = 0xC05A  # Google
    GOOG_CONNECTION_ID = 0xC05B  # Google
    GOOG_DELTA = 0xC05C  # Google
    GOOG_DELTA_ACK = 0xC05D  # Google
    GOOG_DELTA_SYNC_REQ = 0xC05E  # libwebrtc
    GOOG_MESSAGE_INTEGRITY_32 = 0xC060  # Google
    META_DTLS_IN_STUN = 0xC070  # libwebrtc
    META_DTLS_IN_STUN_ACK = 0xC071  # libwebrtc
    GOOG_MULTI_MAPPING = 0xFF04  # libwebrtc TURN
    GOOG_LOGGING_ID = 0xFF05  # libwebrtc TURN


ERROR_REASONS: dict[int, str] = {
    274: "Disable Candidate",  # MS-ICE2BWM
    275: "Disable Candidate Pair",  # MS-ICE2BWM
    300: "Try Alternate",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    405: "Mobility Forbidden",
    420: "Unknown Attribute",
    430: "Stale Credentials",  # RFC 3489
    431: "Integrity Check Failure",  # RFC 3489
    432: "Missing Username",  # RFC 3489
    433: "Use TLS",  # RFC 3489
    434: "Missing Realm",  # MS-TURN
    435: "Missing Nonce",  # MS-TURN
    436: "Unknown User",  # MS-TURN
    437: "Allocation Mismatch",
    438: "Stale Nonce",
    440: "Address Family not Supported",
    441: "Wrong Credentials",
    442: "Unsupported Transport Protocol",
    443: "Peer Address Family Mismatch",
    446: "Connection Already Exists",  # RFC 6062
    447: "Connection Timeout or Failure",  # RFC 6062
    486: "Allocation Quota Reached",
    487: "Role Conflict",
    500: "Server Error",
    508: "Insufficient Capacity",
    600: "Global Failure",
}
