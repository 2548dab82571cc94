"""Captures that start after ICE completed: the story is what the call is doing, not how it began.

Once an agent has selected a pair it keeps checking only that pair, about every 5 s (consent
freshness, RFC 7675 §5.1: 4-6 s), and media flows on it. A capture started then holds no
gathering, no signaling and no nomination: a pair checked alone on a component, with media on it
from the capture's first moments or checks at the consent pace, is the pair in use. Calling that
"nothing was nominated" (D13) would blame the agents for what the capture missed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from icetrace.ice.far_ends import looks_like_server_request
from icetrace.ice.model import Pair, Stream
from icetrace.records.endpoint import Endpoint

if TYPE_CHECKING:
    from icetrace.ice.correlator import Reconstruction

CONSENT_MIN_INTERVAL = 4.0  # seconds, RFC 7675 §5.1 (5 s, randomized by 0.8-1.2)
MEDIA_LEAD = 1.0  # media this soon after (or before) the first check: the call was already up


def mark_mid_call(rec: Reconstruction) -> None:
    """Streams whose capture joined after ICE completed: flagged, the pair in use selected."""
    for stream in rec.streams:
        chosen = _pairs_in_use(rec, stream)
        if not chosen:
            continue
        stream.mid_call = True
        for component in stream.components:
            pair = chosen.get(component.component)
            if pair is not None:
                component.selected = pair
        stream.nomination_style = "not-captured"
        stream.outcome = "connected"
        pairs = list(chosen.values())
        stream.media_flows = [f for f in rec.media if any(p.carries(f.src, f.dst) for p in pairs)]


def _pairs_in_use(rec: Reconstruction, stream: Stream) -> dict[int | None, Pair]:
    if stream.call_id is not None or not stream.components:
        return {}  # signaled: the call's start is in the capture (or its log)
    pairs = [p for c in stream.components for p in c.pairs]
    if any(p.nominated for p in pairs) or any(c.selected for c in stream.components):
        return {}
    if _gathered(rec, stream):
        return {}
    out: dict[int | None, Pair] = {}
    for component in stream.components:
        if len(component.pairs) != 1:
            return {}  # several pairs checked: the capture holds the checking itself
        (pair,) = component.pairs
        if pair.state != "succeeded" or not (_media_from_start(rec, pair) or _consent_pace(rec, pair)):
            return {}
        out[component.component] = pair
    return out


def _addresses(stream: Stream) -> set[Endpoint]:
    return {
        a
        for agent in (stream.controlling, stream.controlled)
        if agent
        for c in agent.candidates
        for a in c.wire_addresses
    }


def _gathered(rec: Reconstruction, stream: Stream) -> bool:
    """Whether the capture shows one of the stream's agents asking a STUN/TURN server."""
    mine = _addresses(stream)
    relayed = {a.relayed for a in rec.allocations if a.relayed is not None}
    return bool(mine & relayed) or any(looks_like_server_request(t) and t.src in mine for t in rec.transactions)


def _check_times(rec: Reconstruction, pair: Pair) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for t, _stream, p, sender in rec.checks:
        if p is pair:
            out.setdefault(sender, []).append(t.request.time)
    return out


def _media_from_start(rec: Reconstruction, pair: Pair) -> bool:
    first_check = min((t for times in _check_times(rec, pair).values() for t in times), default=None)
    flows = [f for f in rec.media if pair.carries(f.src, f.dst)]
    return first_check is not None and any(f.first_time <= first_check + MEDIA_LEAD for f in flows)


def _consent_pace(rec: Reconstruction, pair: Pair) -> bool:
    """An agent's successive checks on the pair at least 4 s apart: consent, not connectivity checks."""
    for times in _check_times(rec, pair).values():
        times = sorted(times)
        if len(times) >= 2 and all(b - a >= CONSENT_MIN_INTERVAL for a, b in zip(times, times[1:])):
            return True
    return False


def consent_summary(rec: Reconstruction, stream: Stream) -> tuple[int, float | None]:
    """How many checks the stream's selected pairs carried, and their median spacing per agent."""
    gaps: list[float] = []
    count = 0
    for component in stream.components:
        if component.selected is None:
            continue
        for times in _check_times(rec, component.selected).values():
            times = sorted(times)
            count += len(times)
            gaps += [b - a for a, b in zip(times, times[1:])]
    gaps.sort()
    return count, (gaps[len(gaps) // 2] if gaps else None)
