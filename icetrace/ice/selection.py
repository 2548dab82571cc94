"""Selection: each pair's state, and per component the pair the capture shows in use, by the
strongest evidence it holds (RFC 8445 §8.1.1, then media, renomination and the updated offer)."""

from __future__ import annotations

from dataclasses import dataclass

from icetrace.ice.model import Component, Pair, Stream
from icetrace.ice.reconstruction import Check, ChecksByPair
from icetrace.ice.sessions import Session
from icetrace.ice.transactions import Transaction
from icetrace.records.endpoint import Endpoint
from icetrace.records.media_flow import MediaFlow
from icetrace.records.vocabulary import PairState, SelectedBecause, StreamOutcome


def pair_state(pair: Pair) -> PairState:
    """Succeeded once a check did; failed when every check did, or when the network refused one
    (ICMP unreachable quoting it) and none since got an answer: checks still open when the capture
    ended go the same closed path."""
    outcomes = pair.outcomes
    if "success" in outcomes:
        return "succeeded"
    failing = ("error", "integrity-failure", "timeout", "icmp-error")
    if outcomes and all(o in failing for o in outcomes):
        return "failed"
    if "icmp-error" in outcomes and all(o in (*failing, "unanswered") for o in outcomes):
        return "failed"
    if pair.nominated_by == "final-offer" and not outcomes:
        return "succeeded"  # the controlling agent only offers pairs it validated
    return "in-progress"


def select_components(session: Session, media: MediaIndex, checks_by_pair: ChecksByPair) -> list[Component]:
    """The pairs by component, highest priority first, each component with its selected pair."""
    stream = session.stream
    by_component: dict[int | None, Component] = {}
    for pair in sorted(session.pairs.values(), key=lambda p: -(p.priority or 0)):
        by_component.setdefault(pair.component, Component(component=pair.component)).pairs.append(pair)
    components = sorted(by_component.values(), key=lambda c: c.component or 0)
    controlling = stream.controlling.name if stream.controlling else None
    for component in components:
        evidence = [_Evidence.of(p, checks_by_pair.get(id(p), []), controlling, media) for p in component.pairs]
        chosen = select(evidence)
        if chosen is not None:
            component.selected = chosen.pair
            chosen.pair.selected_because = chosen.because
            component.selected_by = "media" if chosen.because == "media-only" else chosen.pair.nominated_by
    return components


def stream_outcome(stream: Stream, pairs: list[Pair]) -> StreamOutcome:
    if stream.components and all(c.selected is not None for c in stream.components if c.component in (1, None)):
        return "connected" if any(c.selected for c in stream.components) else "unknown"
    if pairs and all(p.state == "failed" for p in pairs):
        return "failed"
    return "unknown"


# -- what the capture shows of each pair -------------------------------------------------

MEDIA_KINDS = frozenset(("rtp", "rtcp", "dtls", "zrtp", "data", "channeldata", "turn-data"))
"""What proves a pair carried the call (RFC 7983 demultiplexing): SRTP/SRTCP and RTP/RTCP by their
first byte, DTLS records (the DTLS-SRTP handshake, SCTP data channels over DTLS), ZRTP, other
application data on an ICE 5-tuple, and ChannelData that did not carry STUN."""


class MediaIndex:
    """Media flows by the addresses they leave from, so each pair finds its own without a scan."""

    def __init__(self, flows: list[MediaFlow]) -> None:
        self.by_src: dict[Endpoint, list[MediaFlow]] = {}
        for f in flows:
            self.by_src.setdefault(f.src, []).append(f)

    def on(self, pair: Pair) -> list[MediaFlow]:
        """Flows between the pair's two candidates, either way round (a srflx one also from its base)."""
        a, b = pair.controlling.wire_addresses, pair.controlled.wire_addresses  # built once, not per flow
        return [
            f
            for src in a | b
            for f in self.by_src.get(src, ())
            if (f.src in a and f.dst in b) or (f.src in b and f.dst in a)
        ]


def pair_checks(
    checks: list[Check],
) -> ChecksByPair:
    out: ChecksByPair = {}
    for check in checks:
        if check.pair is not None:
            out.setdefault(id(check.pair), []).append((check.transaction, check.sender))
    return out


@dataclass
class _Evidence:
    """What the capture shows a pair was used for, in time: successes, nominations, media."""

    pair: Pair
    successes: list[float]  # times its checks (either agent's) succeeded
    nominations: list[tuple[float, int]]  # (time the nominating check succeeded, NOMINATION value or -1)
    controlling_successes: list[float]  # times the controlling agent's checks on it succeeded
    media_last: float | None  # last media packet on it after its first success

    @classmethod
    def of(
        cls, pair: Pair, checks: list[tuple[Transaction, str | None]], controlling: str | None, media: MediaIndex
    ) -> _Evidence:
        successes: list[float] = []
        nominations: list[tuple[float, int]] = []
        from_controlling: list[float] = []
        for t, sender in checks:
            if t.outcome != "success" or t.response is None:
                continue
            when = t.response.time
            successes.append(when)
            req = t.request
            if req.ice_role == "controlling" or (req.ice_role is None and sender == controlling):
                from_controlling.append(when)
                if req.use_candidate or req.nomination is not None:
                    nominations.append((when, req.nomination if req.nomination is not None else -1))
        first = min(successes) if successes else None
        after = -1.0 if first is None and pair.in_final_offer else first
        media_last = None
        if after is not None:
            times = [f.last_time for f in media.on(pair) if f.kind in MEDIA_KINDS and f.last_time >= after]
            media_last = max(times) if times else None
        return cls(pair, sorted(successes), sorted(nominations), sorted(from_controlling), media_last)

    @property
    def kept_after_nomination(self) -> bool:
        """The controlling agent checked it again after it was nominated: re-nominations (some agents
        send USE-CANDIDATE on every check of the pair in use) or consent checks (RFC 7675)."""
        if not self.nominations:
            return False
        nominated_at = self.nominations[0][0]
        return any(t > nominated_at for t in self.controlling_successes)


@dataclass
class Selection:
    pair: Pair
    because: SelectedBecause


def select(evidence: list[_Evidence]) -> Selection | None:
    """The pair a component ended up using, by the strongest evidence the capture holds.

    RFC 8445 §8.1.1 selects the highest-priority nominated pair. A capture shows more than the
    nomination: in order, (1) a nominated pair that then carried media is the one in use;
    (2) with renomination the highest NOMINATION value wins, and a nominated pair the controlling
    agent kept checking after the other nominated pairs fell silent overrides those stale ones;
    (3) the controlling agent's updated offer names the selection (RFC 5245 §9.1.2.2);
    (4) otherwise the RFC rule. Without any nomination, (5) a succeeded pair that then carried
    media is selected: the capture may have ended, or started, before the nomination.
    """
    nominated = [e for e in evidence if e.pair.nominated and e.pair.state == "succeeded"]
    if nominated:
        return _among_nominated(nominated)
    carried = [e for e in evidence if e.pair.state == "succeeded" and e.media_last is not None]
    if carried:
        best = max(carried, key=lambda e: (e.media_last or 0.0, e.pair.priority or -1))
        return Selection(best.pair, "media-only")
    return None


def _among_nominated(nominated: list[_Evidence]) -> Selection:
    """Rules (1)-(4) of `select`, over the succeeded nominated pairs."""
    with_media = [e for e in nominated if e.media_last is not None]
    if with_media:
        best = max(with_media, key=lambda e: (e.media_last or 0.0, e.pair.priority or -1))
        return Selection(best.pair, "nominated+media")
    renominated = [e for e in nominated if any(value >= 0 for _, value in e.nominations)]
    if renominated:
        best = max(renominated, key=lambda e: max(value for _, value in e.nominations))
        return Selection(best.pair, "nominated-latest")
    kept = _kept_after_the_others(nominated)
    if kept is not None:
        return Selection(kept.pair, "nominated-latest")
    offered = [e for e in nominated if e.pair.in_final_offer]
    if offered:
        return Selection(max(offered, key=_rfc_order).pair, "final-offer")
    return Selection(max(nominated, key=_rfc_order).pair, "nominated")


def _kept_after_the_others(nominated: list[_Evidence]) -> _Evidence | None:
    """The nominated pair the controlling agent kept checking after every other one fell silent."""
    kept = [e for e in nominated if e.kept_after_nomination]
    if not kept or len(nominated) < 2:
        return None
    best = max(kept, key=lambda e: e.controlling_successes[-1])
    last_other = max((_last_activity(e) for e in nominated if e is not best), default=None)
    if last_other is None or best.controlling_successes[-1] > last_other:
        return best
    return None


def _last_activity(e: _Evidence) -> float:
    return e.successes[-1] if e.successes else -1.0


def _rfc_order(e: _Evidence) -> tuple[int, int]:
    return (e.pair.priority or -1, e.pair.nomination_frame or 0)
