"""Application signaling in captures: HTTP and WebSocket carrying SDP and trickled candidates.

WebRTC apps post their offer, answer and candidates to a server of their own over HTTP/1.1 or a
WebSocket (RFC 6455), or speak SIP over the WebSocket (RFC 7118). The collector follows those TCP
connections (reassembled by the packet source) and hands each message to `app_payload`; SIP text
goes to the SIP parser like SIP from UDP or TCP.

The app's own protocol is not read: what a message carries is found by its W3C shapes
(`app_payload`), and `app_model` pairs what was found into calls.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from dissectors.start_line import looks_like_sip
from icetrace.records.endpoint import Endpoint
from icetrace.records.transport_packet import TransportPacket
from icetrace.signaling.app_payload import Signal, signals_in
from icetrace.signaling.http_stream import MAX_BODY, HttpMessage, HttpReader, looks_like_http
from icetrace.signaling.model import SourceRef
from icetrace.signaling.sip import SipMessage, SipSyntaxError, parse_sip
from icetrace.signaling.websocket import WebSocketReader


@dataclass(frozen=True, slots=True, kw_only=True)
class AppSignal:
    """One thing found in a message, with where it travelled: `client` is the HTTP/WebSocket client's
    address; `upstream` is true when the client sent it (its own), false when it received it."""

    ref: SourceRef
    client: str
    upstream: bool
    signal: Signal


@dataclass
class _Connection:
    client: Endpoint | None = None
    http: dict[tuple[Endpoint, Endpoint], HttpReader] = field(default_factory=dict)
    ws: dict[tuple[Endpoint, Endpoint], WebSocketReader] = field(default_factory=dict)
    ignored: bool = False
    ended: set[tuple[Endpoint, Endpoint]] = field(default_factory=set)  # directions that closed


class AppSignalingCollector:
    """Feed TransportPackets (TCP chunks in order per direction); collects signals and SIP messages."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.signals: list[AppSignal] = []
        self.sip_messages: list[tuple[SourceRef, SipMessage]] = []
        self.problems: list[str] = []
        self._connections: dict[tuple[Endpoint, Endpoint], _Connection] = {}

    def feed(self, packet: TransportPacket) -> None:
        if packet.transport != "tcp":
            return
        if packet.payload:
            self._segment(packet)
        if packet.closes:
            self._closed(packet)

    def _closed(self, packet: TransportPacket) -> None:
        """A direction ended: a body read until the close is whole; once both directions have ended
        the connection's state goes."""
        key = (packet.src, packet.dst)
        owner = key if key in self._connections else (packet.dst, packet.src)
        conn = self._connections.get(owner)
        if conn is None:
            return
        reader = conn.http.get(key)
        if reader is not None:
            for message in reader.finish():
                ref = SourceRef(kind="frame", name=self.name, position=message.frame, time=message.time)
                self._http(message, ref, conn, packet.src, packet.dst)
        conn.ended.add(key)
        if (packet.dst, packet.src) in conn.ended or conn.ignored:
            del self._connections[owner]

    def _segment(self, packet: TransportPacket) -> None:
        key = (packet.src, packet.dst)
        conn = self._connections.get(key) or self._connections.get((packet.dst, packet.src))
        if conn is None:
            conn = _Connection()
            self._connections[key] = conn
        if conn.ignored:
            return
        ref = SourceRef(kind="frame", name=self.name, position=packet.frame, time=packet.time)
        ws = conn.ws.get(key)
        if ws is not None:
            messages, problems = ws.feed(packet.payload)
            self.problems += [f"{ref}: {p}" for p in problems]
            for _opcode, data in messages:
                self._message(data.decode("utf-8", errors="replace"), ref, conn, packet.src)
            return
        reader = conn.http.get(key)
        if reader is None:
            if not looks_like_http(packet.payload):
                if not conn.http:
                    conn.ignored = True
                return
            reader = conn.http[key] = HttpReader()
        http_messages, problems = reader.feed(packet.payload, packet.frame, packet.time)
        self.problems += [f"{ref}: {p}" for p in problems]
        for message in http_messages:
            self._http(message, ref, conn, packet.src, packet.dst)

    def finish(self) -> None:
        """Bodies that ran to the end of their connection."""
        for conn in self._connections.values():
            for (src, dst), reader in conn.http.items():
                for message in reader.finish():
                    ref = SourceRef(kind="frame", name=self.name, position=message.frame, time=message.time)
                    self._http(message, ref, conn, src, dst)

    def _http(self, message: HttpMessage, ref: SourceRef, conn: _Connection, src: Endpoint, dst: Endpoint) -> None:
        if message.is_request:
            conn.client = src
            answer = conn.http.setdefault((dst, src), HttpReader())
            answer.last_request_method = message.start_line.split(" ", 1)[0]
        elif conn.client is None:
            conn.client = dst
        if message.body:
            kind = message.header("content-type").lower()
            if not any(k in kind for k in ("image/", "audio/", "video/", "font/", "javascript", "css")):
                body = self._decoded(message, ref)
                if body is not None:
                    self._message(body.decode("utf-8", errors="replace"), ref, conn, src)
        if message.status == 101 and message.upgrades_to_websocket:
            self._to_websocket(message, conn, src, dst)

    def _decoded(self, message: HttpMessage, ref: SourceRef) -> bytes | None:
        """The body with its gzip or deflate content coding undone (RFC 9110 §8.4.1), bounded."""
        coding = message.header("content-encoding").lower().strip()
        if coding in ("", "identity"):
            return message.body
        if coding not in ("gzip", "x-gzip", "deflate"):
            return None  # br, zstd: not read
        inflater = zlib.decompressobj(47)  # 32 + 15: gzip or zlib header, detected
        try:
            data = inflater.decompress(message.body, MAX_BODY)
        except zlib.error as exc:
            self.problems.append(f"{ref}: HTTP body with {coding} coding does not inflate: {exc}")
            return None
        if inflater.unconsumed_tail:
            self.problems.append(f"{ref}: HTTP body inflates to over {MAX_BODY} bytes: skipped")
            return None
        return data

    def _to_websocket(self, response: HttpMessage, conn: _Connection, server: Endpoint, client: Endpoint) -> None:
        """RFC 6455 §4.2.2: after 101 both directions carry frames (RFC 7692 for permessage-deflate)."""
        extensions = response.header("sec-websocket-extensions").lower()
        deflate = "permessage-deflate" in extensions
        for src, dst in ((server, client), (client, server)):
            old = conn.http.pop((src, dst), None)
            own = "server_no_context_takeover" if src == server else "client_no_context_takeover"
            reader = WebSocketReader(deflate=deflate, keep_context=own not in extensions)
            conn.ws[(src, dst)] = reader
            if old is not None and old.buffer:
                left = bytes(old.buffer)
                messages, problems = reader.feed(left)
                ref = SourceRef(kind="frame", name=self.name, position=response.frame, time=response.time)
                self.problems += [f"{ref}: {p}" for p in problems]
                for _opcode, data in messages:
                    self._message(data.decode("utf-8", errors="replace"), ref, conn, src)

    def _message(self, text: str, ref: SourceRef, conn: _Connection, sender: Endpoint) -> None:
        client = conn.client or sender
        upstream = sender == client
        if looks_like_sip(text[:16].encode()):
            try:
                self.sip_messages.append((ref, parse_sip(text.encode())))
            except SipSyntaxError as exc:
                self.problems.append(f"{ref}: SIP over WebSocket: {exc}")
            return
        signals, problems = signals_in(text)
        self.problems += [f"{ref}: {p}" for p in problems]
        self.signals += [AppSignal(ref=ref, client=client.ip, upstream=upstream, signal=s) for s in signals]
