"""StunRecord: one STUN/TURN message or ChannelData frame, flattened for analysis.

This is the contract between capture input (which builds records with the
dissectors' codecs, never a Scapy packet per message) and the correlator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from types import MappingProxyType
from typing import Literal

from icetrace.records.endpoint import Endpoint
from icetrace.records.vocabulary import (
    FingerprintResult,
    IntegrityPresence,
    MessageClass,
    MessageKind,
    RecordDialect,
    Role,
)

NO_ADDRESSES: Mapping[str, Endpoint] = MappingProxyType({})
"""The addresses of a message that has none: one shared empty mapping, not a dict per record."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayHop:
    """How a message nested inside TURN travelled on the client<->server leg.

    `via` is one of: "send-indication", "data-indication", "channeldata",
    "ms-send-request", "ms-data-indication", "ms-multiplexed".
    `client`/`server` are the TURN client's and server's transport addresses on
    that leg, `peer` the remote peer the relay talks to (from XOR-PEER-ADDRESS,
    DESTINATION-/REMOTE-ADDRESS, or the channel binding).
    """

    via: str
    client: Endpoint
    server: Endpoint
    peer: Endpoint | None
    channel: int | None = None


@dataclass(slots=True)
class StunRecord:
    """A decoded message with Wireshark's frame number; never raises on bad bytes.

    Read-only by convention, not frozen: a frozen dataclass's __init__ costs 5x more,
    and one record is built per message of a gigabyte capture. Kept records are the analysis's
    memory, so what repeats (addresses, attribute-name lists, USERNAMEs, relay hops) is shared
    between records, and an analysis keeps bytes only where integrity needs them.

    For a message found inside a Data/Send indication or ChannelData, `src`/`dst`
    are the addresses of the outer packet and `relay` says how it was wrapped.
    """

    frame: int
    time: float
    src: Endpoint
    dst: Endpoint
    transport: str  # "udp" | "tcp"
    kind: MessageKind
    dialect: RecordDialect  # "" for channeldata
    method: str  # "binding", "allocate", ... ; "" for channeldata
    cls: MessageClass | Literal[""]  # "" for channeldata
    type: int  # the 16-bit message type (ChannelData: the channel number)
    transaction_id: str  # hex; 32 digits for classic/MS 128-bit ids, 24 otherwise
    # the fields above are every record's, the ones below each message's own: named at every call
    _: KW_ONLY
    attributes: tuple[str, ...] = ()  # attribute names in wire order (unknown: "0xABCD")
    addresses: Mapping[str, Endpoint] = field(default_factory=lambda: NO_ADDRESSES)  # decoded, by attribute name
    error_code: int | None = None
    error_reason: str | None = None
    username: bytes | None = None  # raw value, MS NUL padding included
    realm: str | None = None
    nonce: str | None = None
    software: str | None = None
    priority: int | None = None
    use_candidate: bool = False
    ice_role: Role | None = None
    tie_breaker: int | None = None
    nomination: int | None = None
    candidate_identifier: str | None = None  # MS-ICE2 foundation, NULs stripped
    implementation_version: int | None = None  # MS-ICE2 0x8070
    ms_version: int | None = None  # MS-TURN 0x8008
    lifetime: int | None = None
    channel_number: int | None = None
    requested_transport: int | None = None  # IP protocol number
    fingerprint: FingerprintResult = "absent"
    integrity: IntegrityPresence = "absent"  # present or not; ice/integrity.py verifies it once keys are known
    relay: RelayHop | None = None
    payload_length: int = 0  # DATA attribute / ChannelData payload bytes
    carried: str = ""  # what that payload is (dissectors.demux.media_kind): "stun", "rtp", "dtls"...
    anomalies: tuple[str, ...] = ()  # "attribute/XOR-MAPPED-ADDRESS: value is 6 bytes, expected 8"
    raw: bytes = b""  # the message bytes (an analysis keeps them only to verify MESSAGE-INTEGRITY)
