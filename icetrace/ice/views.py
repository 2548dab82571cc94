"""One check seen at several capture points: which side of the NATs each view is on, and what the
differences between views say.

A request keeps its transaction id and USERNAME through NATs and TURN relays, so the same request
seen on other addresses is another view of one check (`matching.merge_views`). A NAT rewrites the source of
what leaves and the destination of what comes in (RFC 4787 §4), so two views of one check name the
NAT mappings between the two capture points. Where a view was taken also decides what its timing
means: seen on the sender's side, request -> response is the round trip of the sender's check; seen
on the receiver's side, it is only the receiver's answering time, never a round trip.
"""

from __future__ import annotations

from icetrace.ice.addresses import private_address
from icetrace.ice.model import NatMapping
from icetrace.ice.transactions import MIDDLE, NEARNESS, RECEIVER, Leg, Transaction
from icetrace.records.capture_set import capture_index
from icetrace.records.endpoint import Endpoint


def legs(view: Transaction) -> list[Leg]:
    """A view's legs; an answer on no leg's reverse 5-tuple (matched by the transaction's looser
    rule) goes with the first leg, so an answered check is still timed. Several legs are worked
    out once per view: views are asked after their transactions are complete."""
    if view.legs is not None:
        return view.legs
    if _one_leg(view):  # the usual view: its own lists serve as its one leg's, nothing to remember
        return [Leg(view.requests, view.responses)]
    # two taps that saw the same 5-tuple (a gateway's own interface and its segment) saw two copies
    # of each transmission: each capture's copies are a leg of their own
    out: dict[tuple[int, Endpoint, Endpoint], Leg] = {}
    for r in view.requests:
        out.setdefault((capture_index(r.frame), r.src, r.dst), Leg([], [])).requests.append(r)
    first = next(iter(out.values()))
    for r in view.responses:
        out.get((capture_index(r.frame), r.dst, r.src), first).responses.append(r)
    for leg in out.values():
        leg.responses.sort(key=lambda r: (r.time, r.frame))
    view.legs = list(out.values())
    return view.legs


def _one_leg(view: Transaction) -> bool:
    """Every request on one 5-tuple (every answer then goes with it), answers in time order."""
    first = view.requests[0]
    src, dst, capture = first.src, first.dst, capture_index(first.frame)
    if any(r.src != src or r.dst != dst or capture_index(r.frame) != capture for r in view.requests):
        return False
    order = [(r.time, r.frame) for r in view.responses]
    return order == sorted(order)


def side(view: Transaction) -> str:
    """The side of a view: that of its leg nearest the sender."""
    return min((leg.side for leg in legs(view)), key=NEARNESS.__getitem__)


def views(t: Transaction) -> list[Transaction]:
    return [t, *t.other_views]


def nearest_first(group: list[Transaction]) -> list[Transaction]:
    """Views from the sender's end to the receiver's: by side first, since two captures' clocks need
    not agree, then by time."""
    return sorted(group, key=lambda v: (NEARNESS[side(v)], v.request.time, v.request.frame))


def ordered(t: Transaction) -> list[Transaction]:
    return nearest_first(views(t))


def one_check(a: Transaction, b: Transaction) -> bool:
    """Whether two views of one transaction id can be one check across NATs: a NAT rewrites a
    private source on the way out and rewrites the destination to a private address on the way in
    (RFC 4787 §4), so the nearer view's source, if changed, is private, and the farther view's
    destination, if changed, is private. Public-to-public translation is not told from a second path."""
    near, far = nearest_first([a, b])
    source_ok = near.src == far.src or private_address(near.src.ip)
    destination_ok = near.dst == far.dst or private_address(far.dst.ip)
    return source_ok and destination_ok


def _all_legs(t: Transaction) -> list[Leg]:
    return sorted(
        (leg for v in views(t) for leg in legs(v)),
        key=lambda leg: (NEARNESS[leg.side], leg.requests[0].time, leg.requests[0].frame),
    )


def transmissions(t: Transaction) -> int:
    """How many times the sender sent the request: the most any leg saw (a relayed check's two legs,
    or the same packet at two taps, are one transmission)."""
    return max((len(leg.requests) for leg in _all_legs(t)), default=0)


def _side_in(t: Transaction, leg: Leg) -> str:
    return RECEIVER if leg.side == MIDDLE and t.beside_receiver else leg.side


def round_trip_ms(t: Transaction) -> tuple[float | None, str | None]:
    """The round trip of the check as seen nearest its sender, and the side it was seen on; None
    when only the receiver's side saw the answer (that figure is `answer_ms`)."""
    for leg in _all_legs(t):
        rtt = leg.rtt_ms
        if _side_in(t, leg) != RECEIVER and rtt is not None:
            return rtt, leg.side
    return None, None


def answer_ms(t: Transaction) -> float | None:
    """The receiver's answering time (request in -> response out), seen on the receiver's side."""
    times = [rtt for leg in _all_legs(t) if _side_in(t, leg) == RECEIVER and (rtt := leg.rtt_ms) is not None]
    return min(times) if times else None


ANSWERED_AT_ONCE = 4.0  # one direction's round trip this many times shorter: answered at the capture point


def capture_beside(controlling_ms: float, controlled_ms: float) -> str | None:
    """Which agent a capture point between the agents (addresses do not tell) sits beside, from the
    timing of one pair's checks: there the peer's checks are answered at once, while the agent's own
    travel the whole way; None when neither direction is clearly the faster."""
    if controlling_ms * ANSWERED_AT_ONCE <= controlled_ms:
        return "controlled"
    if controlled_ms * ANSWERED_AT_ONCE <= controlling_ms:
        return "controlling"
    return None


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
                if inside.unknown or outside.unknown:
                    continue  # an address the capture never showed (its Allocate or ChannelBind was not captured)
                mapping = found.setdefault((inside, outside), NatMapping(inside, outside))
                if len(mapping.frames) < 8:
                    mapping.frames.append(near.request.frame)
    return list(found.values())
