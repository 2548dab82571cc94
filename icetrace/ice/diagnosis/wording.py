"""How findings name what they show: a pair in words, and the frames that prove it."""

from __future__ import annotations

from icetrace.ice.model import Pair, Stream


def cite(*groups: list[int], limit: int = 12) -> list[int]:
    """The first `limit` distinct frames of the groups, in order."""
    out = sorted({f for g in groups for f in g if f})
    return out[:limit]


def pair_text(p: Pair) -> str:
    return (
        f"{p.controlling.address} ({p.controlling.type}) <-> {p.controlled.address} ({p.controlled.type}) {p.transport}"
    )


def stream_pairs(stream: Stream) -> list[Pair]:
    return [p for c in stream.components for p in c.pairs]
