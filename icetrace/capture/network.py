"""Link layers, IPv4/IPv6 (extension headers, fragment reassembly) down to UDP/TCP.

Written as plain byte arithmetic because it runs once per captured frame: a
gigabyte capture is over a million frames, nearly all RTP.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from icetrace.capture.linktypes import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IEEE802_11,
    LINKTYPE_IEEE802_11_RADIOTAP,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NETMON_802_11,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    LINKTYPE_RAW_ALT12,
    LINKTYPE_RAW_ALT14,
)
from icetrace.records.endpoint import Endpoint

_ETH_VLAN = (0x8100, 0x88A8, 0x9100)
_IPV6_EXTENSIONS = (0, 43, 60, 135, 139, 140)  # hop-by-hop, routing, dest opts, mobility, HIP, shim6
FRAGMENT_TIMEOUT = 30.0  # seconds a partial datagram waits for its other fragments
# Bounds on reassembly, per capture: datagrams waiting for fragments, and their bytes. When one is
# hit the oldest waiting datagram is dropped (and counted in fragments_dropped).
MAX_PENDING_DATAGRAMS = 4096
MAX_PENDING_BYTES = 64 << 20


@dataclass(slots=True)
class IpPacket:
    """An IP datagram's transport part: protocol number, addresses (packed), payload."""

    version: int
    src: bytes
    dst: bytes
    protocol: int
    payload: bytes


def ip_offset(linktype: int, data: bytes) -> int:
    """Offset of the IP header in a frame, or -1 when the frame carries no IP."""
    if linktype == LINKTYPE_ETHERNET:
        if len(data) < 14:
            return -1
        ethertype = (data[12] << 8) | data[13]
        offset = 14
        while ethertype in _ETH_VLAN and len(data) >= offset + 4:
            ethertype = (data[offset + 2] << 8) | data[offset + 3]
            offset += 4
        if ethertype in (0x0800, 0x86DD):
            return offset
        return _ip_after(data, ethertype, offset)
    if linktype in (LINKTYPE_RAW, LINKTYPE_RAW_ALT12, LINKTYPE_RAW_ALT14, LINKTYPE_IPV4, LINKTYPE_IPV6):
        return 0
    if linktype == LINKTYPE_LINUX_SLL:
        if len(data) < 16:
            return -1
        proto = (data[14] << 8) | data[15]
        return 16 if proto in (0x0800, 0x86DD) else -1
    if linktype == LINKTYPE_LINUX_SLL2:
        if len(data) < 20:
            return -1
        proto = (data[0] << 8) | data[1]
        return 20 if proto in (0x0800, 0x86DD) else -1
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        if len(data) < 4:
            return -1
        family = struct.unpack_from("<I" if linktype == LINKTYPE_NULL and data[0] else ">I", data)[0]
        return 4 if family in (2, 24, 28, 30) else -1
    if linktype == LINKTYPE_IEEE802_11:
        return _dot11_ip_offset(data, 0)
    if linktype in (LINKTYPE_IEEE802_11_RADIOTAP, LINKTYPE_NETMON_802_11):
        # radiotap: version, pad, length (LE) at 2; NetMon: version, length (LE) at 1
        at = 2 if linktype == LINKTYPE_IEEE802_11_RADIOTAP else 1
        if len(data) < at + 2:
            return -1
        return _dot11_ip_offset(data, data[at] | data[at + 1] << 8)
    return -1


VXLAN_PORT = (4789).to_bytes(2, "big")  # RFC 7348


def tunnel_inner(protocol: int, payload: bytes) -> tuple[bytes, int] | None:
    """The frame inside GRE (RFC 2784/2890: IP, transparent Ethernet bridging, ERSPAN I-III) or
    VXLAN, with its link type; None when `payload` is no tunnel we open.

    Port mirroring across a network (ERSPAN, cloud traffic mirroring over VXLAN) delivers calls
    this way; the C skimmer in _walk.c applies the same rules."""
    if protocol == 17:
        vxlan = payload[8:]
        if payload[2:4] == VXLAN_PORT and len(vxlan) >= 22 and vxlan[0] & 0x08:
            return vxlan[8:], LINKTYPE_ETHERNET
        return None
    if protocol != 47 or len(payload) < 4:
        return None
    flags, version = payload[0], payload[1] & 0x07
    if version or flags & 0x40:  # GRE version 0, without source routing
        return None
    offset = 4 + 4 * ((flags >> 7) + ((flags >> 5) & 1) + ((flags >> 4) & 1))  # checksum, key, sequence
    ethertype = (payload[2] << 8) | payload[3]
    if ethertype in (0x0800, 0x86DD):
        return payload[offset:], LINKTYPE_RAW
    if ethertype == 0x6558:
        return payload[offset:], LINKTYPE_ETHERNET
    if ethertype == 0x88BE:  # ERSPAN: type I has no header of its own (no sequence number), type II 8 bytes
        return payload[offset + (8 if flags & 0x10 else 0) :], LINKTYPE_ETHERNET
    if ethertype == 0x22EB and len(payload) >= offset + 12:  # ERSPAN III: 12 bytes, 8 more with the O flag
        return payload[offset + (20 if payload[offset + 11] & 0x01 else 12) :], LINKTYPE_ETHERNET
    return None


def _ip_after(data: bytes, ethertype: int, offset: int) -> int:
    """IP under PPPoE (RFC 2516 session: 6 bytes, then PPP's protocol 0x0021/0x0057) or under an
    MPLS label stack (RFC 3032: IP after the bottom label, told by its version), or -1."""
    if ethertype == 0x8864:
        if len(data) >= offset + 8 and data[offset + 6 : offset + 8] in (b"\x00\x21", b"\x00\x57"):
            return offset + 8
        return -1
    if ethertype in (0x8847, 0x8848):
        while len(data) >= offset + 4:
            bottom = data[offset + 2] & 0x01
            offset += 4
            if bottom:
                return offset if len(data) > offset and data[offset] >> 4 in (4, 6) else -1
    return -1


_SNAP = b"\xaa\xaa\x03"


def _dot11_ip_offset(data: bytes, start: int) -> int:
    """IP offset inside an 802.11 data frame (LLC/SNAP encapsulated), or -1.

    Management/control frames, frames without a body and protected (encrypted) frames carry
    no IP that can be read."""
    if len(data) < start + 24:
        return -1
    control, flags = data[start], data[start + 1]
    subtype = control >> 4
    if (control >> 2) & 3 != 2 or subtype & 0x4 or flags & 0x40:
        return -1
    header = 24
    if flags & 0x03 == 0x03:  # to and from the distribution system: a fourth address
        header += 6
    if subtype & 0x8:  # QoS data: QoS control, and an HT control field when the order bit is set
        header += 2
        if flags & 0x80:
            header += 4
    llc = start + header
    if len(data) < llc + 8 or data[llc : llc + 3] != _SNAP:
        return -1
    ethertype = (data[llc + 6] << 8) | data[llc + 7]
    return llc + 8 if ethertype in (0x0800, 0x86DD) else -1


class IpDecoder:
    """Turns frames into IP datagrams, reassembling IPv4 and IPv6 fragments."""

    def __init__(self) -> None:
        # (version, src, dst, id, protocol) -> the datagram's fragments so far, in first-seen order
        self._pending: dict[tuple[int, bytes, bytes, int, int], _Datagram] = {}
        self._pending_bytes = 0
        self.fragments_dropped = 0  # datagrams given up: timed out, or pushed out by the bounds

    def decode(self, data: bytes, offset: int, time: float) -> IpPacket | None:
        if offset < 0 or len(data) < offset + 20:
            return None
        version = data[offset] >> 4
        if version == 4:
            ihl = (data[offset] & 0x0F) * 4
            total = (data[offset + 2] << 8) | data[offset + 3]
            end = min(offset + total, len(data)) if total >= ihl else len(data)
            protocol = data[offset + 9]
            src = data[offset + 12 : offset + 16]
            dst = data[offset + 16 : offset + 20]
            flags_frag = (data[offset + 6] << 8) | data[offset + 7]
            payload = data[offset + ihl : end]
            if flags_frag & 0x3FFF:  # MF set or offset non-zero
                ident = (data[offset + 4] << 8) | data[offset + 5]
                more = bool(flags_frag & 0x2000)
                frag_offset = (flags_frag & 0x1FFF) * 8
                whole = self._reassemble((4, src, dst, ident, protocol), frag_offset, more, payload, time)
                if whole is None:
                    return None
                payload = whole
            return IpPacket(4, src, dst, protocol, payload)
        if version == 6:
            return self._decode6(data, offset, time)
        return None

    def _decode6(self, data: bytes, offset: int, time: float) -> IpPacket | None:
        """An IPv6 datagram: extension headers skipped, fragments reassembled."""
        if len(data) < offset + 40:
            return None
        plen = (data[offset + 4] << 8) | data[offset + 5]
        next_header = data[offset + 6]
        src = data[offset + 8 : offset + 24]
        dst = data[offset + 24 : offset + 40]
        pos = offset + 40
        end = min(pos + plen, len(data)) if plen else len(data)
        fragment: tuple[int, bool, int] | None = None
        while True:
            if next_header in _IPV6_EXTENSIONS:
                if pos + 2 > end:
                    return None
                hdr_len = (data[pos + 1] + 1) * 8
                next_header = data[pos]
                pos += hdr_len
            elif next_header == 51:  # AH: length in 4-byte units, minus 2
                if pos + 2 > end:
                    return None
                hdr_len = (data[pos + 1] + 2) * 4
                next_header = data[pos]
                pos += hdr_len
            elif next_header == 44:  # Fragment header
                if pos + 8 > end:
                    return None
                off_flags = (data[pos + 2] << 8) | data[pos + 3]
                ident = struct.unpack_from("!I", data, pos + 4)[0]
                fragment = (off_flags & 0xFFF8, bool(off_flags & 1), ident)
                next_header = data[pos]
                pos += 8
            else:
                break
        payload = data[pos:end]
        if fragment is not None:
            frag_offset, more, ident = fragment
            whole = self._reassemble((6, src, dst, ident, next_header), frag_offset, more, payload, time)
            if whole is None:
                return None
            payload = whole
        return IpPacket(6, src, dst, next_header, payload)

    def _reassemble(
        self,
        key: tuple[int, bytes, bytes, int, int],
        offset: int,
        more: bool,
        payload: bytes,
        time: float,
    ) -> bytes | None:
        pending = self._pending
        if len(pending) > 64:
            self._expire(time)
        entry = pending.get(key)
        if entry is None:
            if len(pending) >= MAX_PENDING_DATAGRAMS or self._pending_bytes > MAX_PENDING_BYTES:
                self._drop(next(iter(pending)))  # the oldest: dicts keep first-seen order
            entry = pending[key] = _Datagram(time)
        old = entry.pieces.get(offset)
        if old is not None:
            self._pending_bytes -= len(old)
        entry.pieces[offset] = payload
        self._pending_bytes += len(payload)
        entry.cover(offset, len(payload))
        if not more:
            entry.set_total(offset + len(payload))
        if not entry.complete():
            return None
        total = entry.total
        buf = bytearray(total)
        for start in sorted(entry.pieces):
            piece = entry.pieces[start][: max(0, total - start)]
            buf[start : start + len(piece)] = piece
        self._drop(key, completed=True)
        return bytes(buf)

    def _drop(self, key: tuple[int, bytes, bytes, int, int], completed: bool = False) -> None:
        entry = self._pending.pop(key)
        self._pending_bytes -= sum(len(piece) for piece in entry.pieces.values())
        if not completed:
            self.fragments_dropped += 1

    def _expire(self, now: float) -> None:
        """Drop datagrams waiting longer than the timeout: only the oldest are looked at."""
        pending = self._pending
        while pending:
            key = next(iter(pending))
            if now - pending[key].first <= FRAGMENT_TIMEOUT:
                return
            self._drop(key)


class _Datagram:
    """The fragments of one datagram so far, and which 8-byte blocks they cover (counted as they come,
    so each fragment costs its own length, not a re-sort of every piece)."""

    __slots__ = ("first", "pieces", "blocks", "covered", "total")

    def __init__(self, first: float) -> None:
        self.first = first
        self.pieces: dict[int, bytes] = {}
        self.blocks = bytearray()  # 1 per 8-byte block of the datagram seen
        self.covered = 0  # blocks set below the end (all of them while the end is unknown)
        self.total = -1  # the datagram's length, once its last fragment came

    def cover(self, offset: int, length: int) -> None:
        first, end = offset // 8, -(-(offset + length) // 8)
        if self.total >= 0:
            end = min(end, -(-self.total // 8))
        if end > len(self.blocks):
            self.blocks.extend(bytes(end - len(self.blocks)))
        if first < end:
            before = self.blocks.count(1, first, end)
            self.blocks[first:end] = b"\x01" * (end - first)
            self.covered += (end - first) - before

    def set_total(self, total: int) -> None:
        if total != self.total:
            self.total = total
            self.covered = self.blocks.count(1, 0, -(-total // 8))  # once per last fragment

    def complete(self) -> bool:
        return self.total >= 0 and self.covered >= -(-self.total // 8)


_ADDRESS_TEXT: dict[bytes, str] = {}


def packed_endpoint(address: Endpoint) -> tuple[bytes, int] | None:
    """(packed address, port), as the packet source keys its counts; None for an address not
    written as one (a name, or one the capture never showed)."""
    try:
        family = socket.AF_INET6 if ":" in address.ip else socket.AF_INET
        return socket.inet_pton(family, address.ip), address.port
    except OSError:
        return None


def address_text(packed: bytes) -> str:
    """Packed IPv4/IPv6 address as text, cached: the same few addresses recur constantly."""
    text = _ADDRESS_TEXT.get(packed)
    if text is None:
        family = socket.AF_INET if len(packed) == 4 else socket.AF_INET6
        text = socket.inet_ntop(family, packed)
        if len(_ADDRESS_TEXT) < 65536:
            _ADDRESS_TEXT[packed] = text
    return text


_ENDPOINTS: dict[tuple[bytes, int], Endpoint] = {}


def endpoint_of(packed: bytes, port: int) -> Endpoint:
    """Endpoint for a packed address and port; the same few recur in every packet, so they are kept."""
    endpoint = _ENDPOINTS.get((packed, port))
    if endpoint is None:
        endpoint = Endpoint(address_text(packed), port)
        if len(_ENDPOINTS) < 65536:
            _ENDPOINTS[(packed, port)] = endpoint
    return endpoint
