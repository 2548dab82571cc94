"""Nomination: the controlling agent's updated offer (RFC 5245 §9.1.2.2, [MS-ICE2]), the stream's
nomination style (RFC 8445 §8.1.1, RFC 5245 §8.1.1.2 aggressive), and a capture that ends before
a nomination could show."""

from __future__ import annotations

from icetrace.ice.candidates import agent_candidate
from icetrace.ice.model import Agent, Pair, Stream
from icetrace.ice.priority import pair_priority
from icetrace.ice.reconstruction import ChecksByPair
from icetrace.ice.sessions import Session
from icetrace.ice.usernames import icev6_key
from icetrace.records.endpoint import Endpoint
from icetrace.records.vocabulary import NominationStyle
from icetrace.signaling.model import Candidate, MediaStream


def nominate_by_final_offer(session: Session, relayed: set[Endpoint], mapped: set[Endpoint]) -> None:
    """RFC 5245 §9.1.2.2 / MS-ICE2: the controlling agent's updated offer names the selected pairs."""
    signaled = session.signaled
    if signaled is None or signaled.final_offer is None:
        return
    final = signaled.final_offer
    stream = session.stream
    caller = stream.controlling if stream.controlling and stream.controlling.name == "caller" else stream.controlled
    callee = stream.controlled if caller is stream.controlling else stream.controlling
    if caller is None or callee is None:
        return
    per_component: dict[int | None, int] = {}
    for remote in final.remote_candidates:
        per_component[remote.component] = per_component.get(remote.component, 0) + 1
    if any(count > 1 and component is not None for component, count in per_component.items()):
        # RFC 5245 §15.2 names one remote candidate per component; a list of all of them
        # (seen from baresip 1.0) says nothing about the selection
        session.stream.final_offer_ignored = True
        return
    for remote in final.remote_candidates:
        if remote.address is not None:
            component = remote.component
            local_c = _default_candidate(final, component)
            if local_c is None:
                continue
            _nominate_final(session, caller, callee, local_c.address, remote.address, local_c.transport)
        else:
            # ICEv6 a=remote-candidate:<username>: every component of that candidate
            target = icev6_key(remote.username)
            for cand in callee.candidates:
                if cand.foundation == target:
                    local_c = _default_candidate(final, cand.component)
                    if local_c is not None:
                        _nominate_final(session, caller, callee, local_c.address, cand.address, local_c.transport)


def _default_candidate(media: MediaStream, component: int | None) -> Candidate | None:
    """RFC 5245 §9.1.2.2: the updated offer puts the selected local candidate in m=/c= (and a=rtcp)."""
    if component == 1 and media.connection:
        wanted: Endpoint | None = Endpoint(media.connection, media.port)
    elif component == 2 and media.rtcp is not None:
        wanted = media.rtcp
    else:
        wanted = None
    same = [c for c in media.candidates if c.component == component]
    for c in same:
        if wanted is not None and c.address == wanted:
            return c
    return same[0] if same else None


def _nominate_final(
    session: Session, caller: Agent, callee: Agent, local: Endpoint, remote: Endpoint, transport: str
) -> None:
    caller_controls = session.stream.controlling is caller
    key = (local, remote, transport) if caller_controls else (remote, local, transport)
    pair = session.pairs.get(key) or _equivalent_pair(session, caller, callee, local, remote, caller_controls)
    if pair is None:
        # checks for it were not captured (vantage point): it exists because the offer says so
        a = agent_candidate(caller, local, transport, None, 0, set(), set())
        b = agent_candidate(callee, remote, transport, None, 0, set(), set())
        controlling, controlled = (a, b) if caller_controls else (b, a)
        priority = None
        if controlling.priority is not None and controlled.priority is not None:
            priority = pair_priority(controlling.priority, controlled.priority)
        pair = Pair(
            controlling=controlling,
            controlled=controlled,
            transport=transport,
            component=controlling.component or controlled.component,
            priority=priority,
        )
        session.pairs[key] = pair
    pair.in_final_offer = True
    if not pair.nominated:
        pair.nominated = True
        pair.nominated_by = "final-offer"


def _aliases(agent: Agent, address: Endpoint) -> set[Endpoint]:
    """A candidate's address and, for a server-reflexive one, its base: a LAN capture sees the base."""
    out = {address}
    for c in agent.candidates:
        if c.address == address and c.type == "srflx" and c.related is not None:
            out.add(c.related)
    return out


def _equivalent_pair(
    session: Session, caller: Agent, callee: Agent, local: Endpoint, remote: Endpoint, caller_controls: bool
) -> Pair | None:
    """The pair the offer names, as the capture saw it: a srflx candidate is seen by its base on its
    own LAN. Of the pairs whose ends are the named candidates or their bases, the one nearest the
    names wins (both ends as named, then one), a valid pair before one that is not: a host pair
    between the two bases is another pair, the offer does not nominate it."""
    mine, theirs = _aliases(caller, local), _aliases(callee, remote)
    best: Pair | None = None
    best_rank: tuple[int, bool] | None = None
    for pair in session.pairs.values():
        a, b = (pair.controlling.address, pair.controlled.address)
        if not caller_controls:
            a, b = b, a
        if a in mine and b in theirs:
            rank = ((a == local) + (b == remote), "success" in pair.outcomes)
            if best_rank is None or rank > best_rank:
                best, best_rank = pair, rank
    if best_rank == (0, False):
        return None  # only the bases' pair, never valid: the named pair's checks were not captured
    return best


def nomination_style(session: Session) -> NominationStyle:
    """Aggressive (RFC 5245 §8.1.1.2) when the controlling agent nominated from its first check on:
    nothing it sent before its first nominating check lacked the flag. Regular (RFC 8445 §8.1.1)
    when checks without the flag came first and a nomination followed. Checks after the first
    nomination do not count: consent freshness (RFC 7675) and keepalives carry no USE-CANDIDATE,
    and an aggressive agent (aioice) sends them once the call is up."""
    checks = sorted(session.controlling_checks)
    first = next((time for time, nominates in checks if nominates), None)
    if first is not None:
        return "regular" if any(time < first for time, _ in checks) else "aggressive"
    if any(p.nominated_by == "final-offer" for p in session.pairs.values()):
        return "final-offer"
    return "none"


NOMINATION_GRACE = 10.0
"""Seconds after the last successful check within which a missing nomination may simply not have
been captured yet. RFC 8445 §8.1.1 leaves the moment to the controlling agent; in this corpus aioice
nominates at once, the Lync scenarios within 2 s, and baresip 1.0 9.4 s after its first valid pair:
an agent's habit, so the margin is wider than the slowest seen."""


def ended_early(stream: Stream, checks_by_pair: ChecksByPair, end: float) -> list[str]:
    """A vantage note when the capture stops before a nomination could be seen."""
    pairs = [p for c in stream.components for p in c.pairs]
    if not pairs or any(p.nominated for p in pairs):
        return []
    succeeded = [
        t.response.time
        for p in pairs
        for t, _ in checks_by_pair.get(id(p), [])
        if t.outcome == "success" and t.response is not None
    ]
    if not succeeded:
        return []
    first, last = min(succeeded), max(succeeded)
    if end - last > NOMINATION_GRACE:
        return []
    stream.ended_before_nomination = True
    name = f"call {stream.call_id} stream {stream.index}" if stream.call_id else "the session"
    return [
        f"{name}: the capture ends {end - first:.1f} s after the first successful check "
        f"({end - last:.1f} s after the last): a nomination sent later is not in it"
    ]
