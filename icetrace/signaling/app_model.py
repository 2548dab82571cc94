"""Application signals -> calls: offers and answers paired, trickled candidates added to their m-lines.

A description is known by its ICE ufrag and DTLS fingerprint, so the copy the caller posts, the
copy the callee polls and any later full copy are one description. An answer belongs to the latest
unanswered offer before it with the same m-line mids (its ufrag and fingerprint are the answerer's,
so nothing in it names the offer). A candidate joins the description its usernameFragment (or
`ufrag` extension) names; without one, the side it travelled on decides: a candidate a client
sends is its own, one a client receives is its peer's. A trickled candidate keeps the frame and
time it crossed the wire (RFC 8838).

Every lookup is indexed (descriptions by identity and ufrag, each client's descriptions by time,
offers waiting for an answer, candidates already on an m-line, calls by id): a message with
thousands of candidates or a dump with thousands of descriptions costs time in proportion.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from icetrace.signaling.app_payload import Description, TrickledCandidate
from icetrace.signaling.app_signaling import AppSignal
from icetrace.signaling.candidate import CandidateSyntaxError, parse_candidate_line
from icetrace.signaling.model import (
    Call,
    Candidate,
    MediaStream,
    SdpExchange,
    SessionDescription,
    SignalingModel,
    SourceRef,
)
from icetrace.signaling.sdp import parse_sdp

_Placed = tuple[int, SessionDescription]  # a body with its place in the model
CandidateKey = tuple[object, str, int]  # (address, transport, component): one candidate per key on an m-line


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
    _by_mid: dict[str, int] | None = None

    @property
    def mids(self) -> list[str | None]:
        return [m.mid for m in self.desc.media]

    @property
    def time(self) -> float:
        return self.ref.time or 0.0

    def media_of(self, mid: str) -> int | None:
        if self._by_mid is None:
            self._by_mid = {}
            for m in self.desc.media:
                if m.mid is not None:
                    self._by_mid.setdefault(m.mid, m.index)
        return self._by_mid.get(mid)


class _LatestBefore:
    """Descriptions placed by their order, each with its time: the one of highest order whose time is
    at most t, in O(log n) (a segment tree of the least time under each node)."""

    def __init__(self) -> None:
        self.size = 1
        self.least = [math.inf, math.inf]
        self.items: dict[int, _Described] = {}
        self.lowest: _Described | None = None

    def add(self, d: _Described) -> None:
        if d.order in self.items:
            return
        self.items[d.order] = d
        if self.lowest is None or d.order < self.lowest.order:
            self.lowest = d
        if d.order >= self.size:
            while d.order >= self.size:
                self.size *= 2
            self.least = [math.inf] * (2 * self.size)
            for item in self.items.values():
                self._set(item)
        else:
            self._set(d)

    def _set(self, d: _Described) -> None:
        node = self.size + d.order
        self.least[node] = d.time
        node //= 2
        while node:
            self.least[node] = min(self.least[2 * node], self.least[2 * node + 1])
            node //= 2

    def latest(self, time: float) -> _Described | None:
        if self.least[1] > time:
            return None
        node = 1
        while node < self.size:
            node = 2 * node + 1 if self.least[2 * node + 1] <= time else 2 * node
        return self.items[node - self.size]


class _Offers:
    """Offers in order; for an answer, the latest one before it that is still unanswered (a union-find
    over the positions skips the answered ones, so each is passed over once)."""

    def __init__(self) -> None:
        self.offers: list[_Described] = []
        self.orders: list[int] = []
        self.left: list[int] = []  # position -> itself while unanswered, else the position left of it

    def add(self, d: _Described) -> None:
        self.left.append(len(self.offers))
        self.offers.append(d)
        self.orders.append(d.order)

    def before(self, order: int | None) -> int:
        """How many offers come before `order` (all of them for None)."""
        return len(self.offers) if order is None else bisect.bisect_left(self.orders, order)

    def latest_unanswered(self, count: int) -> _Described | None:
        at = self._find(count - 1)
        return self.offers[at] if at >= 0 else None

    def answered(self, d: _Described) -> None:
        at = bisect.bisect_left(self.orders, d.order)
        if at < len(self.orders) and self.offers[at] is d:
            self.left[at] = at - 1

    def _find(self, at: int) -> int:
        root = at
        while root >= 0 and self.left[root] != root:
            root = self.left[root]
        while at >= 0 and self.left[at] != at:  # path compression
            self.left[at], at = root, self.left[at]
        return root


class _AppModel:
    """The state of one build_app_model: the descriptions so far and the indexes over them."""

    def __init__(self, model: SignalingModel) -> None:
        self.model = model
        self.described: list[_Described] = []
        self.by_identity: dict[tuple[str | None, str | None], _Described] = {}
        self.by_ufrag: dict[str, _Described] = {}  # the latest description with the ufrag
        self.sent: dict[str, _LatestBefore] = {}  # client -> descriptions it sent
        self.received: dict[str, _LatestBefore] = {}  # client -> descriptions it received
        self.offers = _Offers()
        self.offers_by_mids: dict[tuple[str | None, ...], _Offers] = {}
        self.calls: dict[str, Call] = {}
        for call in model.calls:
            self.calls.setdefault(call.call_id, call)
        self.keys: dict[int, set[CandidateKey]] = {}  # id(MediaStream) -> its candidates' keys
        self.known = _KnownBodies(model)

    # -- descriptions ------------------------------------------------------------------------------

    def describe(self, item: AppSignal, signal: Description) -> None:
        ufrag = _first_attribute(signal.sdp, "ice-ufrag")
        fingerprint = _first_attribute(signal.sdp, "fingerprint")
        if ufrag is None and fingerprint is None:
            return  # no ICE in it
        desc = parse_sdp(signal.sdp, item.ref)
        self.model.problems.extend(f"{item.ref}: {p}" for p in desc.problems)
        same = self.by_identity.get((ufrag, fingerprint))
        known = self.known.find(ufrag, fingerprint) if same is None else None
        if known is not None:
            # read before from another source (the capture, when a dump is given too): candidates join it
            self.merge(known, desc)
            same = self._add(_Described(ufrag, fingerprint, _role(signal), known, item.ref, 0, elsewhere=True))
        elif same is None:
            role = _role(signal)
            same = self._add(_Described(ufrag, fingerprint, role, desc, item.ref, 0))
            same.events.append((item.ref, f"{role} (ufrag {ufrag})"))
        else:
            self.merge(same.desc, desc)
        (same.authors if item.upstream else same.readers).add(item.client)
        (self.sent if item.upstream else self.received).setdefault(item.client, _LatestBefore()).add(same)

    def _add(self, d: _Described) -> _Described:
        d.order = len(self.described)
        self.described.append(d)
        self.by_identity.setdefault((d.ufrag, d.fingerprint), d)
        if d.ufrag is not None:
            self.by_ufrag[d.ufrag] = d
        if d.role == "offer":
            self.offers.add(d)
            self.offers_by_mids.setdefault(tuple(d.mids), _Offers()).add(d)
        return d

    def merge(self, old_desc: SessionDescription, new_desc: SessionDescription) -> None:
        _merge(old_desc, new_desc, self.keys)

    # -- trickled candidates -----------------------------------------------------------------------

    def owner(self, item: AppSignal, signal: TrickledCandidate, final: bool) -> _Described | None:
        ufrag = _candidate_ufrag(signal)
        if ufrag is not None and ufrag in self.by_ufrag:
            return self.by_ufrag[ufrag]
        mine = (self.sent if item.upstream else self.received).get(item.client)
        if mine is None:
            return None
        found = mine.latest(item.ref.time or 0.0)
        return found if found is not None or not final else mine.lowest

    def trickle(self, item: AppSignal, signal: TrickledCandidate, final: bool) -> bool:
        owner = self.owner(item, signal, final)
        if owner is None:
            if final:
                self.model.problems.append(
                    f"{item.ref}: a trickled candidate no description seen claims: {signal.line[:60]!r}"
                )
            return False
        media = owner.desc.media
        if not media:
            return True
        index = owner.media_of(signal.mid) if signal.mid is not None else None
        if index is None:
            wanted = signal.mline_index
            index = wanted if wanted is not None and 0 <= wanted < len(media) else 0
        target = media[index]
        if target.bundled_with is not None and target.bundled_with < len(media):
            target = media[target.bundled_with]  # RFC 8843: one transport for the whole bundle
        if not signal.line:
            owner.events.append((item.ref, f"end-of-candidates (mid {signal.mid}, ufrag {owner.ufrag})"))
            return True
        try:
            candidate = parse_candidate_line(signal.line, item.ref)
        except CandidateSyntaxError as exc:
            self.model.problems.append(f"{item.ref}: bad trickled candidate: {exc}")
            return True
        keys = _keys(target, self.keys)
        if _key(candidate) not in keys:
            keys.add(_key(candidate))
            target.candidates.append(candidate)
        return True

    # -- calls ---------------------------------------------------------------------------------------

    def offer_for(self, answer: _Described) -> _Described | None:
        # one agent's own record (a getStats export) may list its answer before the offer it answered
        count = self.offers.before(answer.order) or self.offers.before(None)
        if not count:
            return None
        same_mids = self.offers_by_mids.get(tuple(answer.mids))
        if same_mids is not None:
            limit = same_mids.before(answer.order if self.offers.before(answer.order) else None)
            found = same_mids.latest_unanswered(limit)
            if found is not None:
                return found
        return self.offers.latest_unanswered(count) or self.offers.offers[count - 1]

    def answered(self, offer: _Described) -> None:
        offer.answered = True
        self.offers.answered(offer)
        self.offers_by_mids[tuple(offer.mids)].answered(offer)

    def call_of(self, offer: _Described) -> Call:
        call_id = f"webrtc:{offer.ufrag}"
        call = self.calls.get(call_id)
        if call is not None:
            return call
        first = SdpExchange(
            role="offer", agent="caller", sip_method=None, sip_status=None, bodies=[offer.desc], source=offer.ref
        )
        call = self.calls[call_id] = Call(call_id=call_id, exchanges=[first], events=list(offer.events))
        self.model.calls.append(call)
        return call


def build_app_model(signals: list[AppSignal], model: SignalingModel) -> SignalingModel:
    """Offers and answers paired into calls; trickled candidates added to their m-lines."""
    app = _AppModel(model)
    waiting: list[AppSignal] = []
    for item in signals:
        signal = item.signal
        if isinstance(signal, Description):
            app.describe(item, signal)
        elif not app.trickle(item, signal, final=False):
            waiting.append(item)
    for item in waiting:
        assert isinstance(item.signal, TrickledCandidate)
        app.trickle(item, item.signal, final=True)
    for answer in (d for d in app.described if d.role == "answer" and not d.elsewhere):
        offer = app.offer_for(answer)
        if offer is None:
            model.problems.append(f"{answer.ref}: an answer (ufrag {answer.ufrag}) with no offer seen before it")
            continue
        app.answered(offer)
        call = app.call_of(offer)
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
    for offer in (d for d in app.described if d.role == "offer" and not d.elsewhere):
        app.call_of(offer)
    for d in app.described:
        if any(c.grammar for m in d.desc.media for c in m.candidates) and d.desc.grammar == "none":
            d.desc.grammar = "rfc5245"  # candidates trickled after the description was read
    return model


def _key(candidate: Candidate) -> CandidateKey:
    return (candidate.address, candidate.transport, candidate.component)


def _keys(media: MediaStream, cache: dict[int, set[CandidateKey]]) -> set[CandidateKey]:
    """The keys of the m-line's candidates, kept up to date by whoever adds one through them."""
    keys = cache.get(id(media))
    if keys is None:
        keys = cache[id(media)] = {_key(c) for c in media.candidates}
    return keys


def _merge(old_desc: SessionDescription, new_desc: SessionDescription, cache: dict[int, set[CandidateKey]]) -> None:
    """The new copy's candidates that the old one lacks, added to it."""
    for old, new in zip(old_desc.media, new_desc.media, strict=False):
        keys = _keys(old, cache)
        fresh = [c for c in new.candidates if _key(c) not in keys]
        old.candidates += fresh
        keys.update(_key(c) for c in fresh)


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


def _candidate_ufrag(signal: TrickledCandidate) -> str | None:
    if signal.ufrag:
        return signal.ufrag
    tokens = signal.line.split()
    for name, value in zip(tokens[8::2], tokens[9::2], strict=False):
        if name == "ufrag":
            return value
    return None


def _identity(desc: SessionDescription) -> tuple[str | None, str | None]:
    ufrag = next((m.ice_ufrag for m in desc.media if m.ice_ufrag), None)
    fingerprint = next((v.strip() for m in desc.media for n, v in m.attributes if n == "fingerprint"), None)
    return ufrag, fingerprint


class _KnownBodies:
    """The descriptions already in the model (from SIP, --sdp files, another dump), by ufrag: the
    first one whose fingerprint does not disagree, found without a scan of every body."""

    def __init__(self, model: SignalingModel) -> None:
        # ufrag -> (its first body, {fingerprint or None: the first body with it}), each body with its place
        self.by_ufrag: dict[str, tuple[_Placed, dict[str | None, _Placed]]] = {}
        place = 0
        for call in model.calls:
            for exchange in call.exchanges:
                for body in exchange.bodies:
                    ufrag, fingerprint = _identity(body)
                    if ufrag is not None:
                        _, by_fingerprint = self.by_ufrag.setdefault(ufrag, ((place, body), {}))
                        by_fingerprint.setdefault(fingerprint or None, (place, body))
                    place += 1

    def find(self, ufrag: str | None, fingerprint: str | None) -> SessionDescription | None:
        entry = self.by_ufrag.get(ufrag) if ufrag is not None else None
        if entry is None:
            return None
        first, by_fingerprint = entry
        if not fingerprint:
            return first[1]
        # a body without a fingerprint, or with this one, does not disagree
        matches = [m for m in (by_fingerprint.get(None), by_fingerprint.get(fingerprint)) if m is not None]
        return min(matches, key=lambda m: m[0])[1] if matches else None


def merge_known_description(model: SignalingModel, desc: SessionDescription, text: str) -> bool:
    """Add a description's candidates to the same description (ufrag and fingerprint) already in the
    model; False when the model holds no such description."""
    known = _KnownBodies(model).find(_first_attribute(text, "ice-ufrag"), _first_attribute(text, "fingerprint"))
    if known is None:
        return False
    _merge(known, desc, {})
    return True
