"""Where the capture was taken, and which directions of which flows it lacks.

A response proves its request was sent (RFC 8489 §6.3: it echoes the request's transaction id),
so responses whose request the capture does not hold show a direction the capture missed: a tap
on one direction of a link, asymmetric routing past the capture point, or requests sent before
the capture started. Unanswered requests on such a flow are not evidence of a dead path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from icetrace.ice.addresses import private_address
from icetrace.records.endpoint import Endpoint
from icetrace.records.stun_record import StunRecord

if TYPE_CHECKING:
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


def lacking(rec: Reconstruction) -> set[tuple[Endpoint, Endpoint]]:
    """(src, dst) directions the capture is shown to lack entirely."""
    return {(f.asker, f.responder) for f in missing_directions(rec) if f.whole_direction}


def vantage_notes(rec: Reconstruction) -> list[str]:
    return [
        f"one direction only: {f.asker} -> {f.responder} is missing from the capture "
        f"({len(f.responses)} responses answer requests never seen)"
        for f in missing_directions(rec)
        if f.whole_direction
    ]


def vantage_point(rec: Reconstruction) -> list[str]:
    """Where the capture was taken, judged from which addresses appear on the wire."""
    on_wire = {r.src for r in rec.records if r.relay is None}
    notes = []
    for stream in rec.streams:
        for agent in (stream.controlling, stream.controlled):
            if agent is None or not any(c.origin == "sdp" for c in agent.candidates):
                continue
            host = [c for c in agent.candidates if c.type == "host" and c.address in on_wire]
            srflx = [c for c in agent.candidates if c.type == "srflx" and c.address in on_wire]
            if host and any(private_address(c.address.ip) for c in host):
                notes.append(f"{agent.name}: its private host address is on the wire: captured on its LAN side")
            elif srflx:
                notes.append(f"{agent.name}: seen by its NAT-mapped address: captured outside its NAT")
    wrapped = [r for r in rec.records if r.relay is not None]
    if any(r.kind == "stun" for r in wrapped):
        notes.append("TURN-wrapped checks present: the capture includes a client-to-relay leg")
    elif wrapped or any(f.channel is not None and f.relay_peer is not None for f in rec.relayed_media):
        notes.append("TURN ChannelData present: the capture includes a client-to-relay leg")
    return list(dict.fromkeys(notes))
