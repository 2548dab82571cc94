"""Cause rules for calls that connected through a TURN relay: why no direct pair carried them.

In the order tried: a direct pair that worked and was not chosen, UDP to the servers blocked (TURN
over TCP took over), a relay-only policy, a
NAT that maps per destination, two agents behind one NAT that does not hairpin, direct checks
dropped or refused on the way, and direct pairs that could never work. Each names the agent or
the addresses to act on.
"""

from __future__ import annotations

from dataclasses import dataclass

from icetrace.ice.addresses import private_address
from icetrace.ice.diagnosis.cause_registry import Found, cause
from icetrace.ice.diagnosis.stream_evidence import NO_ANSWER, StreamEvidence, pair_words
from icetrace.ice.diagnosis.wording import cite
from icetrace.ice.model import Agent, Pair
from icetrace.records.endpoint import Endpoint


def _relayed(ev: StreamEvidence) -> Pair | None:
    """The selected pair of a connected stream whose path runs through a relay."""
    sel = ev.selected
    return sel if ev.connected and sel is not None and sel.is_relay else None


@cause(
    "relayed:agent-choice",
    "a direct pair succeeded, but the controlling agent nominated the relayed pair and the call stayed on it: "
    "its nomination, not the network, relayed the call",
    "the selected relayed pair's nomination, the direct pair's successful checks",
    "RFC 8445 §8.1.1 (the controlling agent nominates; the highest-priority valid pair is the aim), §5.1.2.2 "
    "(type preferences: relayed lowest)",
    "check the controlling agent's nomination: it nominated before the direct checks finished (first valid pair, "
    "aggressive nomination) or its candidate priorities prefer the relay",
)
def _agent_choice(ev: StreamEvidence) -> Found | None:
    """An agent that moves to a better pair once it succeeds never shows this (Chromium,
    real/chromium-late-direct); libnice's regular nomination does, nominating from its first two valid
    pairs (real/libnice-agent-choice), and so does an agent that nominates the first pair to answer
    and stays there (synthetic/relay_nominated_first)."""
    sel = _relayed(ev)
    valid = [p for p in ev.tried_direct if p.state == "succeeded"]
    if sel is None or not valid:
        return None
    controlling = ev.stream.controlling.name if ev.stream.controlling else "the controlling agent"
    return Found(
        f"The direct pair {pair_words(valid[0])} succeeded, but {controlling} (controlling) nominated the relayed "
        f"pair {pair_words(sel)} and the call stayed there: the relay was its choice, not the network's.",
        cite(sel.frames[:4], valid[0].frames[:4]),
        f"Check the nomination of {controlling}: it nominated the first pair to answer, or its candidate "
        "priorities prefer the relay.",
    )


@cause(
    "relayed:udp-blocked",
    "an agent's UDP to its STUN/TURN server went unanswered or was refused (ICMP), and it fell back to TURN "
    "over TCP or TLS, which carried the call",
    "the unanswered or refused UDP requests and their ICMP errors, the TCP allocation",
    "RFC 8656 §3.1 (TURN over TCP/TLS where UDP is blocked), RFC 6062, RFC 8489 §6.2.1",
    "allow UDP from the agent named to its STUN/TURN server (port 3478) and to the peers, or accept TURN over TCP",
)
def _udp_blocked(ev: StreamEvidence) -> Found | None:
    if _relayed(ev) is None:
        return None
    for agent in ev.agents:
        udp = [t for t in ev.server_requests(agent) if t.request.transport == "udp"]
        dead = [t for t in udp if t.response is None and (t.icmp or len(t.requests) > 1)]
        if not dead or any(t.response is not None for t in udp):
            continue
        own = ev.own_ips(agent)
        tcp = [a for a in ev.facts.rec.allocations if a.transport == "tcp" and a.client.ip in own and a.relayed]
        if not tcp:
            continue
        refused = [e for t in dead for e in t.icmp]
        how = f"refused ({refused[0].text}, frame {ev.frame(refused[0].frame)})" if refused else "never answered"
        server = dead[0].dst
        return Found(
            f"{ev.who(agent)} sent {len(dead)} UDP request(s) to {server}, {how}, and fell back to TURN over TCP "
            f"(relayed {tcp[0].relayed}, frame {ev.frame(tcp[0].frame)}): the relay carried the call.",
            cite([t.request.frame for t in dead], [e.frame for e in refused], [tcp[0].frame]),
            f"Allow UDP from {', '.join(sorted(own)[:2])} to {server} and to the peers' addresses, or accept "
            "TURN over TCP (more latency, head-of-line blocking).",
        )
    return None


@cause(
    "relayed:policy",
    "an agent offered or used only relayed candidates (a relay-only policy such as iceTransportPolicy "
    "'relay'), so no direct pair existed; nothing in the network decided it",
    "the relayed pairs' checks",
    "RFC 8445 §5.1.1 (an agent may gather relayed candidates only), W3C WebRTC RTCIceTransportPolicy",
    "nothing is blocked: lift the relay-only policy of the agent named if direct calls are wanted",
)
def _policy(ev: StreamEvidence) -> Found | None:
    sel = _relayed(ev)
    if sel is None or ev.tried_direct:
        return None
    hosts = ev.facts.relay_hosts
    only = [a for a in ev.agents if a.candidates and all(c.type == "relay" or hosts.why(c) for c in a.candidates)]
    if not only:
        return None
    names = " and ".join(a.name for a in only)
    return Found(
        f"{names} offered or used relayed candidates only: no direct pair existed, and the call ran on "
        f"{pair_words(sel)}.",
        cite(sel.frames),
        f"Nothing is blocked: lift the relay-only policy of {names} if direct calls are wanted.",
    )


@dataclass
class _Mapped:
    """One mapping of an agent's socket as one destination saw it."""

    base: Endpoint | None  # the socket, when the capture is on its LAN side
    mapped: Endpoint
    destination: Endpoint
    frame: int


def _per_destination(ev: StreamEvidence, agent: Agent) -> tuple[_Mapped, _Mapped] | None:
    """Two mappings of one socket that differ by destination (RFC 4787 §4.1: address- or
    address-and-port-dependent mapping). Seen on the agent's LAN, from what a server and a peer's
    answers reported (XOR-MAPPED-ADDRESS); seen beyond its NAT, from its checks arriving from a port
    of its public address other than the one the peer checks it at (its server-reflexive one),
    which it never sends from."""
    seen: dict[Endpoint, list[_Mapped]] = {}
    for m in ev.mappings(agent):
        if m.base.ip != m.mapped.ip:
            seen.setdefault(m.base, []).append(_Mapped(m.base, m.mapped, m.server, m.frame))
    hosts = ev.facts.relay_hosts
    sources: dict[Endpoint, int] = {}
    targets: dict[Endpoint, int] = {}
    for t, sender, _ in ev.checks:
        if sender == agent.name:
            answer = t.response.addresses.get("XOR-MAPPED-ADDRESS") if t.response else None
            if answer is not None and t.response and not t.relayed and answer.ip != t.src.ip:
                seen.setdefault(t.src, []).append(_Mapped(t.src, answer, t.dst, t.response.frame))
            if not private_address(t.src.ip) and not hosts.holds(t.src):
                sources.setdefault(t.src, t.request.frame)
        elif sender is not None and t.outcome in NO_ANSWER and not private_address(t.dst.ip) and not hosts.holds(t.dst):
            targets.setdefault(t.dst, t.request.frame)
    for views in seen.values():
        for a in views:
            for b in views:
                if a.mapped.ip == b.mapped.ip and a.mapped.port != b.mapped.port and a.destination != b.destination:
                    return a, b
    for target, frame in targets.items():
        for source, sent in sources.items():
            if source.ip == target.ip and target not in sources:
                return _Mapped(None, target, Endpoint("0.0.0.0", 0), frame), _Mapped(None, source, source, sent)
    return None


@cause(
    "relayed:symmetric-nat",
    "a side's NAT maps per destination (its mapped port differs by destination, or its checks arrive from a "
    "port other than its server-reflexive one), so the peer's checks to its server-reflexive address find no "
    "mapping and hole punching cannot work",
    "the two mappings (server and peer answers, or the peer's check and the agent's own)",
    "RFC 4787 §4.1 (mapping behaviour), RFC 8445 §2.2 and §7.2.5.3.1 (peer-reflexive candidates)",
    "make the NAT named map endpoint-independently (RFC 4787 REQ-1; on Linux no 'random' port mapping), or "
    "accept the relay",
)
def _symmetric(ev: StreamEvidence) -> Found | None:
    sel = _relayed(ev)
    if sel is None or any(p.state == "succeeded" for p in ev.tried_direct):
        return None
    for agent in ev.agents:
        found = _per_destination(ev, agent)
        if found is None:
            continue
        a, b = found
        if a.base is not None:
            what = (
                f"its socket {a.base} was mapped to {a.mapped} toward {a.destination} (frame {ev.frame(a.frame)}) "
                f"but to {b.mapped} toward {b.destination} (frame {ev.frame(b.frame)})"
            )
        else:
            what = (
                f"the peer checks it at {a.mapped} (frame {ev.frame(a.frame)}) while its checks arrive from {b.mapped} "
                f"(frame {ev.frame(b.frame)}), an address it never sends from"
            )
        return Found(
            f"The NAT of {ev.who(agent)} maps per destination (symmetric): {what}. Checks to its server-reflexive "
            f"address find no mapping, and the call ran on the relayed pair {pair_words(sel)}.",
            cite([a.frame, b.frame], sel.frames[:2]),
            f"Make the NAT at {a.mapped.ip} map endpoint-independently (RFC 4787 REQ-1: keep the port for every "
            "destination; no random port mapping), or accept the relay.",
        )
    return None


@cause(
    "relayed:no-hairpin",
    "both agents sit behind one NAT (one public address) and their direct checks to each other's public "
    "address died: the NAT does not hairpin, and their LANs do not reach each other",
    "the unanswered checks to the shared public address, the mappings that show it shared",
    "RFC 4787 §6 (REQ-9: hairpinning), RFC 8445 §5.1.1.2",
    "enable hairpinning (NAT loopback) on the shared NAT, or route the two LANs to each other",
)
def _no_hairpin(ev: StreamEvidence) -> Found | None:
    """Tested on aioice (real/aioice-no-hairpin) and libnice (real/libnice-no-hairpin), each call carried
    by a pair from one agent's host base to the other's relay."""
    sel = _relayed(ev)
    if sel is None or any(p.state == "succeeded" for p in ev.tried_direct) or len(ev.agents) < 2:
        return None
    mine, theirs = (ev.public_ips(a) for a in ev.agents[:2])
    shared = mine & theirs
    looped = [p for p in ev.tried_direct if ev.unanswered(p) and _to_own_public(ev, p)]
    if not shared and not looped:
        return None
    ip = sorted(shared)[0] if shared else sorted({p.controlled.address.ip for p in looped})[0]
    mapped = [m.frame for a in ev.agents for m in ev.mappings(a) if m.mapped.ip == ip][:2]
    died = f"; the direct checks through it went unanswered ({pair_words(looped[0])})" if looped else ""
    return Found(
        f"Both agents are behind one NAT ({ip}){died}: it does not hairpin, and the call ran on the relayed pair "
        f"{pair_words(sel)}.",
        cite(mapped, *[p.frames for p in looped[:3]]),
        f"Enable hairpinning (NAT loopback) on the NAT at {ip}, or route the two LANs to each other.",
    )


def _to_own_public(ev: StreamEvidence, p: Pair) -> bool:
    """A check to the sender's own public address: only a hairpinning NAT turns it around."""
    by_name = {a.name: a for a in ev.agents}
    for sender, target, sent in (
        (p.controlling, p.controlled, p.checks_from_controlling),
        (p.controlled, p.controlling, p.checks_from_controlled),
    ):
        agent = by_name.get(sender.agent)
        if sent and agent is not None and not private_address(target.address.ip):
            if target.address.ip in ev.public_ips(agent):
                return True
    return False


@cause(
    "relayed:direct-blocked",
    "direct checks that could have worked were sent and went unanswered or were refused (ICMP), while the relay worked",
    "the unanswered direct pairs' checks and the ICMP errors that refused them",
    "RFC 8445 §7.2.5.2 (check failures), RFC 8489 §6.2.1 (retransmissions); RFC 1122 §3.2.2.1 (ICMP unreachable)",
    "let UDP between the agents' public addresses through the firewalls on the way (a rule drops or REJECTs it)",
)
def _direct_blocked(ev: StreamEvidence) -> Found | None:
    sel = _relayed(ev)
    if sel is None or any(p.state == "succeeded" for p in ev.tried_direct):
        return None
    blocked = [p for p in ev.tried_direct if ev.workable(p) and ev.unanswered(p)]
    if not blocked:
        return None
    refused = [e for p in blocked for e in p.icmp]
    how = f"refused by the network ({refused[0].text}, frame {ev.frame(refused[0].frame)})" if refused else "unanswered"
    public = sorted({ip for a in ev.agents for ip in ev.public_ips(a)})
    return Found(
        f"Direct checks on {len(blocked)} pair(s) went {how}, e.g. {pair_words(blocked[0])}: the relayed pair "
        f"{pair_words(sel)} carried the call.",
        cite([e.frame for e in refused], *[p.frames[:3] for p in blocked]),
        "Let UDP between the agents' public addresses through the firewalls"
        + (f" ({', '.join(public)})" if public else "")
        + (": a rule refuses it (REJECT)" if refused else ": a rule drops it"),
    )


@cause(
    "relayed:no-direct-path",
    "no direct pair could work: the direct checks ran between private addresses of different networks, and "
    "a side offered no public (server-reflexive) candidate; only the relay connects the two",
    "the direct pairs' checks",
    "RFC 8445 §5.1.1.2 (server-reflexive candidates), RFC 1918 (private addresses are not routed between networks)",
    "let the agent named reach a STUN server (UDP to port 3478) so it gathers a server-reflexive candidate, or "
    "accept the relay",
)
def _no_direct_path(ev: StreamEvidence) -> Found | None:
    sel = _relayed(ev)
    tried = ev.tried_direct
    if sel is None or not tried or any(ev.workable(p) or p.state == "succeeded" for p in tried):
        return None
    lacking = [a for a in ev.agents if not ev.public_ips(a)]
    if not lacking:
        return None
    names = " and ".join(ev.who(a) for a in lacking)
    return Found(
        f"No direct pair could work: the direct checks ran between private addresses of different networks "
        f"({pair_words(tried[0])}), and {names} offered no public (server-reflexive) address; the relayed pair "
        f"{pair_words(sel)} carried the call.",
        cite(*[p.frames[:3] for p in tried[:3]], sel.frames[:2]),
        f"Let {names} reach a STUN server (UDP to port 3478) so it gathers a server-reflexive candidate, or "
        "accept the relay.",
    )
