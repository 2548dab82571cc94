"""An agent's candidate at an address: the signaled one, or one learned from the wire and typed by
what the capture shows (RFC 8445 §7.2.5.3.1 peer-reflexive, §6.1.2.4 a srflx candidate's base)."""

from __future__ import annotations

from collections.abc import Iterable

from icetrace.ice.addresses import private_address
from icetrace.ice.model import Agent, IceCandidate
from icetrace.ice.priority import component_from_priority
from icetrace.ice.relaying import is_unknown_relayed
from icetrace.records.endpoint import Endpoint


def agent_candidate(
    agent: Agent,
    address: Endpoint,
    transport: str,
    priority_hint: int | None,
    frame: int,
    relayed_addresses: set[Endpoint],
    mapped_addresses: set[Endpoint],
    component: int | None = None,
) -> IceCandidate:
    """The agent's candidate at `address` (a server-reflexive one is checked from its base, RFC 8445
    §6.1.2.4), or a new one learned from the wire. `priority_hint` is the PRIORITY of a check sent
    from it: it says the component (RFC 8445 §5.1.2.1) but is not the candidate's own priority."""
    wanted = component_from_priority(priority_hint) if priority_hint else component
    found = _known_candidate(agent, address, transport, wanted) or _signaled_relay(agent, address)
    if found is not None:
        if found.component is None and wanted is not None:
            found.component = wanted
        if found.check_priority is None and priority_hint:
            found.check_priority = priority_hint
        return found
    signaled = any(c.origin == "sdp" for c in agent.candidates)
    if address in relayed_addresses or is_unknown_relayed(address):
        ctype = "relay"
    elif address.unknown:
        ctype = "unknown"  # a TURN peer the capture never named: nothing says what it is
    elif address in mapped_addresses:
        ctype = "srflx"  # a STUN/TURN server reported this very address as a mapping
    elif signaled:
        ctype = "prflx"  # RFC 8445 §7.2.5.3.1 / §7.3.1.3: not signaled, learned from a check
    else:
        # nothing signaled: a private address is taken as the agent's host; a public one may be a
        # host, a server-reflexive or a peer-reflexive candidate, and the wire cannot tell which
        ctype = "host" if private_address(address.ip) else "unknown"
    learned = IceCandidate(
        agent=agent.name,
        address=address,
        transport=transport,
        type=ctype,
        priority=None,
        component=wanted,
        foundation=None,
        origin="learned" if signaled else "wire",
        related=None,
        frame=frame,
        check_priority=priority_hint or None,
    )
    agent.candidates.append(learned)
    return learned


def unproven_reflexive(agents: Iterable[Agent], translated: set[Endpoint]) -> None:
    """A candidate learned from the wire and typed srflx because a STUN/TURN server reported its
    address as a mapping stays srflx only when something shows a NAT: a mapping of it from another
    address (`translated`: the server saw it arrive from a base behind a NAT, or one check was seen
    on both sides of the NAT), or a private address of the same agent. A mapping equal to the address
    the capture shows says only that no NAT stands between the capture and the agent: the capture is
    outside its NAT, or the agent has a public address of its own (a gateway, an SFU). Then it is
    `prflx` when the agent signaled other candidates (RFC 8445 §7.2.5.3.1), else `unknown`."""
    for agent in agents:
        private = any(private_address(c.address.ip) for c in agent.candidates if not c.address.unknown)
        signaled = any(c.origin == "sdp" for c in agent.candidates)
        for c in agent.candidates:
            if c.type == "srflx" and c.origin != "sdp" and c.address not in translated and not private:
                c.type = "prflx" if signaled else "unknown"


def _signaled_relay(agent: Agent, address: Endpoint) -> IceCandidate | None:
    """The relayed candidate the agent signaled on the server of a relayed address the capture never
    showed (its Allocate is not in it), when the agent signaled just one there."""
    if not is_unknown_relayed(address):
        return None
    there = {
        c.address: c for c in agent.candidates if c.origin == "sdp" and c.type == "relay" and c.address.ip == address.ip
    }
    if len(there) != 1:
        return None
    (found,) = there.values()
    found.nat_aliases.add(address)  # what the capture calls it: its checks and media carry that name
    return found


def _known_candidate(agent: Agent, address: Endpoint, transport: str, component: int | None) -> IceCandidate | None:
    """Same address before a srflx candidate's base, same transport first, the wanted component as
    the last tie-break (an agent may put both components on one address)."""
    best: IceCandidate | None = None
    best_rank: tuple[bool, bool, bool] | None = None
    for c in agent.candidates:
        if c.address != address and not (c.type == "srflx" and c.related == address and c.transport == transport):
            continue
        rank = (
            c.address != address,
            c.transport != transport,
            component is not None and c.component is not None and c.component != component,
        )
        if best_rank is None or rank < best_rank:
            best, best_rank = c, rank
    return best
