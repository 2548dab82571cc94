"""The packet source: frames in, only the transport payloads that may be STUN/TURN/SIP out.

RTP, RTCP and DTLS are recognised from one byte (RFC 7983) and only counted per
5-tuple (for the media table); nothing else about them is built. TCP flows are
followed only when their first bytes look like a STUN framing, SIP or HTTP (application
signaling: HTTP bodies and WebSocket messages), and forgotten when they close (tcp_follow). What is
counted instead of handed on comes back once, when every packet has been read: `PacketSource.summary()`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

from dissectors.demux import COUNTED, TURN_PORTS, channel_data_fits, media_kind
from dissectors.start_line import looks_like_sip
from icetrace.capture.live_frames import LiveFrames
from icetrace.capture.network import (
    FRAGMENT_TIMEOUT,
    MAX_PENDING_BYTES,
    MAX_PENDING_DATAGRAMS,
    VXLAN_PORT,
    IpDecoder,
    IpPacket,
    address_text,
    endpoint_of,
    ip_offset,
    packed_endpoint,
    tunnel_inner,
)
from icetrace.capture.reader import CaptureReader, ReadProblem, RowSink
from icetrace.capture.tcp_follow import TcpFollower
from icetrace.capture.tcp_stream import TcpFlows
from icetrace.records.endpoint import Endpoint
from icetrace.records.icmp_error import IcmpError
from icetrace.records.media_flow import MediaFlow
from icetrace.records.relayed import WRAPPERS, RelayedCount, RelayedCounter
from icetrace.records.transport_packet import TransportPacket, new_packet

_MEDIA_KIND = COUNTED
_OUTBOUND = frozenset(via for via, _, outbound in WRAPPERS.values() if outbound)


def _untunnel(ipdec: IpDecoder, ip: IpPacket, time: float) -> IpPacket | None:
    """The packet inside a tunnel (at most two levels), or the tunnel packet itself when it
    carries nothing we can open."""
    for _ in range(2):
        inner = tunnel_inner(ip.protocol, ip.payload)
        if inner is None:
            return ip
        data, linktype = inner
        decoded = ipdec.decode(data, ip_offset(linktype, data), time)
        if decoded is None:
            return None
        ip = decoded
    return ip


@dataclass(frozen=True)
class CaptureSummary:
    """What a packet source kept of its captures besides the packets it handed on."""

    media_flows: list[MediaFlow]  # non-STUN traffic per 5-tuple, direction and kind, by first frame
    icmp_errors: list[IcmpError]  # ICMP errors quoting a UDP datagram: evidence for checks
    relayed: list[RelayedCount]  # UDP relayed media counted instead of handed on (`count_relayed`)
    end: float | None  # the latest time of a packet handed on or counted; None when there was none


class PacketSource:
    """Iterate TransportPackets of interest from one or more captures, in file order; once they are
    all read, `summary()` gives what was counted instead."""

    def __init__(
        self,
        paths: Iterable[str | Path],
        *,
        include_sip: bool = True,
        progress: Callable[[int, int], None] | None = None,
        count_relayed: bool = False,
        live: bool = False,
        relayed_rows: RowSink | None = None,
    ) -> None:
        self.paths = [Path(p) for p in paths]
        # a capture still being written: read as it comes (no spool file), every frame through the
        # loop below so that so_far() is up to date after each packet (the C skimmer reports
        # its counts only at the end of a file)
        self.live = live
        # live: told the time of every frame, media and all, before the frame is read on
        self.clock: Callable[[float], None] | None = None
        self.relayed_forgotten = 0  # relayed packets counted, then forgotten (forget())
        self.read_names: list[str] = []  # the captures read so far, in order
        self.include_sip = include_sip
        # True (analyze, messages --no-media): UDP relayed media that carried no STUN is only
        # counted (the summary's relayed counts), never handed on: ChannelData here, and on the fast path
        # ChannelData and Send/Data indications in the C skimmer; False (messages): it is handed
        # on, to be listed
        self.count_relayed = count_relayed
        # messages: the C skimmer writes the rows of UDP relayed media there instead of handing it on
        self.relayed_rows = relayed_rows
        self._relayed: dict[tuple[bytes, int, bytes, int, int, str], list[int | float]] = {}
        self._skimmed = RelayedCounter()  # what the C skimmer counted, added up as it reports
        self._reader: CaptureReader | None = None  # the capture being read
        # the latest time of an indication the skimmer counted (it never became a packet)
        self._relayed_end: float | None = None
        self._packets_end: float | None = None  # the latest time of a packet handed on
        self._read = False  # every packet was handed on: the summary is complete
        self.progress = progress
        self.problems: list[ReadProblem] = []
        self._tcp = TcpFollower(include_sip, relayed_rows is not None, self.problems)
        self.frames_read = 0
        self.reading = 0  # the index of the capture the packets now handed on come from
        self.formats: dict[str, str] = {}
        self._media: dict[tuple[bytes, int, bytes, int, str, str], list[int | float]] = {}
        self._stun_pairs: set[tuple[bytes, int, bytes, int]] = set()
        self._icmp_errors: list[IcmpError] = []
        # the time of the captures' last frame, whatever it held: a capture that runs on after its
        # last STUN or media packet shows that much longer silence (unanswered checks time out)
        self._frames_end: float | None = None

    def __iter__(self) -> Iterator[TransportPacket]:
        return self.read_each(self.paths)

    def read_each(self, paths: Iterable[str | Path]) -> Iterator[TransportPacket]:
        """The captures `paths` names, one after another as it names them (it may wait for the next).
        Live, each file after the first numbers its frames with its own id (a ring buffer's files are
        one timeline, `read_names` in order)."""
        end = float("-inf") if self._packets_end is None else self._packets_end
        for path in paths:
            self.reading = len(self.read_names)
            self.read_names.append(str(path))
            for packet in self._one(Path(path)):
                if packet.time > end:
                    end = packet.time
                yield packet
        if end != float("-inf"):
            self._packets_end = end
        self._read = True

    def summary(self) -> CaptureSummary:
        """The media flows, ICMP errors and relayed counts of the captures, and the time they end."""
        if not self._read:
            raise RuntimeError("a capture's summary is known once every packet of it was read")
        return self.so_far()

    def so_far(self, near: set[Endpoint] | None = None) -> CaptureSummary:
        """The summary of what was read until now: what the C skimmer counted is taken from it first
        (it may have counted a little ahead of the packet last handed on, up to the end of the
        window it walked). `near`: only the flows, counts and ICMP errors to or from those addresses
        (a look at a few calls of a busy capture)."""
        if self._reader is not None:
            self._reader.report_counts()
        wanted = None if near is None else {key for e in near if (key := packed_endpoint(e)) is not None}
        flows = self._media_flows(wanted)
        icmp = [e for e in self._icmp_errors if near is None or e.quoted_src in near or e.quoted_dst in near]
        relayed = self._relayed_counts(wanted)
        if near is not None:
            relayed = [c for c in relayed if c.src in near or c.dst in near]
        ends = (self._packets_end, self._frames_end, *(f.last_time for f in flows), self._relayed_end)
        times = [t for t in ends if t is not None]
        return CaptureSummary(flows, icmp, relayed, max(times, default=None))

    def _one(self, path: Path) -> Iterator[TransportPacket]:
        reader = CaptureReader(
            path,
            media_sink=None if self.live else self._media_sink,
            progress=self.progress,
            relayed_sink=self._relayed_sink if self.count_relayed and not self.live else None,
            relayed_rows=self.relayed_rows,
            live=self.live,
        )
        ipdec = IpDecoder()
        tcp = TcpFlows()
        capture = len(self.read_names) - 1 if self.live else 0
        wrapped = self.clock is not None or capture > 0
        frames = cast(CaptureReader, LiveFrames(reader, self.clock, capture)) if wrapped else reader
        self._reader = reader
        try:
            last = yield from self._frames(path, frames, ipdec, tcp)
            ends = [t for t in (last, reader.end_time, self._frames_end) if t is not None]
            self._frames_end = max(ends) if ends else None
            self._fragments_dropped(path, ipdec)
            yield from self._tcp.end(path, tcp)
        finally:
            self._reader = None
            self.problems.extend(reader.problems)
            self.formats[str(path)] = reader.format

    def _frames(
        self, path: Path, reader: CaptureReader, ipdec: IpDecoder, tcp: TcpFlows
    ) -> Generator[TransportPacket, None, float | None]:
        """The per-frame loop (STUN and counted media inline, the rest delegated); returns the last frame's time."""
        stun_pairs, media, count = self._stun_pairs, self._media, self._count
        media_kind = _MEDIA_KIND
        progress = self.progress
        frame = None
        for frame in reader:
            self.frames_read += 1
            if progress is not None and not frame.number & 0x3FFF:
                progress(reader.bytes_read, frame.number)
            data = frame.data
            ip = ipdec.decode(data, ip_offset(frame.linktype, data), frame.time)
            if ip is None:
                continue
            proto = ip.protocol
            p = ip.payload
            if proto == 47 or (proto == 17 and p[2:4] == VXLAN_PORT):
                # a tunnel (GRE, ERSPAN, VXLAN: traffic mirrored from elsewhere): its inner packet counts
                ip = _untunnel(ipdec, ip, frame.time)
                if ip is None:
                    continue
                proto = ip.protocol
                p = ip.payload
            if proto == 17:
                if len(p) <= 8:
                    continue  # no UDP header, or an empty datagram
                sport = (p[0] << 8) | p[1]
                dport = (p[2] << 8) | p[3]
                payload = p[8:]
                b0 = payload[0]
                if b0 < 4:
                    if len(payload) < 20 or 20 + ((payload[2] << 8) | payload[3]) != len(payload):
                        continue
                    stun_pairs.add((ip.src, sport, ip.dst, dport))
                    stun_pairs.add((ip.dst, dport, ip.src, sport))
                else:
                    kind = media_kind.get(b0)
                    if kind is not None:
                        if kind == "rtp" and len(payload) > 1 and 192 <= payload[1] <= 223:
                            kind = "rtcp"
                        count(media, ip.src, sport, ip.dst, dport, "udp", kind, frame.number, frame.time, len(payload))
                        continue
                    if not self._hand_on_udp(ip.src, sport, ip.dst, dport, payload, frame.number, frame.time):
                        continue
                yield new_packet(
                    frame=frame.number,
                    time=frame.time,
                    src=endpoint_of(ip.src, sport),
                    dst=endpoint_of(ip.dst, dport),
                    transport="udp",
                    payload=payload,
                )
            elif proto == 6:
                if len(p) >= 20:
                    yield from self._tcp.segment(path, reader, tcp, ip, p, frame.number, frame.time)
            elif proto == 1 or proto == 58:
                self._icmp(ip.version, address_text(ip.src), p, frame.number, frame.time)
        return frame.time if frame is not None else None

    def _hand_on_udp(
        self, src: bytes, sport: int, dst: bytes, dport: int, payload: bytes, frame: int, time: float
    ) -> bool:
        """For a datagram neither STUN nor counted media: count it (ChannelData, data on an ICE
        5-tuple) and say whether it is handed on (ChannelData listed by `messages`, SIP)."""
        stun_pairs = self._stun_pairs
        b0 = payload[0]
        if (
            64 <= b0 <= 79
            and channel_data_fits(payload)
            and (sport in TURN_PORTS or dport in TURN_PORTS or (src, sport, dst, dport) in stun_pairs)
        ) or (b0 == 0xFF and payload[1:2] == b"\x10" and (src, sport, dst, dport) in stun_pairs):
            # ChannelData on a TURN port needs no Allocate in the capture: it may start mid-call.
            # Data whose first byte is STUN's (RFC 7983: 0-3) is a relayed check or its answer, not
            # media: it becomes records of its own, and the leg counts only what carried media.
            # MS multiplexed TURN's data follows an 8-byte session id
            inner = 4 if b0 <= 79 else 12
            if len(payload) > inner and payload[inner] <= 3:
                return True
            # Counted here, not by _count: on a TURN server's capture this is the common path
            key = (src, sport, dst, dport, "udp", "channeldata")
            entry = self._media.get(key)
            if entry is None:
                self._media[key] = [frame, time, frame, time, 1, len(payload)]
            else:
                if frame > entry[2]:  # (so_far may have taken later frames from the skimmer)
                    entry[2] = frame
                    entry[3] = time
                elif frame < entry[0]:
                    entry[0] = frame
                    entry[1] = time
                entry[4] += 1
                entry[5] += len(payload)
            # counted without decoding: RFC 8656 ChannelData whose data is not STUN (its first byte
            # says so). MS multiplexed TURN (0xFF10) puts an 8-byte session id first: always decoded
            if self.count_relayed and b0 <= 79 and (len(payload) == 4 or payload[4] >= 4):
                self._count_relayed(self._relayed, src, sport, dst, dport, payload, frame, time)
                return False
            return True
        if self.include_sip and looks_like_sip(payload):
            return True
        if (src, sport, dst, dport) in stun_pairs:
            # application data on an ICE 5-tuple (no RTP): still media for the story
            self._count(self._media, src, sport, dst, dport, "udp", "data", frame, time, len(payload))
        return False

    def _fragments_dropped(self, path: Path, ipdec: IpDecoder) -> None:
        if ipdec.fragments_dropped:
            what = (
                f"{ipdec.fragments_dropped} fragmented IP datagrams never completed: dropped after"
                f" {FRAGMENT_TIMEOUT:g} s, or when {MAX_PENDING_DATAGRAMS} datagrams or"
                f" {MAX_PENDING_BYTES >> 20} MB were waiting for fragments"
            )
            self.problems.append(ReadProblem(str(path), -1, 0, what))

    @staticmethod
    def _count(
        media: dict[tuple[bytes, int, bytes, int, str, str], list[int | float]],
        src: bytes,
        sport: int,
        dst: bytes,
        dport: int,
        transport: str,
        kind: str,
        frame: int,
        time: float,
        size: int,
    ) -> None:
        key = (src, sport, dst, dport, transport, kind)
        entry = media.get(key)
        if entry is None:
            media[key] = [frame, time, frame, time, 1, size]
        else:
            # the skimmer's counts, taken while reading (so_far), may hold later frames already
            if frame > entry[2]:
                entry[2] = frame
                entry[3] = time
            elif frame < entry[0]:
                entry[0] = frame
                entry[1] = time
            entry[4] += 1
            entry[5] += size

    def _media_sink(
        self,
        src: bytes,
        sport: int,
        dst: bytes,
        dport: int,
        kind: str,
        first_frame: int,
        first_time: float,
        last_frame: int,
        last_time: float,
        packets: int,
        size: int,
    ) -> None:
        """Merge counts of media frames the vectorised skimmer never handed to the loop."""
        key = (src, sport, dst, dport, "udp", kind)
        entry = self._media.get(key)
        if entry is None:
            self._media[key] = [first_frame, first_time, last_frame, last_time, packets, size]
            return
        if first_frame < entry[0]:
            entry[0], entry[1] = first_frame, first_time
        if last_frame > entry[2]:
            entry[2], entry[3] = last_frame, last_time
        entry[4] += packets
        entry[5] += size

    def _relayed_sink(self, counts: list[tuple[Any, ...]], latest: float | None) -> None:
        """Take the relayed media the C skimmer counted instead of handing it back."""
        for via, src, sport, dst, dport, channel, peer, peer_port, kind, n1, t1, n2, t2, packets, size in counts:
            source, destination = endpoint_of(src, sport), endpoint_of(dst, dport)
            channeldata = via == "channeldata"
            self._skimmed.include(
                RelayedCount(
                    src=source,
                    dst=destination,
                    transport="udp",
                    via=via,
                    channel=channel if channeldata else None,
                    client=None if channeldata else (source if via in _OUTBOUND else destination),
                    peer=None if channeldata or peer is None else endpoint_of(peer, peer_port),
                    kind=kind,
                    first_frame=n1,
                    first_time=t1,
                    last_frame=n2,
                    last_time=t2,
                    packets=packets,
                    bytes=size,
                )
            )
        if latest is not None and (self._relayed_end is None or latest > self._relayed_end):
            self._relayed_end = latest

    def _icmp(self, version: int, reporter: str, p: bytes, frame: int, time: float) -> None:
        """Keep ICMP errors that quote a UDP datagram: evidence for checks, never messages."""
        if len(p) < 8 or not ((version == 4 and p[0] in (3, 11)) or (version == 6 and p[0] in (1, 3))):
            return
        quoted = p[8:]
        if version == 4 and len(quoted) >= 28 and quoted[0] >> 4 == 4:
            ihl = (quoted[0] & 0x0F) * 4
            if quoted[9] != 17 or len(quoted) < ihl + 8:
                return
            src, dst, udp = quoted[12:16], quoted[16:20], quoted[ihl : ihl + 8]
        elif version == 6 and len(quoted) >= 48 and quoted[0] >> 4 == 6 and quoted[6] == 17:
            src, dst, udp = quoted[8:24], quoted[24:40], quoted[40:48]
        else:
            return
        self._icmp_errors.append(
            IcmpError(
                frame=frame,
                time=time,
                reporter=reporter,
                quoted_src=Endpoint(address_text(src), (udp[0] << 8) | udp[1]),
                quoted_dst=Endpoint(address_text(dst), (udp[2] << 8) | udp[3]),
                version=version,
                type=p[0],
                code=p[1],
            )
        )

    @staticmethod
    def _count_relayed(
        relayed: dict[tuple[bytes, int, bytes, int, int, str], list[int | float]],
        src: bytes,
        sport: int,
        dst: bytes,
        dport: int,
        payload: bytes,
        frame: int,
        time: float,
    ) -> None:
        channel = (payload[0] << 8) | payload[1]
        size = (payload[2] << 8) | payload[3]
        key = (src, sport, dst, dport, channel, media_kind(payload[4 : 4 + size]))
        entry = relayed.get(key)
        if entry is None:
            relayed[key] = [frame, time, frame, time, 1, size]
        else:
            entry[2] = frame
            entry[3] = time
            entry[4] += 1
            entry[5] += size

    def _relayed_counts(self, wanted: set[tuple[bytes, int]] | None = None) -> list[RelayedCount]:
        """The UDP relayed media counted instead of handed on (`count_relayed`), keyed as RelayedCounter
        keys it; a key may come twice (counted here and in the skimmer): RelayedCounter.include adds them."""
        return [replace(c) for c in self._skimmed.flows.values()] + [
            RelayedCount(
                src=endpoint_of(src, sport),
                dst=endpoint_of(dst, dport),
                transport="udp",
                via="channeldata",
                channel=channel,
                client=None,
                peer=None,
                kind=kind,
                first_frame=int(v[0]),
                first_time=float(v[1]),
                last_frame=int(v[2]),
                last_time=float(v[3]),
                packets=int(v[4]),
                bytes=int(v[5]),
            )
            for (src, sport, dst, dport, channel, kind), v in self._relayed.items()
            if wanted is None or (src, sport) in wanted or (dst, dport) in wanted
        ]

    def forget(self, keep: Callable[[Endpoint, Endpoint, float], bool]) -> None:
        """Drop the media counts, ICE 5-tuples and ICMP errors no longer wanted (`keep(src, dst, last
        time)` says which stay; -inf for a 5-tuple, which has no time): a capture read for hours
        keeps only what its open calls need."""

        def kept(key: tuple[Any, ...], last: float) -> bool:
            return keep(endpoint_of(key[0], key[1]), endpoint_of(key[2], key[3]), last)

        if self._reader is not None:  # what the skimmer counted so far goes too, not later
            self._reader.report_counts()

        # in place: the packet loop holds these very objects
        for media_key in [key for key, v in self._media.items() if not kept(key, float(v[3]))]:
            del self._media[media_key]
        for relayed_key in [key for key, v in self._relayed.items() if not kept(key, float(v[3]))]:
            self.relayed_forgotten += int(self._relayed.pop(relayed_key)[4])
        skimmed = self._skimmed.flows
        for count_key in [key for key, c in skimmed.items() if not keep(c.src, c.dst, c.last_time)]:
            self.relayed_forgotten += skimmed.pop(count_key).packets
        self._stun_pairs -= {key for key in self._stun_pairs if not kept(key, float("-inf"))}
        self._icmp_errors = [e for e in self._icmp_errors if keep(e.quoted_src, e.quoted_dst, e.time)]

    def _media_flows(self, wanted: set[tuple[bytes, int]] | None = None) -> list[MediaFlow]:
        """Non-STUN traffic per 5-tuple, direction and kind, ordered by first frame (`wanted`: only
        from or to those (packed address, port))."""
        media = self._media.items()
        if wanted is not None:
            media = [(k, v) for k, v in media if (k[0], k[1]) in wanted or (k[2], k[3]) in wanted]  # type: ignore[assignment]
        flows = [
            MediaFlow(
                src=Endpoint(address_text(src), sport),
                dst=Endpoint(address_text(dst), dport),
                transport=transport,
                kind=kind,
                first_frame=int(v[0]),
                first_time=float(v[1]),
                last_frame=int(v[2]),
                last_time=float(v[3]),
                packets=int(v[4]),
                bytes=int(v[5]),
            )
            for (src, sport, dst, dport, transport, kind), v in media
        ]
        flows.sort(key=lambda f: f.first_frame)
        return flows
