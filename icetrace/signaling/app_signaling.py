"""Application signaling in captures: HTTP and WebSocket carrying SDP and trickled candidates.

WebRTC apps post their offer, answer and candidates to a server of their own over HTTP/1.1 or a
WebSocket (RFC 6455), or speak SIP over the WebSocket (RFC 7118). The collector follows those TCP
connections (reassembled by the packet source) and hands each message to `app_payload`; SIP text
goes to the SIP parser like SIP from UDP or TCP.

The app's own protocol is not read. A description is known by its ICE ufrag and DTLS fingerprint,
so the copy the caller posts, the copy the callee polls and any later full copy are one
description. An answer belongs to the latest unanswered offer before it with the same m-line mids
(its ufrag and fingerprint are the answerer's, so nothing in it names the offer). A candidate
joins the description its usernameFragment (or `ufrag` extension) names; without one, the side it
travelled on decides: a candidate a client sends is its own, one a client receives is its peer's.
A trickled candidate keeps the frame and time it crossed the wire (RFC 8838).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from dissectors.start_line import looks_like_sip
from icetrace.records.endpoint import Endpoint
from icetrace.records.transport_packet import TransportPacket
from icetrace.signaling.app_payload import Description, Signal, TrickledCandidate, signals_in
from icetrace.signaling.candidate import CandidateSyntaxError, parse_candidate_line
from icetrace.signaling.http_stream import MAX_BODY, HttpMessage, HttpReader, looks_like_http
from icetrace.signaling.model import Call, SdpExchange, SessionDescription, SignalingModel, SourceRef
from icetrace.signaling.sdp import parse_sdp
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


class AppSignalingCollector:
    """Feed TransportPackets (TCP chunks in order per direction); collects signals and SIP messages."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.signals: list[AppSignal] = []
        self.sip_messages: list[tuple[SourceRef, SipMessage]] = []
        self.problems: list[str] = []
        self._connections: dict[tuple[Endpoint, Endpoint], _Connection] = {}

    def feed(self, packet: TransportPacket) -> None:
        if packet.transport != "tcp" or not packet.payload:
            return
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


# -- signals -> offers, answers and trickled candidates -------------------------------------------


@dataclass
class _Described:
    ufrag: str | None
    fingerprint: str | None
    role: str
    desc: SessionDescription
    ref: SourceRef
    order: int
    authors: set[str] = field(default_factory=set)
    readers: set[str] = field(default_factory=set)
    answered: bool = False
    elsewhere: bool = False  # already in the model from another source: no call of its own
    events: list[tuple[SourceRef, str]] = field(default_factory=list)

    @property
    def mids(self) -> list[str | None]:
        return [m.mid for m in self.desc.media]


def _first_attribute(sdp: str, name: str) -> str | None:
    prefix = f"a={name}:"
    for line in sdp.splitlines():
        line = line.strip()
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    return None


def _role(signal: Description) -> str:
    if signal.type in ("offer", "answer"):
        return signal.type
    if signal.type == "pranswer":
        return "answer"
    # RFC 8842 §5.2: the offerer says actpass, the answerer active or passive
    return "offer" if "a=setup:actpass" in signal.sdp else "answer"


def build_app_model(signals: list[AppSignal], model: SignalingModel) -> SignalingModel:
    """Offers and answers paired into calls; trickled candidates added to their m-lines."""
    described: list[_Described] = []
    waiting: list[AppSignal] = []
    for item in signals:
        signal = item.signal
        if isinstance(signal, Description):
            _describe(item, signal, described, model)
        elif not _trickle(item, signal, described, model, final=False):
            waiting.append(item)
    for item in waiting:
        assert isinstance(item.signal, TrickledCandidate)
        _trickle(item, item.signal, described, model, final=True)
    for answer in (d for d in described if d.role == "answer" and not d.elsewhere):
        offer = _offer_for(answer, described)
        if offer is None:
            model.problems.append(f"{answer.ref}: an answer (ufrag {answer.ufrag}) with no offer seen before it")
            continue
        offer.answered = True
        call = _call_of(offer, model)
        call.exchanges.append(
            SdpExchange(
                role="answer",
                agent=f"callee:{answer.ufrag}",
                sip_method=None,
                sip_status=None,
                bodies=[answer.desc],
                source=answer.ref,
            )
        )
        call.events += answer.events
        call.events.sort(key=lambda e: (e[0].time or 0.0, e[0].position))
    for offer in (d for d in described if d.role == "offer" and not d.elsewhere):
        _call_of(offer, model)
    for d in described:
        if any(c.grammar for m in d.desc.media for c in m.candidates) and d.desc.grammar == "none":
            d.desc.grammar = "rfc5245"  # candidates trickled after the description was read
    return model


def _call_of(offer: _Described, model: SignalingModel) -> Call:
    call_id = f"webrtc:{offer.ufrag}"
    for call in model.calls:
        if call.call_id == call_id:
            return call
    call = Call(
        call_id=call_id,
        exchanges=[
            SdpExchange(
                role="offer", agent="caller", sip_method=None, sip_status=None, bodies=[offer.desc], source=offer.ref
            )
        ],
        events=list(offer.events),
    )
    model.calls.append(call)
    return call


def _offer_for(answer: _Described, described: list[_Described]) -> _Described | None:
    # one agent's own record (a getStats export) may list its answer before the offer it answered
    offers = [d for d in described if d.role == "offer" and d.order < answer.order] or [
        d for d in described if d.role == "offer"
    ]
    for wanted in (lambda o: not o.answered and o.mids == answer.mids, lambda o: not o.answered, lambda o: True):
        found = [o for o in offers if wanted(o)]
        if found:
            return found[-1]
    return None


def _describe(item: AppSignal, signal: Description, described: list[_Described], model: SignalingModel) -> None:
    ufrag = _first_attribute(signal.sdp, "ice-ufrag")
    fingerprint = _first_attribute(signal.sdp, "fingerprint")
    if ufrag is None and fingerprint is None:
        return  # no ICE in it
    desc = parse_sdp(signal.sdp, item.ref)
    model.problems.extend(f"{item.ref}: {p}" for p in desc.problems)
    same = next((d for d in described if (d.ufrag, d.fingerprint) == (ufrag, fingerprint)), None)
    known = _known_description(model, ufrag, fingerprint) if same is None else None
    if known is not None:
        # read before from another source (the capture, when a dump is given too): candidates join it
        _merge(known, desc)
        same = _Described(ufrag, fingerprint, _role(signal), known, item.ref, len(described), elsewhere=True)
        described.append(same)
    elif same is None:
        role = _role(signal)
        same = _Described(ufrag, fingerprint, role, desc, item.ref, len(described))
        same.events.append((item.ref, f"{role} (ufrag {ufrag})"))
        described.append(same)
    else:
        _merge(same.desc, desc)
    (same.authors if item.upstream else same.readers).add(item.client)


def _candidate_ufrag(signal: TrickledCandidate) -> str | None:
    if signal.ufrag:
        return signal.ufrag
    tokens = signal.line.split()
    for name, value in zip(tokens[8::2], tokens[9::2], strict=False):
        if name == "ufrag":
            return value
    return None


def _owner(item: AppSignal, signal: TrickledCandidate, described: list[_Described], final: bool) -> _Described | None:
    time = item.ref.time or 0.0
    ufrag = _candidate_ufrag(signal)
    if ufrag is not None:
        named = [d for d in described if d.ufrag == ufrag]
        if named:
            return named[-1]
    if item.upstream:
        mine = [d for d in described if item.client in d.authors]
    else:
        mine = [d for d in described if item.client in d.readers]
    before = [d for d in mine if (d.ref.time or 0.0) <= time]
    if before:
        return before[-1]
    return mine[0] if final and mine else None


def _trickle(
    item: AppSignal, signal: TrickledCandidate, described: list[_Described], model: SignalingModel, final: bool
) -> bool:
    owner = _owner(item, signal, described, final)
    if owner is None:
        if final:
            model.problems.append(f"{item.ref}: a trickled candidate no description seen claims: {signal.line[:60]!r}")
        return False
    media = owner.desc.media
    if not media:
        return True
    index = next((m.index for m in media if signal.mid is not None and m.mid == signal.mid), None)
    if index is None:
        index = signal.mline_index if signal.mline_index is not None and signal.mline_index < len(media) else 0
    target = media[index]
    if target.bundled_with is not None and target.bundled_with < len(media):
        target = media[target.bundled_with]  # RFC 8843: one transport for the whole bundle
    if not signal.line:
        owner.events.append((item.ref, f"end-of-candidates (mid {signal.mid}, ufrag {owner.ufrag})"))
        return True
    try:
        candidate = parse_candidate_line(signal.line, item.ref)
    except CandidateSyntaxError as exc:
        model.problems.append(f"{item.ref}: bad trickled candidate: {exc}")
        return True
    if all(
        (c.address, c.transport, c.component) != (candidate.address, candidate.transport, candidate.component)
        for c in target.candidates
    ):
        target.candidates.append(candidate)
    return True


def _identity(desc: SessionDescription) -> tuple[str | None, str | None]:
    ufrag = next((m.ice_ufrag for m in desc.media if m.ice_ufrag), None)
    fingerprint = next((v.strip() for m in desc.media for n, v in m.attributes if n == "fingerprint"), None)
    return ufrag, fingerprint


def _known_description(model: SignalingModel, ufrag: str | None, fingerprint: str | None) -> SessionDescription | None:
    if ufrag is None:
        return None
    for call in model.calls:
        for exchange in call.exchanges:
            for body in exchange.bodies:
                known_ufrag, known_fingerprint = _identity(body)
                if known_ufrag == ufrag and not (
                    fingerprint and known_fingerprint and known_fingerprint != fingerprint
                ):
                    return body
    return None


def merge_known_description(model: SignalingModel, desc: SessionDescription, text: str) -> bool:
    """Add a description's candidates to the same description (ufrag and fingerprint) already in the
    model; False when the model holds no such description."""
    known = _known_description(model, _first_attribute(text, "ice-ufrag"), _first_attribute(text, "fingerprint"))
    if known is None:
        return False
    _merge(known, desc)
    return True


def _merge(old_desc: SessionDescription, new_desc: SessionDescription) -> None:
    for old, new in zip(old_desc.media, new_desc.media, strict=False):
        known = {(c.address, c.transport, c.component) for c in old.candidates}
        old.candidates += [c for c in new.candidates if (c.address, c.transport, c.component) not in known]
