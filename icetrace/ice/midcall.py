"""Captures that start after ICE completed: the story is what the call is doing, not how it began.

Once an agent has selected a pair it keeps checking only that pair, about every 5 s (consent
freshness, RFC 7675 §5.1: 4-6 s), and media flows on it. A capture started then holds no
gathering, no signaling and no nomination: a pair checked alone on a component, with media on it
flowing before its first check (a capture from the call's start shows checks before media) or
checks at the consent pace, is the pair in use. Calling that
"nothing was nominated" (D13) would blame the agents for what the capture missed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from icetrace.ice.carried_media import carried_by
from icetrace.ice.far_ends import looks_like_server_request
from icetrace.ice.model import Pair, Stream
from icetrace.records.endpoint import Endpoint

if TYPE_CHECKING:
    from icetrace.ice.reconstruction import Reconstruction

CONSENT_MIN_INTERVAL = 4.0  # seconds, RFC 7675 §5.1 (5 s, randomized by 0.8-1.2)


def mark_mid_call(rec: Reconstruction) -> None:
    """Streams whose capture joined after ICE completed: flagged, the pair in use selected."""
    seen = _Seen(rec)
    for stream in rec.streams:
        chosen = _pairs_in_use(seen, stream)
        if not chosen:
            continue
        stream.mid_call = True
        for component in stream.components:
            pair = chosen.get(component.component)
            if pair is not None:
                component.selected = pair
                component.selected_by = "in-use"
                pair.selected_because = "in-use"
        stream.nomination_style = "not-captured"
        stream.outcome = "connected"
        pairs = list({id(p): p for p in chosen.values()}.values())
        carried = [f for f in [*rec.media, *rec.relayed_media] if any(p.carries(f.src, f.dst) for p in pairs)]
        stream.media_flows = [f for p in pairs for f in carried_by(p, carried, rec.captures.tap)]


class _Seen:
    """What the capture shows, indexed once: who asked servers, each pair's check times by sender."""

    def __init__(self, rec: Reconstruction) -> None:
        self.rec = rec
        self.asked_servers = {t.src for t in rec.transactions if looks_like_server_request(t)}
        self.relayed = {a.relayed for a in rec.allocations if a.relayed is not None}
        self.checks: dict[int, dict[str | None, list[float]]] = {}
        for check in rec.checks:
            t, pair, sender = check.transaction, check.pair, check.sender
            if pair is not None:
                self.checks.setdefault(id(pair), {}).setdefault(sender, []).append(t.request.time)

    def check_times(self, pair: Pair) -> dict[str | None, list[float]]:
        return self.checks.get(id(pair), {})


def _pairs_in_use(seen: _Seen, stream: Stream) -> dict[int | None, Pair]:
    if stream.call_id is not None or not stream.components:
        return {}  # signaled: the call's start is in the capture (or its log)
    pairs = [p for c in stream.components for p in c.pairs]
    if any(p.nominated for p in pairs):
        return {}
    mine = _addresses(stream)
    if mine & (seen.relayed | seen.asked_servers):
        return {}  # one of its agents gathered candidates in the capture
    out: dict[int | None, Pair] = {}
    for component in stream.components:
        if len(component.pairs) != 1:
            return {}  # several pairs checked: the capture holds the checking itself
        (pair,) = component.pairs
        times = seen.check_times(pair)
        if pair.state != "succeeded" or not (_media_from_start(seen.rec, pair, times) or _consent_pace(times)):
            return {}
        out[component.component] = pair
    return out


def _addresses(stream: Stream) -> set[Endpoint]:
    agents = [a for a in (stream.controlling, stream.controlled) if a is not None]
    return {address for agent in agents for c in agent.candidates for address in c.wire_addresses}


def _media_from_start(rec: Reconstruction, pair: Pair, times: dict[str | None, list[float]]) -> bool:
    first_check = min((t for ts in times.values() for t in ts), default=None)
    flows = [f for f in rec.media if pair.carries(f.src, f.dst)]
    return first_check is not None and any(f.first_time < first_check for f in flows)


def _consent_pace(times: dict[str | None, list[float]]) -> bool:
    """An agent's successive checks on the pair at least 4 s apart: consent, not connectivity checks."""
    for sent in times.values():
        ordered = sorted(sent)
        if len(ordered) >= 2 and all(b - a >= CONSENT_MIN_INTERVAL for a, b in zip(ordered, ordered[1:])):
            return True
    return False


def consent_summary(rec: Reconstruction, stream: Stream) -> tuple[int, float | None]:
    """How many checks the stream's selected pairs carried, and their median spacing per agent."""
    selected = {id(c.selected) for c in stream.components if c.selected is not None}
    by_sender: dict[tuple[int, str | None], list[float]] = {}
    for check in rec.checks:
        t, pair, sender = check.transaction, check.pair, check.sender
        if pair is not None and id(pair) in selected:
            by_sender.setdefault((id(pair), sender), []).append(t.request.time)
    gaps: list[float] = []
    for sent in by_sender.values():
        ordered = sorted(sent)
        gaps += [b - a for a, b in zip(ordered, ordered[1:])]
    gaps.sort()
    count = sum(len(sent) for sent in by_sender.values())
    return count, (gaps[len(gaps) // 2] if gaps else None)
