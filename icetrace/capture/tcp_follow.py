"""Following TCP in a capture: which directions to follow (their first bytes look like a STUN
framing, ChannelData on a TURN port, SIP or HTTP), their in-order bytes as transport packets, and
what ends them (a FIN once the data before it is in, an RST for both directions), so nothing is kept
for a connection after it closed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dissectors.demux import TURN_PORTS, channel_data_fits
from dissectors.framing import detect_tcp_framing
from dissectors.start_line import opens_signaling_stream
from icetrace.capture.network import IpPacket, endpoint_of
from icetrace.capture.reader import CaptureReader, ReadProblem
from icetrace.capture.tcp_stream import FIN, RST, SYN, Chunk, FlowKey, TcpDirection, TcpFlows
from icetrace.records.transport_packet import TransportPacket, new_packet


class TcpFollower:
    """The TCP rules of a packet source; the flows of each file are a TcpFlows the caller keeps.
    `listed_by_skimmer`: the C skimmer writes relayed rows, and the bytes it listed are skipped."""

    def __init__(self, include_sip: bool, listed_by_skimmer: bool, problems: list[ReadProblem]) -> None:
        self.include_sip = include_sip
        self.listed_by_skimmer = listed_by_skimmer
        self.problems = problems

    def segment(
        self,
        path: Path,
        reader: CaptureReader,
        tcp: TcpFlows,
        ip: IpPacket,
        p: bytes,
        frame: int,
        time: float,
    ) -> Iterator[TransportPacket]:
        """Follow one TCP segment: the in-order chunks of a followed flow; a new flow is followed only
        when its first bytes look like STUN framing, ChannelData on a TURN port, SIP or HTTP. A FIN
        or an RST ends what is kept for the direction (both directions, for an RST)."""
        sport = (p[0] << 8) | p[1]
        dport = (p[2] << 8) | p[3]
        seq = (p[4] << 24) | (p[5] << 16) | (p[6] << 8) | p[7]
        flags = p[13]
        payload = p[(p[12] >> 4) * 4 :]
        key = (ip.src, sport, ip.dst, dport)
        state = tcp.get(key)
        if state is None and key not in tcp:
            state = tcp.opening(key, seq, len(payload), flags)
            if state is not None:
                tcp[key] = state
        elif state is not None and self.listed_by_skimmer:
            listed = reader.tcp_listed(frame)  # the skimmer listed the segments before this one
            if listed:
                state.skip_listed(listed)
        if state is not None:
            yield from self._data(path, reader, tcp, state, ip, sport, dport, seq, payload, flags, frame, time)
        if flags & RST:
            yield from self._reset(path, reader, tcp, key, frame, time)
        elif flags & FIN or (state is not None and state.closing):
            end = (seq + len(payload) + 1) & 0xFFFFFFFF if flags & FIN else None
            yield from self._fin(reader, tcp, key, end, frame, time)

    def _data(
        self,
        path: Path,
        reader: CaptureReader,
        tcp: TcpFlows,
        state: TcpDirection,
        ip: IpPacket,
        sport: int,
        dport: int,
        seq: int,
        payload: bytes,
        flags: int,
        frame: int,
        time: float,
    ) -> Iterator[TransportPacket]:
        key = (ip.src, sport, ip.dst, dport)
        chunks = state.accept(seq, payload, bool(flags & SYN), frame, time)
        if state.follow is None:
            if not chunks:
                if state.buffered > 65536:
                    tcp[key] = None  # no in-order start in sight: stop buffering
                    reader.ignore_tcp(ip.src, sport, ip.dst, dport)
                return
            first = chunks[0][0]
            reverse = tcp.get((ip.dst, dport, ip.src, sport))
            if not (
                detect_tcp_framing(first)
                or ((sport in TURN_PORTS or dport in TURN_PORTS) and channel_data_fits(first, stream=True))
                or (self.include_sip and opens_signaling_stream(first))
                or (reverse is not None and reverse.follow)
            ):
                tcp[key] = None
                reader.ignore_tcp(ip.src, sport, ip.dst, dport)
                return
            state.follow = True
        yield from self._packets(path, ip.src, sport, ip.dst, dport, chunks)

    def _packets(
        self,
        path: Path,
        src: bytes,
        sport: int,
        dst: bytes,
        dport: int,
        chunks: list[Chunk],
    ) -> Iterator[TransportPacket]:
        for chunk, frame, time, gap in chunks:
            packet = new_packet(
                frame=frame,
                time=time,
                src=endpoint_of(src, sport),
                dst=endpoint_of(dst, dport),
                transport="tcp",
                payload=chunk,
            )
            if gap:
                packet.gap_before = gap
                self._gap(path, packet)
            yield packet

    def _fin(
        self, reader: CaptureReader, tcp: TcpFlows, key: FlowKey, end: int | None, frame: int, time: float
    ) -> Iterator[TransportPacket]:
        """A FIN: the direction closes now, or once the data before the FIN is in."""
        state = tcp.get(key)
        if state is not None:
            state.closing = True
            if end is not None:
                state.fin_seq = end
            if state.pending:
                return
            end = state.fin_seq
        elif key not in tcp:
            tcp.syns.pop(key, None)  # a SYN, then the FIN: nothing else kept
            return
        tcp.close(key, end)
        if state is None:
            reader.ignore_tcp(*key, ignored=False)
        elif state.follow:
            yield self._closing(key, frame, time)

    def _reset(
        self, path: Path, reader: CaptureReader, tcp: TcpFlows, key: FlowKey, frame: int, time: float
    ) -> Iterator[TransportPacket]:
        """An RST: both directions close, what waits behind a gap handed on first."""
        src, sport, dst, dport = key
        for direction in (key, (dst, dport, src, sport)):
            if direction not in tcp:
                tcp.syns.pop(direction, None)
                continue
            state = tcp.close(direction, None)
            if state is None:
                reader.ignore_tcp(*direction, ignored=False)
            elif state.follow:
                yield from self._packets(path, *direction, state.flush())
                yield self._closing(direction, frame, time)

    @staticmethod
    def _closing(key: FlowKey, frame: int, time: float) -> TransportPacket:
        src, sport, dst, dport = key
        return new_packet(
            frame=frame,
            time=time,
            src=endpoint_of(src, sport),
            dst=endpoint_of(dst, dport),
            transport="tcp",
            payload=b"",
            closes=True,
        )

    def end(self, path: Path, tcp: TcpFlows) -> Iterator[TransportPacket]:
        """The end of the capture: data still waiting behind a gap that never filled."""
        for (src, sport, dst, dport), state in tcp.items():
            if state is not None and state.follow and state.pending:
                yield from self._packets(path, src, sport, dst, dport, state.flush())

    def _gap(self, path: Path, packet: TransportPacket) -> None:
        what = f"TCP {packet.src} -> {packet.dst}: {packet.gap_before} bytes never captured before this frame's data"
        self.problems.append(ReadProblem(str(path), -1, packet.frame, what))
