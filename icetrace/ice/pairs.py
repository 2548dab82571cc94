"""Checks on pairs: each check placed in its session and on its pair, named as the controlling agent
sees it, and counted under the agent that sent it (RFC 8445 §6.1.2, §7.2.5, §7.3)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from icetrace.ice.candidates import agent_candidate
from icetrace.ice.far_ends import is_ice_check
from icetrace.ice.integrity import KeyContext, check_key, verify
from icetrace.ice.model import Agent, NatMapping, Pair
from icetrace.ice.priority import component_from_priority, pair_priority
from icetrace.ice.reconstruction import Check
from icetrace.ice.sessions import CheckMatcher, Session
from icetrace.ice.transactions import MIDDLE, SENDER, Transaction
from icetrace.ice.usernames import icev6_component, split_username
from icetrace.ice.views import answer_ms, capture_beside, ordered, round_trip_ms, transmissions
from icetrace.records.endpoint import Endpoint
from icetrace.records.stun_record import StunRecord


@dataclass(frozen=True)
class KnownAddresses:
    """Relayed addresses the TURN servers allocated, and addresses STUN servers saw as mapped."""

    relayed: set[Endpoint]
    mapped: set[Endpoint]


def place_check(matcher: CheckMatcher, t: Transaction, known: KnownAddresses) -> Check | None:
    """A transaction as an ICE check, placed in its session and pair; None if it is no check."""
    req = t.request
    if req.username is None or not is_ice_check(req):
        return None
    parsed = split_username(req.username)
    if parsed is None:
        return Check(transaction=t, stream=None, pair=None, sender=None)
    form, recv_key, send_key = parsed
    session = matcher.session_for(t, form, recv_key, send_key)
    sender = session.agent_by_key(send_key, form)
    receiver = session.agent_by_key(recv_key, form)
    if sender is None or receiver is None:
        return Check(transaction=t, stream=session.stream, pair=None, sender=None)
    _learn_role(session, sender, receiver, req)
    pair = _pair_for(session, t, sender, receiver, known.relayed, known.mapped)
    t.bad_answer = _answer_fails_integrity(t, KeyContext(form, req.dialect, receiver, recv_key))
    _account(session, pair, t, sender, receiver)
    return Check(transaction=t, stream=session.stream, pair=pair, sender=sender.name)


def _answer_fails_integrity(t: Transaction, ctx: KeyContext) -> bool:
    """A success answer signed with something other than the receiver's signaled password (RFC 8445
    §7.2.5.2, RFC 8489 §9.1.4: discarded as if never received). Unsigned or unverifiable: not failed."""
    response = t.response
    if response is None or response.cls != "success":
        return False
    return verify(response, check_key(ctx)) == "bad"


def key_contexts(
    checks: list[Check],
) -> Iterable[tuple[Transaction, KeyContext | None]]:
    """Each check with what its MESSAGE-INTEGRITY key derives from: the agent receiving it."""
    for check in checks:
        t, stream, sender = check.transaction, check.stream, check.sender
        parsed = split_username(t.request.username or b"")
        agents = [a for a in (stream.controlling, stream.controlled) if a is not None] if stream else []
        receivers = [a for a in agents if a.name != sender]
        if parsed is None or sender is None or len(receivers) != 1:
            yield t, None
            continue
        form, recv_key, _send_key = parsed
        yield t, KeyContext(form, t.request.dialect, receivers[0], recv_key)


def _sender_controls(session: Session, sender: Agent, receiver: Agent) -> bool:
    """Whether a check went from the controlling side. With no role known for either agent
    ([MS-ICE] checks carry no ICE-CONTROLLING/CONTROLLED) the stream's first agent is taken as
    the controlling side, so checks both ways on one path land on one pair."""
    if sender.role is None and receiver.role is None:
        return sender is session.stream.controlling
    return sender.role != "controlled"


def _learn_role(session: Session, sender: Agent, receiver: Agent, req: StunRecord) -> None:
    if req.ice_role is None:
        return
    if sender.role != req.ice_role:
        # the wire wins over the signaling (ice-lite, or a 487 role switch)
        switched = sender.role is not None and receiver.role is not None
        sender.role = req.ice_role
        receiver.role = "controlled" if req.ice_role == "controlling" else "controlling"
        if switched:
            _reorient_pairs(session)
    if req.tie_breaker is not None:
        sender.tie_breaker = req.tie_breaker
    stream = session.stream
    if sender.role == "controlling" and stream.controlling is not sender:
        stream.controlling, stream.controlled = sender, receiver


def _reorient_pairs(session: Session) -> None:
    """After a role switch (RFC 8445 §7.2.5.1: the agent that got a 487 changes role and recomputes
    pair priorities) the pairs checked so far are named the new way round, so the checks before
    and after the switch land on one pair. Counters follow their agent."""
    pairs: dict[tuple[Endpoint, Endpoint, str], Pair] = {}
    for pair in session.pairs.values():
        flipped_key = (pair.controlled.address, pair.controlling.address, pair.transport)
        if flipped_key in session.pairs or flipped_key in pairs:
            pairs[pair.key] = pair  # both orientations exist already: leave them as they are
            continue
        pair.swap_sides()
        if pair.priority is not None:
            pair.priority = pair_priority(pair.controlling.priority or 0, pair.controlled.priority or 0)
        pairs[pair.key] = pair
    session.pairs = pairs


def _pair_for(
    session: Session,
    t: Transaction,
    sender: Agent,
    receiver: Agent,
    relayed_addresses: set[Endpoint],
    mapped_addresses: set[Endpoint],
) -> Pair:
    """The pair a check belongs to, named as the controlling agent sees it: its own address (before
    its NAT) and the address it sends to (before the peer's NAT rewrites it). Of several views of
    the check, the one nearest the controlling agent gives the names, so both agents' checks on
    one pair land on one row whichever capture points saw them."""
    req = t.request
    sender_is_controlling = _sender_controls(session, sender, receiver)
    chain = ordered(t)
    view = chain[0] if sender_is_controlling else chain[-1]
    transport = "udp" if view.relayed else req.transport
    local = agent_candidate(sender, view.src, transport, req.priority, req.frame, relayed_addresses, mapped_addresses)
    # the component the sender signaled for its candidate; else the one its check's PRIORITY encodes
    # (RFC 8445 §5.1.2.1: low byte 256 - component id), read the same way on both agents' checks;
    # else the one an [MS-ICE] binary USERNAME names
    encoded = component_from_priority(req.priority) if req.priority else None
    component = local.component if local.origin == "sdp" and local.component else encoded or local.component
    remote = agent_candidate(
        receiver, view.dst, transport, None, req.frame, relayed_addresses, mapped_addresses, component
    )
    component = component or remote.component
    if component is None and req.username is not None:
        component = icev6_component(req.username)
    controlling, controlled = (local, remote) if sender_is_controlling else (remote, local)
    key = (controlling.address, controlled.address, transport)
    pair = session.pairs.get(key)
    if pair is None:
        priority = None
        # only signaled priorities: a check's PRIORITY is what a prflx candidate would get
        if controlling.origin == controlled.origin == "sdp":
            priority = pair_priority(controlling.priority or 0, controlled.priority or 0)
        pair = Pair(
            controlling=controlling,
            controlled=controlled,
            transport=transport,
            component=component,
            priority=priority,
            relayed=view.relayed,
        )
        session.pairs[key] = pair
    elif pair.component is None:
        pair.component = component
    # RFC 8838: checked before a trickled candidate arrived, the pair stood on a peer-reflexive one
    late = [c.signaled_at for c in (local, remote) if c.signaled_at is not None and c.signaled_at > req.time]
    if late:
        pair.prflx_until = max([*late, pair.prflx_until or 0.0])
    return pair


def _account(session: Session, pair: Pair, t: Transaction, sender: Agent, receiver: Agent) -> None:
    """Add one check to its pair, counted once however many capture points saw it, under the agent
    that sent it."""
    from_controlling = _sender_controls(session, sender, receiver)
    me = "controlling" if from_controlling else "controlled"
    peer = "controlled" if from_controlling else "controlling"
    pair.frames.extend(r.frame for r in t.requests + t.responses)
    first, last = t.request.time, (t.response or t.requests[-1]).time
    pair.first_check = first if pair.first_check is None else min(pair.first_check, first)
    pair.last_check = last if pair.last_check is None else max(pair.last_check, last)
    _add(pair, f"checks_from_{me}", 1)
    _add(pair, f"requests_by_{me}", transmissions(t))
    nominates = t.request.use_candidate or t.request.nomination is not None
    if from_controlling:
        session.controlling_checks.append((t.request.time, nominates))
    if t.response is not None:
        _add(pair, f"answers_to_{me}", 1)
        if t.response.cls == "error":
            _add(pair, f"errors_to_{me}", 1)
    rtt, where = round_trip_ms(t)
    if rtt is not None and where is not None:
        # a figure from the sender's own side beats one from between the agents
        held, held_side = getattr(pair, f"rtt_ms_{me}"), getattr(pair, f"rtt_side_{me}")
        if held is None or (where == SENDER and held_side != SENDER) or (where == held_side and rtt < held):
            setattr(pair, f"rtt_ms_{me}", rtt)
            setattr(pair, f"rtt_side_{me}", where)
    answered_in = answer_ms(t)
    if answered_in is not None:
        held = getattr(pair, f"answer_ms_{peer}")
        setattr(pair, f"answer_ms_{peer}", answered_in if held is None else min(held, answered_in))
    outcome = t.outcome
    if outcome == "success":
        setattr(pair, f"succeeded_from_{me}", True)
    elif outcome == "error" and t.response is not None and t.response.error_code is not None:
        pair.errors.append(t.response.error_code)
    pair.icmp.extend(t.icmp)
    if from_controlling and nominates:
        # RFC 8445 §7.2.5.3.4 / §8.1.1: nominated once a check carrying USE-CANDIDATE succeeds
        if outcome == "success" and not pair.nominated:
            pair.nominated = True
            pair.nominated_by = "nomination" if t.request.nomination is not None else "use-candidate"
            pair.nomination_frame = t.response.frame if t.response else None
    pair.outcomes.append(outcome)


def vantage_from_timing(checks: list[Check]) -> None:
    """Where both agents' round trips on a pair were seen between them (public addresses both ways: a
    public tap, or agents without NAT), the addresses do not say whose side the capture is on; the
    timing does when one direction comes back several times faster: those checks were answered at
    the capture point, so their figure is the answering agent's, not a round trip."""
    by_pair: dict[int, list[tuple[Transaction, str]]] = {}
    pairs: dict[int, Pair] = {}
    for check in checks:
        t, stream, pair, sender = check.transaction, check.stream, check.pair, check.sender
        if pair is not None and stream is not None:
            role = (
                "controlling" if stream.controlling is not None and stream.controlling.name == sender else "controlled"
            )
            by_pair.setdefault(id(pair), []).append((t, role))
            pairs[id(pair)] = pair
    for key, pair in pairs.items():
        a, b = pair.rtt_ms_controlling, pair.rtt_ms_controlled
        if a is None or b is None or pair.rtt_side_controlling != MIDDLE or pair.rtt_side_controlled != MIDDLE:
            continue
        beside = capture_beside(a, b)
        if beside is None:
            continue
        peer = "controlled" if beside == "controlling" else "controlling"  # its checks were answered here
        for t, role in by_pair[key]:
            t.beside_receiver = t.beside_receiver or role == peer
        held = getattr(pair, f"answer_ms_{beside}")
        fast = getattr(pair, f"rtt_ms_{peer}")
        setattr(pair, f"answer_ms_{beside}", fast if held is None else min(held, fast))
        setattr(pair, f"rtt_ms_{peer}", None)
        setattr(pair, f"rtt_side_{peer}", None)


def alias_across_nats(sessions: list[Session], mappings: list[NatMapping]) -> None:
    """A candidate used on a pair is also seen at its NAT's other side by captures there (its media
    too): give the candidates of checked pairs the addresses the NAT mappings join them to."""
    joined: dict[Endpoint, set[Endpoint]] = {}
    for m in mappings:
        joined.setdefault(m.inside, set()).add(m.outside)
        joined.setdefault(m.outside, set()).add(m.inside)
    if not joined:
        return
    for session in sessions:
        for pair in session.pairs.values():
            for c in (pair.controlling, pair.controlled):
                c.nat_aliases |= joined.get(c.address, set())


def _add(pair: Pair, counter: str, n: int) -> None:
    setattr(pair, counter, getattr(pair, counter) + n)
