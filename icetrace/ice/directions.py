"""Where the capture was taken, and which directions of which flows it lacks.

A response proves its request was sent (RFC 8489 §6.3: it echoes the request's transaction id),
so responses whose request the capture does not hold show a direction the capture missed: a tap
on one direction of a link, asymmetric routing past the capture point, or requests sent before
the capture started. Unanswered requests on such a flow are not evidence of a dead path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from icetrace.ice.addresses import private_address
from icetrace.records.endpoint import Endpoint
from icetrace.records.stun_record import StunRecord

if TYPE_CHECKING:
    from icetrace.ice.model import Agent
    from icetrace.ice.reconstruction import Reconstruction


@dataclass
class MissingDirection:
    """Responses from `responder` to `asker` whose requests (asker -> responder) are not captured."""

    asker: Endpoint
    responder: Endpoint
    responses: list[StunRecord] = field(default_factory=list)
    requests_seen: int = 0  # STUN messages asker -> responder the capture does hold
    media_seen: bool = False  # media asker -> responder was captured
    before_start: bool = False  # every orphan precedes the first captured request of the flow

    @property
    def whole_direction(self) -> bool:
        """Not one STUN message or media packet went asker -> responder in the capture."""
        return self.requests_seen == 0 and not self.media_seen

    def text(self) -> str:
        n = len(self.responses)
        methods = sorted({r.method or "?" for r in self.responses})
        what = f"{n} {'/'.join(methods)} response(s) from {self.responder} to {self.asker}"
        if self.whole_direction:
            return (
                f"{what} answer requests the capture does not hold, and nothing from {self.asker} to "
                f"{self.responder} was captured: the capture lacks that direction"
            )
        if self.before_start:
            return f"{what} answer requests sent before the capture started"
        return f"{what} answer requests the capture does not hold (sent by another path, or not captured)"


def _agent_side(agent: Agent, on_wire: set[Endpoint], own_mapping: set[Endpoint], ends: set[Endpoint]) -> list[str]:
    """Which side of its NAT the capture saw an agent from, or that it has a public address of its
    own; `ends` holds the addresses every packet of the capture touches, when there are any such."""
    host = [c for c in agent.candidates if c.type == "host" and c.address in on_wire]
    if any(c.origin == "sdp" for c in agent.candidates):
        srflx = [c for c in agent.candidates if c.type == "srflx" and c.address in on_wire]
        if host and any(private_address(c.address.ip) for c in host):
            return [f"{agent.name}: its private host address is on the wire: captured on its LAN side"]
        if srflx:
            return [f"{agent.name}: seen by its NAT-mapped address: captured outside its NAT"]
        return [_public_own(agent.name, host[0].address, "its host candidate", ends)] if host else []
    if any(private_address(c.address.ip) for c in agent.candidates if not c.address.unknown):
        return []
    own = [c for c in agent.candidates if c.address in own_mapping and c.address in on_wire]
    return [_public_own(agent.name, own[0].address, "the address a STUN server saw it as", ends)] if own else []


def _public_own(name: str, address: Endpoint, what: str, ends: set[Endpoint]) -> str:
    """A public address the agent uses as its own: at its own interface when every packet touches it."""
    if address in ends:
        return (
            f"{name}: every packet of the capture is to or from {address}, {what}: captured at its own interface "
            "(a gateway or server on a public address, or behind a 1:1 NAT that presents it there)"
        )
    return (
        f"{name}: {address}, {what}, is public and on the wire: no NAT of its own between it and the capture "
        "(it has a public address, or a 1:1 NAT presents it there)"
    )


def _every_packet_touches(rec: Reconstruction) -> set[Endpoint]:
    """The addresses that are an end of every STUN message and media flow on the wire."""
    ends: set[Endpoint] | None = None
    for src, dst in [(r.src, r.dst) for r in rec.records if r.relay is None] + [(f.src, f.dst) for f in rec.media]:
        ends = {src, dst} if ends is None else ends & {src, dst}
        if not ends:
            return set()
    return ends or set()


def _at_a_turn_server(rec: Reconstruction) -> list[str]:
    """A capture at a TURN server (or on its segment): the server answers Allocates, and the relayed
    data leaves and reaches its relay ports themselves (the relay-to-peer legs, which are no NAT)."""
    from icetrace.ice.far_ends import turn_servers
    from icetrace.ice.gathering import relayed_legs
    from icetrace.ice.relaying import relay_ports

    ports = relay_ports(relayed_legs(rec.records))
    seen = sorted({e for r in rec.records if r.relay is None for e in (r.src, r.dst) if e in ports}, key=str)
    servers = sorted({s for s in turn_servers(rec.records) if any(p.ip == s.ip for p in seen)}, key=str)
    if not seen or not servers:
        return []
    note = (
        f"captured at the TURN server {', '.join(map(str, servers))} or on its segment: it answers Allocates, and "
        f"the relayed data leaves and reaches its relay ports ({', '.join(map(str, seen[:3]))}) there: the "
        "relay-to-peer legs are the relayed pairs, not NAT mappings"
    )
    behind = sorted({str(ports[p]) for p in seen if ports[p].ip != p.ip})
    if behind:
        note += f"; its relayed addresses ({', '.join(behind[:3])}) are its 1:1 NAT's public side"
    return [note]


def missing_directions(rec: Reconstruction) -> list[MissingDirection]:
    """Per flow, the orphan responses and what they say about the capture."""
    flows: dict[tuple[Endpoint, Endpoint], MissingDirection] = {}
    for r in rec.orphans:
        if r.relay is not None:
            continue  # wrapped in TURN: its request went another leg of the relay
        key = (r.dst, r.src)
        flows.setdefault(key, MissingDirection(r.dst, r.src)).responses.append(r)
    sent: dict[tuple[Endpoint, Endpoint], list[float]] = {}
    for r in rec.records:
        if r.relay is None and (r.src, r.dst) in flows:
            sent.setdefault((r.src, r.dst), []).append(r.time)
    media = {(f.src, f.dst) for f in rec.media}
    for key, flow in flows.items():
        times = sent.get(key, [])
        flow.requests_seen = len(times)
        flow.media_seen = key in media
        flow.before_start = bool(times) and max(r.time for r in flow.responses) < min(times)
    return sorted(flows.values(), key=lambda f: f.responses[0].frame)


@dataclass
class AnswersNotCaptured:
    """Requests from `asker` to `responder` that a client sends only after answers it got, while the
    capture holds nothing from `responder` to `asker`: the mirror of MissingDirection, told by the
    requests alone (a tap on the client-to-server direction of a link)."""

    asker: Endpoint
    responder: Endpoint
    evidence: str
    frame: int

    def text(self, frame_text: Callable[[int], str] = str) -> str:
        return (
            f"one direction only: {self.responder} -> {self.asker} is missing from the capture "
            f"({self.evidence}, frame {frame_text(self.frame)}, yet nothing from {self.responder} to "
            f"{self.asker} was captured)"
        )


_AFTER_AN_ALLOCATION = ("channel-bind", "create-permission", "refresh", "send")


def answers_not_captured(rec: Reconstruction) -> list[AnswersNotCaptured]:
    """Flows whose requests prove answers came back that the capture does not hold: a request
    carrying a NONCE got it from a challenge (RFC 8489 §9.2.4), and ChannelBind, CreatePermission,
    Refresh and Send are sent only on an allocation an Allocate success created (RFC 8656 §7-§11)."""
    answered = {(r.src, r.dst) for r in rec.records if r.relay is None}
    answered |= {(f.src, f.dst) for f in rec.media}
    found: dict[tuple[Endpoint, Endpoint], AnswersNotCaptured] = {}
    for r in rec.records:
        if r.relay is not None or r.kind != "stun" or r.cls not in ("request", "indication"):
            continue
        key = (r.src, r.dst)
        if key in found or (r.dst, r.src) in answered:
            continue
        if r.nonce is not None and r.cls == "request":
            evidence = f"its {r.method} request carries a NONCE, which only a challenge from {r.dst} hands out"
        elif r.method in _AFTER_AN_ALLOCATION:
            evidence = f"it sends {r.method} {r.cls}s, which only an allocation {r.dst} granted allows"
        else:
            continue
        found[key] = AnswersNotCaptured(r.src, r.dst, evidence, r.frame)
    return list(found.values())


def lacking(rec: Reconstruction) -> set[tuple[Endpoint, Endpoint]]:
    """(src, dst) directions the capture is shown to lack entirely."""
    shown = {(f.asker, f.responder) for f in missing_directions(rec) if f.whole_direction}
    return shown | {(f.responder, f.asker) for f in answers_not_captured(rec)}


def vantage_notes(rec: Reconstruction) -> list[str]:
    return [
        f"one direction only: {f.asker} -> {f.responder} is missing from the capture "
        f"({len(f.responses)} responses answer requests never seen)"
        for f in missing_directions(rec)
        if f.whole_direction
    ] + [f.text(rec.captures.frame_text) for f in answers_not_captured(rec)]


def vantage_point(rec: Reconstruction) -> list[str]:
    """Where the capture was taken, judged from which addresses appear on the wire."""
    on_wire = {r.src for r in rec.records if r.relay is None}
    notes = _at_a_turn_server(rec)
    own_mapping = {m.mapped for m in rec.mappings if m.mapped == m.base}
    ends = _every_packet_touches(rec)
    for stream in rec.streams:
        for agent in (stream.controlling, stream.controlled):
            if agent is not None:
                notes += _agent_side(agent, on_wire, own_mapping, ends)
    wrapped = [r for r in rec.records if r.relay is not None]
    if any(r.kind == "stun" for r in wrapped):
        notes.append("TURN-wrapped checks present: the capture includes a client-to-relay leg")
    elif wrapped or any(f.channel is not None and f.relay_peer is not None for f in rec.relayed_media):
        notes.append("TURN ChannelData present: the capture includes a client-to-relay leg")
    return list(dict.fromkeys(notes))
