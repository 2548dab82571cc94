"""Checks an agent stopped because it nominated another pair.

RFC 8445 §8.1.2: once a pair of a component is nominated, the agent removes the component's other
pairs from its checklist and cancels their in-progress transactions: it does not retransmit them
and does not treat the lack of a response as a failure. A capture shows such a check as one that
fell silent: its last transmission came before the nomination succeeded, and the next one its
schedule would have sent (the last gap doubled, at least the 500 ms RTO of RFC 8445 §14.3) was
due after it. A check whose schedule ran out before the nomination (Rc transmissions, or silence
past its next retransmission) timed out; one the network refused (ICMP) failed.
"""

from __future__ import annotations

from collections.abc import Iterable

from icetrace.ice.model import Pair
from icetrace.ice.reconstruction import ChecksByPair
from icetrace.ice.transactions import Transaction

RC = 7  # RFC 8489 §6.2.1: transmissions before a client gives up
RTO_MIN = 0.5  # seconds, RFC 8445 §14.3: a check's retransmission timeout is at least 500 ms


def cancel_after_nomination(pairs: Iterable[Pair], checks_by_pair: ChecksByPair, controlling: str | None) -> None:
    """Mark the unanswered checks on each component's other pairs that its nomination stopped, for
    the agents that checked no other pair of the component after it (those that went on checking
    do not cancel, and their silent checks timed out)."""
    pairs = list(pairs)
    nominated_at = _nomination_times(pairs, checks_by_pair, controlling)
    others = [p for p in pairs if not p.nominated and p.component in nominated_at]
    went_on = {
        (p.component, sender)
        for p in others
        for t, sender in checks_by_pair.get(id(p), [])
        if any(r.time > nominated_at[p.component] for r in t.requests)
    }
    for pair in others:
        at = nominated_at[pair.component]
        for t, sender in checks_by_pair.get(id(pair), []):
            if (pair.component, sender) in went_on or not t.gave_up or t.icmp or t.response is not None:
                continue
            if _stopped_by(t, at):
                t.cancelled = True
                pair.outcomes[pair.outcomes.index("timeout")] = "cancelled"  # one outcome per check


def _nomination_times(
    pairs: list[Pair], checks_by_pair: ChecksByPair, controlling: str | None
) -> dict[int | None, float]:
    """When each component's first nominating check succeeded."""
    out: dict[int | None, float] = {}
    for pair in pairs:
        for t, sender in checks_by_pair.get(id(pair), []):
            if _nominating(t, sender, controlling) and t.response is not None:
                out[pair.component] = min(out.get(pair.component, t.response.time), t.response.time)
    return out


def _nominating(t: Transaction, sender: str | None, controlling: str | None) -> bool:
    """A successful check of the controlling agent that nominates its pair (RFC 8445 §7.2.2)."""
    req = t.request
    from_controlling = req.ice_role == "controlling" or (req.ice_role is None and sender == controlling)
    return t.outcome == "success" and from_controlling and (req.use_candidate or req.nomination is not None)


def _stopped_by(t: Transaction, nominated_at: float) -> bool:
    """The check's retransmissions stopped at the nomination: the last was sent before it and the
    next was due after it."""
    times = [r.time for r in t.requests]
    if len(times) >= RC or times[-1] > nominated_at:
        return False
    gap = times[-1] - times[-2] if len(times) > 1 else 0.0
    return nominated_at < times[-1] + max(RTO_MIN, 2 * gap)
