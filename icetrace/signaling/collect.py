"""Signaling read from packets: SIP over UDP and TCP, and the HTTP/WebSocket signaling of WebRTC
applications, collected side by side from one stream of TransportPackets.

`SignalingCollector` is the one place that hands each packet to both collectors: a capture read,
`load_signaling` and the decrypted TLS streams all feed it. A new signaling transport is a collector
fed here (docs/architecture.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from dissectors.start_line import looks_like_sip
from icetrace.records.endpoint import Endpoint
from icetrace.records.transport_packet import TransportPacket
from icetrace.signaling.app_model import build_app_model
from icetrace.signaling.app_signaling import AppSignal, AppSignalingCollector
from icetrace.signaling.dialogs import build_model
from icetrace.signaling.model import SignalingModel, SourceRef
from icetrace.signaling.sip import SipMessage, SipStreamSplitter, SipSyntaxError, parse_sip

# a start line at the beginning of a line of a TCP stream, for resynchronising after lost bytes
_START_IN_STREAM = re.compile(rb"(?:^|\n)((?:[A-Z]+ \S+ SIP/2\.0|SIP/2\.0 [0-9]{3}[^\r\n]*)\r?\n)")


class SipCollector:
    """Feed TransportPackets; collects SIP messages from UDP datagrams and TCP streams.

    Messages that fail to parse are problems of their flow: a flow repeating one mistake gives
    one line with a count, not one line per datagram.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.messages: list[tuple[SourceRef, SipMessage]] = []
        self._sip_splitters: dict[tuple[Endpoint, Endpoint], SipStreamSplitter | None] = {}
        self._resync: set[tuple[Endpoint, Endpoint]] = set()  # directions waiting for a start line after a gap
        # (transport, src, dst) -> (first ref, first error, frames)
        self._flow_problems: dict[tuple[str, Endpoint, Endpoint], tuple[SourceRef, str, list[int]]] = {}

    @property
    def problems(self) -> list[str]:
        out = []
        for (transport, src, dst), (ref, error, frames) in self._flow_problems.items():
            if len(frames) == 1:
                out.append(f"{ref}: {error}")
            else:
                shown = ", ".join(str(f) for f in frames[:5]) + (", ..." if len(frames) > 5 else "")
                out.append(
                    f"{transport} {src} -> {dst}: {len(frames)} messages are not SIP "
                    f"(frames {shown}); first, {ref}: {error}"
                )
        return out

    def feed(self, packet: TransportPacket) -> None:
        ref = SourceRef(kind="frame", name=self.name, position=packet.frame, time=packet.time)
        if packet.transport == "udp":
            if looks_like_sip(packet.payload):
                self._parse(packet.payload, ref, packet)
            return
        key = (packet.src, packet.dst)
        if packet.closes:  # the direction ended: nothing more comes to split
            if packet.payload:
                self._tcp(key, packet, ref)
            self._sip_splitters.pop(key, None)
            self._resync.discard(key)
            return
        self._tcp(key, packet, ref)

    def _tcp(self, key: tuple[Endpoint, Endpoint], packet: TransportPacket, ref: SourceRef) -> None:
        splitter = self._sip_splitters.get(key, ...)
        if splitter is None:
            return
        if splitter is ...:
            if not looks_like_sip(packet.payload):
                self._sip_splitters[key] = None
                return
            splitter = self._sip_splitters[key] = SipStreamSplitter()
        payload = packet.payload
        if packet.gap_before or key in self._resync:
            # bytes were lost: the message they cut is gone; read on from the next start line
            splitter.clear()
            start = _START_IN_STREAM.search(payload)
            if start is None:
                self._resync.add(key)
                return
            self._resync.discard(key)
            payload = payload[start.start(1) :]
        for message in splitter.feed(payload):
            self._parse(message, ref, packet)

    def _parse(self, data: bytes, ref: SourceRef, packet: TransportPacket) -> None:
        try:
            self.messages.append((ref, parse_sip(data)))
        except SipSyntaxError as exc:
            flow = (packet.transport, packet.src, packet.dst)
            known = self._flow_problems.get(flow)
            if known is None:
                self._flow_problems[flow] = (ref, str(exc), [packet.frame])
            else:
                known[2].append(packet.frame)


class SignalingCollector:
    """Feed TransportPackets; each goes to the SIP collector and (unless `app_signaling` is off) to the
    application-signaling collector. Call `finish()` after the last packet."""

    def __init__(self, name: str, *, app_signaling: bool = True) -> None:
        self.sip = SipCollector(name)
        self.app = AppSignalingCollector(name)
        self.app_signaling = app_signaling
        self.decrypted = DecryptedSignaling()  # what TLS streams of the same capture held

    def feed(self, packet: TransportPacket) -> None:
        self.sip.feed(packet)
        if self.app_signaling:
            self.app.feed(packet)

    def finish(self) -> None:
        self.app.finish()

    def rename(self, name: str) -> None:
        """What the next packets carry comes from the capture `name` (a ring buffer's next file)."""
        self.sip.name = self.app.name = name

    def add_decrypted(self, decrypted: DecryptedSignaling) -> None:
        """The signaling of the capture's TLS streams, read from their plaintext."""
        self.decrypted.sip_messages += decrypted.sip_messages
        self.decrypted.signals += decrypted.signals

    @property
    def sip_messages(self) -> list[tuple[SourceRef, SipMessage]]:
        """SIP messages: those sent in plain SIP, then those inside TLS, then those HTTP/WebSocket carried."""
        return self.sip.messages + self.decrypted.sip_messages + self.app.sip_messages

    @property
    def signals(self) -> list[AppSignal]:
        return self.app.signals + self.decrypted.signals

    @property
    def problems(self) -> list[str]:
        return self.sip.problems + self.app.problems

    def build(self, model: SignalingModel) -> None:
        """Add what was collected to `model`: the SIP dialogs, then the application signals."""
        build_model(self.sip_messages, model)
        build_app_model(self.signals, model)


@dataclass(kw_only=True)
class DecryptedSignaling:
    sip_messages: list[tuple[SourceRef, SipMessage]] = field(default_factory=list)
    signals: list[AppSignal] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


TlsStream = tuple[str, int, float, list[tuple[bool, bytes]]]


def decrypted_signaling(name: str, streams: Iterable[TlsStream]) -> DecryptedSignaling:
    """SIP, HTTP and WebSocket signaling inside decrypted TLS streams (stream, first frame, time,
    [(reverse, bytes)]): each stream's plaintext goes through the same readers as plain TCP."""
    out = DecryptedSignaling()
    for stream, frame, time, chunks in streams:
        client, server = Endpoint(f"tls-stream-{stream}-client", 1), Endpoint(f"tls-stream-{stream}-server", 2)
        collector = SignalingCollector(name)
        for reverse, data in chunks:
            src, dst = (server, client) if reverse else (client, server)
            collector.feed(TransportPacket(frame=frame, time=time, src=src, dst=dst, transport="tcp", payload=data))
        collector.finish()
        out.sip_messages += collector.sip_messages
        out.signals += collector.signals
        out.problems += collector.problems
    return out
