"""Scapy layers for STUN (RFC 3489/5389/8489), TURN (RFC 8656/6062), MS-TURN and ICE.

The attribute walk, dialect detection and every value codec come from
`dissectors.codec`, so a Scapy dissection and the fast record path always agree.
Typed values: `attr.decoded` (e.g. ("84.155.254.180", 50033)); building accepts
typed values too: STUNAttribute(type="XOR-MAPPED-ADDRESS", value=("1.2.3.4", 5)).
Do not load scapy.contrib.stun in the same process: its port bindings clash.
"""

from __future__ import annotations

import contextvars
import struct
from typing import Any

from scapy.fields import (
    FieldLenField,
    PacketLenField,
    PacketListField,
    ShortField,
    StrField,
    StrLenField,
    XIntField,
    XShortEnumField,
    XStrFixedLenField,
)
from scapy.layers.inet import TCP, UDP
from scapy.packet import Packet, Raw, bind_layers, bind_top_down

from dissectors import codec
from dissectors.checks import compute_fingerprint, compute_integrity, verify_fingerprint
from dissectors.constants import (
    ERROR_REASONS,
    HEADER_SIZE,
    LEGACY_TYPES,
    MAGIC_COOKIE,
    MS_MULTIPLEXED_CHANNEL,
    AttributeType,
)
from dissectors.demux import FIRST_BYTE, channel_data_fits

ATTRIBUTE_NAMES: dict[int, str] = {code: spec.name for code, spec in codec.REGISTRY.items()}


def _message_type_names() -> dict[int, str]:
    names: dict[int, str] = {}
    for method, mname in codec.METHOD_NAMES.items():
        for cls, cname in codec.CLASS_NAMES.items():
            names[codec.compose_type(method, cls)] = f"{mname} {cname}"
    for value, (mname, cname) in LEGACY_TYPES.items():
        names.setdefault(value, f"{mname} {cname}")
    return names


MESSAGE_TYPE_NAMES = _message_type_names()
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("stun_depth", default=0)


def _header_of(pkt: Packet | None) -> bytes:
    """The 20-byte header of the STUN message that holds `pkt` (for XOR decoding)."""
    parent = getattr(pkt, "parent", None)
    while parent is not None and not isinstance(parent, STUN):
        parent = getattr(parent, "parent", None)
    if parent is None:
        return struct.pack("!HHI", 0, 0, MAGIC_COOKIE) + b"\x00" * 12
    return parent.header_bytes()


def _dialect_of(pkt: Packet | None) -> str:
    parent = getattr(pkt, "parent", None)
    if isinstance(parent, STUN):
        return parent.dialect
    return "rfc5389"


class TypedValue:
    """A typed attribute value given when building, e.g. ("1.2.3.4", 5) for an address.

    Wrapped because Scapy reads tuples and lists in a field as ranges or sets of
    packets to generate; the codec encodes the value when the packet is built.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return repr(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TypedValue) and other.value == self.value


class AttributeTypeField(XShortEnumField):
    """Shows the attribute's name as the message's dialect reads it (MS-TURN swaps some)."""

    def i2repr(self, pkt: Packet | None, x: Any) -> str:
        if pkt is None or x is None:
            return str(super().i2repr(pkt, x))
        return codec.attribute_name(x, _dialect_of(pkt))


class AttributeValueField(StrLenField):
    """Raw value bytes on the wire; accepts a typed value when building and shows it decoded."""

    def any2i(self, pkt: Packet | None, x: Any) -> Any:
        if x is None or isinstance(x, (bytes, bytearray, TypedValue)):
            return x
        return TypedValue(x)

    def i2m(self, pkt: Packet | None, x: Any) -> bytes:
        if x is None:
            return b""
        if isinstance(x, (bytes, bytearray)):
            return bytes(x)
        if isinstance(x, TypedValue):
            x = x.value
        spec = codec.attribute_spec(pkt.type if pkt is not None else 0, _dialect_of(pkt))
        encoded: bytes = codec.CODECS[spec.kind].encode(x, _header_of(pkt))
        return encoded

    def i2len(self, pkt: Packet, x: Any) -> int:
        return len(self.i2m(pkt, x))

    def i2repr(self, pkt: Packet | None, x: Any) -> str:
        if pkt is None or not isinstance(x, (bytes, bytearray)):
            return repr(x)
        return repr(pkt.decoded)


class STUNAttribute(Packet):
    """One TLV; `decoded` gives the typed value from the shared codec."""

    name = "STUN Attribute"
    fields_desc = [
        AttributeTypeField("type", 0, ATTRIBUTE_NAMES),
        FieldLenField("length", None, length_of="value", fmt="!H"),
        AttributeValueField("value", b"", length_from=lambda p: p.length),
        StrField("pad", None),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("value") is not None and not isinstance(kwargs["value"], (bytes, Packet)):
            kwargs["value"] = TypedValue(kwargs["value"])  # see TypedValue
        if isinstance(kwargs.get("type"), str):
            kwargs["type"] = codec.code_for(kwargs["type"], kwargs.pop("dialect", "rfc5389"))
        super().__init__(*args, **kwargs)

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args: Any, **kwargs: Any) -> type[Packet]:
        code = kwargs.get("type")
        if _pkt is not None and len(_pkt) >= 2:
            code = struct.unpack_from("!H", _pkt)[0]
        if code == AttributeType.DATA or code == "DATA":
            return STUNDataAttribute
        return cls

    @property
    def attribute_name(self) -> str:
        return codec.attribute_name(self.type, _dialect_of(self))

    @property
    def decoded(self) -> Any:
        spec = codec.attribute_spec(self.type, _dialect_of(self))
        raw = self.fields_desc[2].i2m(self, self.value)
        try:
            return codec.CODECS[spec.kind].decode(raw, _header_of(self))
        except (ValueError, struct.error):
            return raw

    def post_build(self, p: bytes, pay: bytes) -> bytes:
        if self.pad is None and _dialect_of(self) != "ms-turn":
            p += b"\x00" * (-(len(p) - 4) % 4)
        return p + pay

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        return b"", s

    def mysummary(self) -> str:
        return f"{self.attribute_name}={self.decoded!r}"


def _data_payload(raw: bytes) -> Packet:
    """DATA holds peer bytes; a STUN check inside a Data indication dissects as STUN again."""
    depth = _depth.get()
    if depth < codec.MAX_DEPTH and codec.looks_like_stun_header(raw):
        token = _depth.set(depth + 1)
        try:
            return STUN(raw)
        finally:
            _depth.reset(token)
    if len(raw) >= 4 and 0x40 <= raw[0] <= 0x4F:
        return TURNChannelData(raw)
    return Raw(raw)


class STUNDataAttribute(STUNAttribute):
    """DATA (0x0013): the value is dissected again (STUN, ChannelData or Raw)."""

    name = "STUN DATA Attribute"
    fields_desc = [
        AttributeTypeField("type", AttributeType.DATA, ATTRIBUTE_NAMES),
        FieldLenField("length", None, length_of="value", fmt="!H"),
        PacketLenField("value", None, _data_payload, length_from=lambda p: p.length),
        StrField("pad", None),
    ]

    @property
    def decoded(self) -> Any:
        return bytes(self.value) if self.value is not None else b""


class _AttributeListField(PacketListField):
    """Cut attributes exactly where the codec's walk does (padding per dialect)."""

    def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, list[Packet]]:
        length = pkt.length if pkt.length is not None else len(s)
        body, rest = s[:length], s[length:]
        message = pkt.header_bytes() + body
        decoded = codec.decode_stun(message)
        pkt.dialect = decoded.dialect or "rfc5389"
        attrs: list[Packet] = []
        starts = [a.offset for a in decoded.attributes] + [HEADER_SIZE + len(body)]
        for index, attr in enumerate(decoded.attributes):
            chunk = message[attr.offset : starts[index + 1]]
            attrs.append(STUNAttribute(chunk, _parent=pkt))
        consumed = starts[-1] if decoded.attributes else HEADER_SIZE
        leftover = message[consumed:]
        if leftover:
            attrs.append(STUNAttribute(type=0xFFFF, value=b"", pad=leftover, _parent=pkt))
            attrs[-1].raw_leftover = True
        return rest, attrs


class STUN(Packet):
    """A STUN-family message in any dialect; `method_name`, `cls_name`, `dialect` are derived."""

    name = "STUN"
    fields_desc = [
        XShortEnumField("type", 0x0001, MESSAGE_TYPE_NAMES),
        ShortField("length", None),
        XIntField("magic_cookie", MAGIC_COOKIE),
        XStrFixedLenField("transaction_id", b"\x00" * 12, 12),
        _AttributeListField("attributes", [], STUNAttribute),
    ]

    dialect = "rfc5389"  # set from the bytes on dissection, or given when building

    def __init__(self, *args: Any, dialect: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if dialect is not None:
            self.dialect = dialect
        elif not args:
            codes = [a.type for a in self.attributes]
            if codes and codes[0] == AttributeType.MAGIC_COOKIE:
                self.dialect = "ms-turn"
        for attr in self.attributes:
            attr.parent = self

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args: Any, **kwargs: Any) -> type[Packet]:
        # The demux's answer (RFC 7983 first byte, RFC 8656 ChannelData length), as dissect_payload
        # and the packet source give it; trailing bytes allowed, as a TCP segment may hold more frames.
        if not _pkt:
            return cls
        if channel_data_fits(_pkt, stream=True) or _pkt[:2] == b"\xff\x10":
            return TURNChannelData
        if FIRST_BYTE[_pkt[0]] != "stun" or len(_pkt) < HEADER_SIZE:
            return Raw
        return cls

    def header_bytes(self) -> bytes:
        return struct.pack("!HHI", self.type, self.length or 0, self.magic_cookie) + bytes(self.transaction_id)

    def post_build(self, p: bytes, pay: bytes) -> bytes:
        if self.length is None:
            p = p[:2] + struct.pack("!H", len(p) - HEADER_SIZE) + p[4:]
        return p + pay

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        return b"", s

    @property
    def decoded(self) -> codec.DecodedStun:
        """The same message through the fast codec (typed values, anomalies, checks)."""
        return codec.decode_stun(bytes(self))

    @property
    def method_name(self) -> str:
        return self.decoded.method_name

    @property
    def cls_name(self) -> str:
        return self.decoded.cls

    def hashret(self) -> bytes:
        return struct.pack("!I", self.magic_cookie) + bytes(self.transaction_id)

    def answers(self, other: Packet) -> int:
        if not isinstance(other, STUN):
            return 0
        mine, theirs = self.decoded, other.decoded
        return int(
            theirs.cls == "request"
            and mine.cls in ("success", "error")
            and mine.transaction_id == theirs.transaction_id
            and mine.method_name == theirs.method_name
        )

    def mysummary(self) -> str:
        d = self.decoded
        text = f"STUN {d.method_name} {d.cls} ({d.dialect}) tid={d.transaction_id.hex()}"
        err = d.value("ERROR-CODE")
        if isinstance(err, tuple):
            text += f" error={err[0]}"
        for attr in d.attributes:
            if isinstance(attr.value, tuple) and len(attr.value) == 2 and isinstance(attr.value[0], str):
                text += f" {attr.name}={attr.value[0]}:{attr.value[1]}"
        return text


class TURNChannelData(Packet):
    """RFC 8656 12.4 ChannelData (0x4000-0x4FFF) and [MS-TURN] multiplexed 0xFF10."""

    name = "TURN ChannelData"
    fields_desc = [
        XShortEnumField("channel", 0x4000, {MS_MULTIPLEXED_CHANNEL: "MS-MULTIPLEXED"}),
        FieldLenField("length", None, length_of="data", fmt="!H"),
        StrLenField("data", b"", length_from=lambda p: p.length),
    ]

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        return b"", s  # UDP or TCP padding to 4 bytes, if any, stays as trailing bytes

    def guess_payload_class(self, payload: bytes) -> type[Packet]:
        return Raw

    @property
    def inner(self) -> Packet:
        """The channel's payload, dissected again (a relayed ICE check comes out as STUN)."""
        data = bytes(self.data)
        if self.channel == MS_MULTIPLEXED_CHANNEL:
            data = data[8:]
        return _data_payload(data)

    def mysummary(self) -> str:
        return f"TURN ChannelData channel=0x{self.channel:04x} len={self.length}"


def dissect_payload(data: bytes) -> Packet:
    """Dissect any UDP payload or TCP frame by content, not port: STUN, ChannelData or Raw."""
    from dissectors.classify import PayloadKind, classify_payload

    kind = classify_payload(data)
    if kind == PayloadKind.STUN:
        return STUN(data)
    if kind in (PayloadKind.CHANNEL_DATA, PayloadKind.MS_MULTIPLEXED):
        return TURNChannelData(data)
    return Raw(data)


def fingerprint_of(pkt: STUN) -> str:
    return verify_fingerprint(bytes(pkt))


__all__ = [
    "STUN",
    "STUNAttribute",
    "STUNDataAttribute",
    "TURNChannelData",
    "dissect_payload",
    "fingerprint_of",
    "compute_fingerprint",
    "compute_integrity",
    "ERROR_REASONS",
]

for _port in (3478, 3479):
    bind_layers(UDP, STUN, dport=_port)
    bind_layers(UDP, STUN, sport=_port)
    bind_layers(TCP, STUN, dport=_port)
    bind_layers(TCP, STUN, sport=_port)
# Building `UDP()/STUN()` or `TCP()/STUN()`: the STUN port both ways (RFC 8489 §18.6), set last so
# it wins over the one-sided bindings above (whose defaults would give 3479 -> 53).
bind_top_down(UDP, STUN, sport=3478, dport=3478)
bind_top_down(TCP, STUN, sport=3478, dport=3478)
