"""TransportPackets -> StunRecords, with the dissectors' codec (no Scapy per message).

Frames TCP streams (plain STUN, RFC 4571, MS-TURN framing) per direction, and
unwraps TURN: a message inside a Send/Data indication, an MS-TURN Send request or
Data indication, or a ChannelData frame comes out as its own record with `relay`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from dissectors.classify import PayloadKind, classify_payload
from dissectors.codec import DecodedStun, decode_channel_data, decode_stun, looks_like_stun_header
from dissectors.demux import TURN_PORTS, channel_data_fits, media_kind
from dissectors.framing import (
    MAX_RESYNC_CHANNELS,
    RESYNC_SEARCHED,
    detect_tcp_framing,
    next_frame_size,
    resync_point,
    split_msturn_tcp,
    split_rfc4571,
    split_stun_stream,
)
from icetrace.records.endpoint import Endpoint
from icetrace.records.stun_record import NO_ADDRESSES, RelayHop, StunRecord
from icetrace.records.transport_packet import TransportPacket
from icetrace.records.vocabulary import IntegrityPresence, MessageClass

_MAX_STREAM_BUFFER = 1 << 18
_T = TypeVar("_T")
_ADDRESS_KINDS = ("address", "xor-address")


@dataclass
class _TcpDirection:
    framing: str | None = None
    buffer: bytearray = field(default_factory=bytearray)
    dead: bool = False
    resync: bool = False  # bytes were lost: skip to the next plausible frame start
    need: int = 0  # bytes the frame at the buffer's front takes: a message in many segments is split once
    searched: int = 0  # while resynchronising: bytes at the buffer's front holding no STUN start
    channels: dict[int, None] = field(default_factory=dict)  # ChannelData channels seen, the latest last


def _detect_framing(state: _TcpDirection, packet: TransportPacket) -> str | None:
    """The framing of a stream, from its first bytes; None (and the stream dead) when none fits."""
    state.framing = detect_tcp_framing(packet.payload)
    if state.framing is None and _turn_port(packet) and channel_data_fits(packet.payload, stream=True):
        state.framing = "stun"  # a TURN/TCP connection seen from mid-call: ChannelData first
    if state.framing is None:
        state.dead = True  # SIP or anything else: the signaling stage reads SIP
    return state.framing


def _buffer(state: _TcpDirection, packet: TransportPacket, framing: str, channels: Collection[int]) -> bool:
    """Append the payload (after a gap: resynchronise on the next plausible frame start, a STUN
    message or ChannelData on a known channel); False while the frame at the front is not whole yet."""
    if packet.gap_before:
        state.buffer.clear()  # the message the gap cut is lost
        state.resync = True
        state.need = state.searched = 0
    state.buffer += packet.payload
    if state.resync and not _resync(state, framing, channels):
        return False
    return len(state.buffer) >= state.need


def _resync(state: _TcpDirection, framing: str, channels: Collection[int]) -> bool:
    """Drop the buffer's bytes up to the next plausible frame start; False while none is found
    (what may still become one is kept)."""
    if len(state.buffer) < state.need:
        return False  # what was found so far cannot be decided yet
    start, keep, need = resync_point(state.buffer, framing, channels, state.searched)
    if start is None:
        state.searched = max(0, len(state.buffer) - RESYNC_SEARCHED - keep)
        del state.buffer[:keep]
        state.need = need
        return False
    del state.buffer[:start]
    state.resync = False
    state.need = state.searched = 0
    return True


class Shared:
    """One object for each value that repeats across records (addresses, attribute-name lists,
    USERNAMEs, relay hops): a busy capture's records then hold references, not copies. Grows with
    the distinct values, that is with the calls and flows, not with the messages."""

    def __init__(self) -> None:
        self.values: dict[object, object] = {}

    def endpoint(self, ip: str, port: int) -> Endpoint:
        key = (ip, port)
        found = self.values.get(key)
        if found is None:
            found = self.values[key] = Endpoint(ip, port)
        return found  # type: ignore[return-value]

    def addresses(self, found: dict[str, Endpoint]) -> Mapping[str, Endpoint]:
        """One read-only mapping for each set of decoded addresses (a client's every answer holds
        the same XOR-MAPPED-ADDRESS)."""
        if not found:
            return NO_ADDRESSES
        key = ("addresses", *found.items())
        mapping = self.values.get(key)
        if mapping is None:
            mapping = self.values[key] = MappingProxyType(found)
        return mapping  # type: ignore[return-value]

    def one(self, value: _T) -> _T:
        """The first equal value seen (`value` itself the first time)."""
        return self.values.setdefault(value, value)  # type: ignore[return-value]


class RecordExtractor:
    """Stateful: remembers TCP stream buffers and TURN channel bindings across packets.

    `all_bytes=False` keeps a message's bytes only when it carries MESSAGE-INTEGRITY (all the
    analysis needs them for); by default every record holds its bytes."""

    def __init__(self, all_bytes: bool = True) -> None:
        self._all_bytes = all_bytes
        self._tcp_directions: dict[tuple[Endpoint, Endpoint], _TcpDirection] = {}
        # (client, server, channel) -> peer, from ChannelBind requests
        self._channels: dict[tuple[Endpoint, Endpoint, int], Endpoint] = {}
        self._hops: dict[tuple[object, ...], RelayHop] = {}  # ChannelData's hop by what it is made of
        self._shared = Shared()

    def forget(self, keep: Callable[[Endpoint, Endpoint], bool]) -> None:
        """Let go of the channel bindings `keep(client, server)` refuses, and of the shared values and
        relay hops found so far (records built already keep theirs): a capture read for hours keeps
        what open calls need."""
        self._channels = {key: peer for key, peer in self._channels.items() if keep(key[0], key[1])}
        self._shared = Shared()
        self._hops = {}

    def feed(self, packet: TransportPacket) -> Iterator[StunRecord]:
        if packet.transport == "udp":
            yield from self._datagram(packet, packet.payload)
            return
        if packet.payload:
            yield from self._tcp_segment(packet)
        if packet.closes:  # the direction ended: its buffer goes (a message it cut is never finished)
            self._tcp_directions.pop((packet.src, packet.dst), None)

    # -- transports -----------------------------------------------------------

    def _datagram(self, packet: TransportPacket, payload: bytes) -> Iterator[StunRecord]:
        kind = classify_payload(payload)
        if kind == PayloadKind.STUN:
            yield from self._stun(packet, payload)
        elif kind in (PayloadKind.CHANNEL_DATA, PayloadKind.MS_MULTIPLEXED):
            yield from self._channel_data(packet, payload, stream=False)

    def _tcp_segment(self, packet: TransportPacket) -> Iterator[StunRecord]:
        key = (packet.src, packet.dst)
        state = self._tcp_directions.get(key)
        if state is None:
            state = self._tcp_directions[key] = _TcpDirection()
        if state.dead:
            return
        framing = state.framing or _detect_framing(state, packet)
        if framing is None:
            return
        if framing == "ms-pseudo-tls":
            # [MS-TURN] 2.1.1: the fake handshake is not framed; framing starts after it
            state.framing = None
            rest = packet.payload[5 + int.from_bytes(packet.payload[3:5], "big") :]
            if rest:
                yield from self._tcp_segment(
                    TransportPacket(
                        frame=packet.frame,
                        time=packet.time,
                        src=packet.src,
                        dst=packet.dst,
                        transport="tcp",
                        payload=rest,
                    )
                )
            return
        resyncing = state.resync or packet.gap_before
        if not _buffer(state, packet, framing, self._known_channels(state, packet) if resyncing else ()):
            return
        while True:
            used = yield from self._framed(packet, framing, bytes(state.buffer), state.channels)
            del state.buffer[:used]
            if len(state.buffer) <= _MAX_STREAM_BUFFER and (used or len(state.buffer) < 4 or frames_possible(state)):
                state.need = next_frame_size(state.buffer, framing)
                return
            # no frame starts here (damage no gap showed): read on from the next plausible start
            del state.buffer[:1]
            state.resync, state.need, state.searched = True, 0, 0
            if not _resync(state, framing, self._known_channels(state, packet)):
                return

    def _known_channels(self, state: _TcpDirection, packet: TransportPacket) -> set[int]:
        """Channels ChannelData on this connection may carry: seen on it before, or bound on it."""
        ends = {(packet.src, packet.dst), (packet.dst, packet.src)}
        return set(state.channels) | {channel for (c, s, channel) in self._channels if (c, s) in ends}

    def _framed(
        self, packet: TransportPacket, framing: str, buf: bytes, channels: dict[int, None]
    ) -> Generator[StunRecord, None, int]:
        """The records of the whole frames at the front of `buf`; returns the bytes they took, and
        notes in `channels` the ChannelData channels they carried (for a resynchronisation later)."""
        if framing == "rfc4571":
            frames, used = split_rfc4571(buf)
            for frame in frames:
                if looks_like_stun_header(frame):
                    yield from self._stun(packet, frame)
        elif framing == "ms-turn-tcp":
            ms_frames, used = split_msturn_tcp(buf)
            for kind, frame in ms_frames:
                if kind == 2 and looks_like_stun_header(frame):
                    yield from self._stun(packet, frame)
                elif kind == 3:
                    yield from self._channel_data(packet, frame, stream=True, framed=True)
        else:
            frames, used = split_stun_stream(buf)
            for frame in frames:
                if frame[0] < 0x40:
                    yield from self._stun(packet, frame)
                else:
                    if frame[0] <= 0x7F:
                        _note(channels, (frame[0] << 8) | frame[1])
                    yield from self._channel_data(packet, frame, stream=True)
        return used

    # -- messages -------------------------------------------------------------

    def _stun(
        self,
        packet: TransportPacket,
        payload: bytes,
        relay: RelayHop | None = None,
        depth: int = 0,
        decoded: DecodedStun | None = None,
    ) -> Iterator[StunRecord]:
        msg = decoded if decoded is not None else decode_stun(payload, depth=depth)
        record = build_record(packet, msg, relay, self._shared, self._all_bytes)
        yield record
        if relay is not None:
            return
        self._learn_channel(packet, msg)
        inner = _inner_of(packet, msg)
        if inner is not None and depth < 2:
            hop, data = inner
            if looks_like_stun_header(data):
                # the codec already decoded the DATA attribute's message
                nested = msg.nested if msg.nested is not None and msg.nested.raw == data else None
                yield from self._stun(packet, data, hop, depth + 1, nested)

    def _learn_channel(self, packet: TransportPacket, msg: DecodedStun) -> None:
        if msg.method_name == "channel-bind" and msg.cls == "request":
            channel = msg.value("CHANNEL-NUMBER")
            peer = msg.value("XOR-PEER-ADDRESS")
            if isinstance(channel, int) and isinstance(peer, tuple):
                self._channels[(packet.src, packet.dst, channel)] = Endpoint(peer[0], peer[1])

    def _channel_data(
        self, packet: TransportPacket, payload: bytes, *, stream: bool, framed: bool = False
    ) -> Iterator[StunRecord]:
        cd = decode_channel_data(payload, stream=stream and not framed)
        if cd is None:
            return
        via = "ms-multiplexed" if cd.session_id is not None else "channeldata"
        # which side is the client: the one that sent the ChannelBind
        src, dst, channel = packet.src, packet.dst, cd.channel
        peer = self._channels.get((src, dst, channel))
        if peer is not None:
            via, client, server = "channeldata", src, dst
        else:
            peer = self._channels.get((dst, src, channel))
            # without its ChannelBind in the capture, the side off the TURN ports is the client
            sent_by_client = peer is None and dst.port in TURN_PORTS and src.port not in TURN_PORTS
            client, server = (src, dst) if sent_by_client else (dst, src)
        key = (via, client, server, peer, channel)
        hop = self._hops.get(key)
        if hop is None:  # a frozen RelayHop costs more to build than to find
            hop = self._hops[key] = self._shared.one(
                RelayHop(via=via, client=client, server=server, peer=peer, channel=channel)
            )
        record: StunRecord = _new(StunRecord)
        _init_record(
            record,
            packet.frame,
            packet.time,
            src,
            dst,
            packet.transport,
            "channeldata",
            "",
            "",
            "",
            channel,
            "",
            payload_length=len(cd.payload),
            anomalies=cd.anomalies,
            relay=hop if peer is not None else None,
            carried=media_kind(cd.payload),
        )
        yield record
        if looks_like_stun_header(cd.payload):
            yield from self._stun(packet, cd.payload, hop, 1)


def _note(channels: dict[int, None], channel: int) -> None:
    """Keep `channel` among the latest few a stream carried."""
    if channel in channels:
        return
    channels[channel] = None
    if len(channels) > MAX_RESYNC_CHANNELS:
        del channels[next(iter(channels))]


def frames_possible(state: _TcpDirection) -> bool:
    """Whether the buffered bytes can still start a frame of the stream's framing."""
    buf = state.buffer
    if state.framing == "stun":
        return buf[0] < 0x80 or buf[:2] == b"\xff\x10"
    if state.framing == "ms-turn-tcp":
        return buf[0] in (2, 3)
    return True


_WRAPPING_METHODS = frozenset(("send", "data", "ms-send", "ms-data"))


def _inner_of(packet: TransportPacket, msg: DecodedStun) -> tuple[RelayHop, bytes] | None:
    """A TURN-wrapped message: how it was wrapped, and its bytes."""
    if msg.method_name not in _WRAPPING_METHODS:
        return None
    data = msg.value("DATA")
    if not isinstance(data, bytes) or not data:
        return None
    name, cls = msg.method_name, msg.cls
    if name == "send" and cls == "indication":
        hop = RelayHop(
            via="send-indication", client=packet.src, server=packet.dst, peer=_endpoint(msg.value("XOR-PEER-ADDRESS"))
        )
    elif name == "data" and cls == "indication":
        hop = RelayHop(
            via="data-indication", client=packet.dst, server=packet.src, peer=_endpoint(msg.value("XOR-PEER-ADDRESS"))
        )
    elif name == "ms-send":
        hop = RelayHop(
            via="ms-send-request",
            client=packet.src,
            server=packet.dst,
            peer=_endpoint(msg.value("DESTINATION-ADDRESS")),
        )
    elif name == "ms-data":
        hop = RelayHop(
            via="ms-data-indication", client=packet.dst, server=packet.src, peer=_endpoint(msg.value("REMOTE-ADDRESS"))
        )
    else:
        return None
    return hop, data


def _turn_port(packet: TransportPacket) -> bool:
    return packet.src.port in TURN_PORTS or packet.dst.port in TURN_PORTS


def _endpoint(value: object) -> Endpoint | None:
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int):
        return Endpoint(value[0], value[1])
    return None


# attribute name -> (record field, the value type the codec gives for a well-formed value)
_RECORD_FIELDS: dict[str, tuple[str, type]] = {
    "USERNAME": ("username", bytes),
    "REALM": ("realm", str),
    "NONCE": ("nonce", str),
    "SOFTWARE": ("software", str),
    "PRIORITY": ("priority", int),
    "NOMINATION": ("nomination", int),
    "CANDIDATE-IDENTIFIER": ("candidate_identifier", str),
    "IMPLEMENTATION-VERSION": ("implementation_version", int),
    "MS-VERSION": ("ms_version", int),
    "LIFETIME": ("lifetime", int),
    "CHANNEL-NUMBER": ("channel_number", int),
    "REQUESTED-TRANSPORT": ("requested_transport", int),
}
_ROLES = {"ICE-CONTROLLING": "controlling", "ICE-CONTROLLED": "controlled"}
_ERROR, _USE, _ROLE, _DATA, _INTEGRITY = range(5)
# how each attribute's value fills the record: a field (_RECORD_FIELDS) or one of the cases above
_HANDLING: dict[str, tuple[str, type] | int] = {
    **_RECORD_FIELDS,
    "ERROR-CODE": _ERROR,
    "USE-CANDIDATE": _USE,
    **dict.fromkeys(_ROLES, _ROLE),
    "DATA": _DATA,
    "MESSAGE-INTEGRITY": _INTEGRITY,
    "MESSAGE-INTEGRITY-SHA256": _INTEGRITY,
}
# a record per message: the fields every record has go positionally (matching keywords costs 1.8x),
# to __init__ on a new instance (calling the class with keywords builds a dict per call)
_new = object.__new__
_init_record = StunRecord.__init__


def build_record(
    packet: TransportPacket,
    msg: DecodedStun,
    relay: RelayHop | None = None,
    shared: Shared | None = None,
    all_bytes: bool = True,
) -> StunRecord:
    """Flatten a decoded message into the record the correlator reads (runs once per message)."""
    share = shared if shared is not None else Shared()
    fields, addresses = _attribute_fields(msg, share)
    integrity: IntegrityPresence = "unknown-key" if fields.pop("integrity", False) else "absent"
    one = share.values.setdefault  # the first equal value seen (Shared.one, without its call)
    names = tuple([a.name for a in msg.attributes])
    msg_type = msg.type
    cls: MessageClass = msg.cls  # type: ignore[assignment]  # the codec names classes by CLASS_NAMES and LEGACY_TYPES
    record: StunRecord = _new(StunRecord)
    _init_record(
        record,
        packet.frame,
        packet.time,
        packet.src,
        packet.dst,
        packet.transport,
        "stun",
        msg.dialect,
        msg.method_name,
        cls,
        msg_type if msg_type < 256 else one(msg_type, msg_type),  # type: ignore[arg-type]  # above 256: an object each
        msg.transaction_id.hex(),
        attributes=one(names, names),  # type: ignore[arg-type]
        addresses=share.addresses(addresses),
        fingerprint=msg.fingerprint,
        integrity=integrity,
        relay=one(relay, relay),  # type: ignore[arg-type]
        anomalies=msg.anomalies,
        raw=msg.raw if all_bytes or integrity != "absent" else b"",
    )
    # the few fields its attributes fill (one by one: a ** merge of every keyword costs more)
    for name, value in fields.items():
        setattr(record, name, value)
    return record


def _attribute_fields(msg: DecodedStun, share: Shared) -> tuple[dict[str, object], dict[str, Endpoint]]:
    """The record fields a message's attributes fill (`integrity`: True when MESSAGE-INTEGRITY is
    there), and its decoded addresses by attribute name (the first of each name)."""
    fields: dict[str, object] = {}
    addresses: dict[str, Endpoint] = {}
    handling = _HANDLING
    for attr in msg.attributes:
        name, value = attr.name, attr.value
        how = handling.get(name)
        if how is None:  # no attribute handled below decodes to an address
            if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str) and name not in addresses:
                addresses[name] = share.endpoint(value[0], value[1])
        elif isinstance(how, tuple):
            if isinstance(value, how[1]):
                fields[how[0]] = share.one(value) if how[0] == "username" else value
        elif how == _ERROR:
            if isinstance(value, tuple):
                fields["error_code"], fields["error_reason"] = value
        elif how == _USE:
            fields["use_candidate"] = True
        elif how == _ROLE:
            if isinstance(value, int):
                fields["ice_role"] = _ROLES[name]
                fields["tie_breaker"] = value
        elif how == _DATA:
            # the first DATA is what _inner_of decodes and the C skimmer counts (it counts one DATA only)
            if isinstance(value, bytes) and "carried" not in fields:
                fields["payload_length"] = len(value)
                fields["carried"] = media_kind(value)
        else:
            fields["integrity"] = True
    return fields, addresses


def iter_stun_records(packets: Iterable[TransportPacket]) -> Iterator[StunRecord]:
    """Every STUN/TURN message and ChannelData frame of the packets given."""
    extractor = RecordExtractor()
    for packet in packets:
        yield from extractor.feed(packet)


__all__ = ["RecordExtractor", "Shared", "build_record", "iter_stun_records"]
