"""One check seen at several capture points: which side of the NATs each view is on, and what the
differences between views say.

A request keeps its transaction id and USERNAME through NATs and TURN relays, so the same request
seen on other addresses is another view of one check (`transactions.merge_views`). A NAT rewrites the source of
what leaves and the destination of what comes in (RFC 4787 §4), so two views of one check name the
NAT mappings between the two capture points. Where a view was taken also decides what its timing
means: seen on the sender's side, request -> response is the round trip of the sender's check; seen
on the receiver's side, it is only the receiver's answering time, never a round trip.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from icetrace.ice.addresses import private_address
from icetrace.ice.model import NatMapping

if TYPE_CHECKING:  # transactions.py merges views with these rules
    from icetrace.ice.transactions import Transaction

SENDER, MIDDLE, RECEIVER = "sender", "middle", "receiver"
_NEARNESS = {SENDER: 0, MIDDLE: 1, RECEIVER: 2}


def side(view: Transaction) -> str:
    """Where a view was taken, from the addresses its first request had on the wire (for a relayed
    check, the client <-> TURN server leg): a private source sending to a public address is on the
    sender's LAN, a public source reaching a private address on the receiver's. Anything else is
    MIDDLE: both public (the public segment, or agents without a NAT) or both private (one LAN,
    where each agent is on the capture's side)."""
    r = view.request
    src_private, dst_private = private_address(r.src.ip), private_address(r.dst.ip)
    if src_private and not dst_private:
        return SENDER
    if dst_private and not src_private:
        return RECEIVER
    return MIDDLE


def views(t: Transaction) -> list[Transaction]:
    return [t, *t.other_views]


def nearest_first(group: list[Transaction]) -> list[Transaction]:
    """Views from the sender's end to the receiver's: by side first, since two captures' clocks need
    not agree, then by time."""
    return sorted(group, key=lambda v: (_NEARNESS[side(v)], v.request.time, v.request.frame))


def ordered(t: Transaction) -> list[Transaction]:
    return nearest_first(views(t))


def transmissions(t: Transaction) -> int:
    """How many times the sender sent the request: the most any view saw on one leg (a relayed check's
    two legs, or the same packet at two taps, are one transmission)."""
    best = 0
    for v in views(t):
        legs = Counter((r.src, r.dst) for r in v.requests)
        best = max(best, max(legs.values(), default=0))
    return best


def answer_of(t: Transaction) -> Transaction | None:
    """The view nearest the sender that saw an answer: what the sender got."""
    return next((v for v in ordered(t) if v.response is not None), None)


def round_trip_ms(t: Transaction) -> tuple[float | None, str | None]:
    """The round trip of the check as seen nearest its sender, and the side it was seen on; None
    when only the receiver's side saw the answer (that figure is `answer_ms`)."""
    for v in ordered(t):
        if side(v) != RECEIVER and v.rtt_ms is not None:
            return v.rtt_ms, side(v)
    return None, None


def answer_ms(t: Transaction) -> float | None:
    """The receiver's answering time (request in -> response out), seen on the receiver's side."""
    times = [v.rtt_ms for v in views(t) if side(v) == RECEIVER and v.rtt_ms is not None]
    return min(times) if times else None


def nat_mappings(transactions: list[Transaction]) -> list[NatMapping]:
    """Inside -> outside address pairs that one check seen at two capture points reveals: between
    neighbouring views, a changed source is the sender's NAT, a changed destination the receiver's."""
    found: dict[tuple[object, object], NatMapping] = {}
    for t in transactions:
        chain = ordered(t)
        for near, far in zip(chain, chain[1:], strict=False):
            changes = []
            if near.src != far.src:
                changes.append((near.src, far.src))  # the sender's NAT rewrote the source
            if near.dst != far.dst:
                changes.append((far.dst, near.dst))  # the receiver's NAT rewrote the destination
            for inside, outside in changes:
                if inside.port == 0 or outside.port == 0:
                    continue  # a relayed address that could not be told (its Allocate was not captured)
                mapping = found.setdefault((inside, outside), NatMapping(inside, outside))
                if len(mapping.frames) < 8:
                    mapping.frames.append(near.request.frame)
    return list(found.values())
