"""The reconstructed ICE story: agents, candidates, pairs, components, streams, verdicts.

Plain dataclasses, so the JSON exporter, the report and the DataFrames all walk
the same structure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from icetrace.records.endpoint import Endpoint
from icetrace.records.icmp_error import IcmpError
from icetrace.records.media_flow import MediaFlow


@dataclass
class IceCandidate:
    """A candidate as signaled (SDP) or learned (peer-reflexive, or seen on the wire only)."""

    agent: str
    address: Endpoint
    transport: str
    type: str  # host | srflx | prflx | relay | unknown
    priority: int | None = None
    component: int | None = None
    foundation: str | None = None
    origin: str = "sdp"  # sdp | learned (prflx from a check) | wire (seen, never signaled)
    related: Endpoint | None = None
    frame: int | None = None  # where a learned candidate was first seen
    signaled_at: float | None = None  # when its signaling crossed the wire (a trickled one arrives late)

    @property
    def wire_addresses(self) -> set[Endpoint]:
        """Where its packets can be seen: a server-reflexive candidate also sends from its base."""
        if self.type == "srflx" and self.related is not None:
            return {self.address, self.related}
        return {self.address}


@dataclass
class Agent:
    name: str  # "caller", "callee:<tag>", or "ufrag:<ufrag>" without signaling
    ufrag: str | None = None
    pwd: str | None = None
    role: str | None = None  # controlling | controlled
    tie_breaker: int | None = None
    ice_lite: bool = False
    candidates: list[IceCandidate] = field(default_factory=list)


SELECTED_BECAUSE = {
    "nominated+media": "nominated, and media flowed on it after its checks succeeded",
    "nominated-latest": "nominated, and the controlling agent kept checking or re-nominating it after "
    "the other nominated pairs fell silent (or it carries the highest NOMINATION value)",
    "final-offer": "named by the controlling agent's updated offer (a=remote-candidates)",
    "nominated": "the highest-priority nominated pair (RFC 8445 §8.1.1); nothing later tells the nominated pairs apart",
    "media-only": "no nomination seen; its checks succeeded and media then flowed on it",
}


@dataclass
class Pair:
    """One candidate pair, named by its controlling and controlled endpoints.

    Checks from either agent on the same two transport addresses land on one pair.
    """

    controlling: IceCandidate
    controlled: IceCandidate
    transport: str
    component: int | None
    priority: int | None
    state: str = "in-progress"  # succeeded | failed | in-progress
    nominated: bool = False
    nominated_by: str | None = None  # use-candidate | nomination | final-offer
    in_final_offer: bool = False  # named by the controlling agent's updated offer
    selected_because: str | None = None  # set on a component's selected pair: see SELECTED_BECAUSE
    requests_sent: int = 0  # requests including retransmissions, both directions
    responses_received: int = 0  # success and error responses, both directions
    checks_from_controlling: int = 0  # transactions
    checks_from_controlled: int = 0
    succeeded_from_controlling: bool = False
    succeeded_from_controlled: bool = False
    errors: list[int] = field(default_factory=list)
    first_check: float | None = None
    last_check: float | None = None
    rtt_ms: float | None = None
    relayed: bool = False
    frames: list[int] = field(default_factory=list)
    nomination_frame: int | None = None
    outcomes: list[str] = field(default_factory=list)  # one per check transaction
    icmp: list[IcmpError] = field(default_factory=list)  # ICMP errors quoting its checks
    prflx_until: float | None = None  # checked before a trickled candidate of it was signaled: prflx until then

    @property
    def key(self) -> tuple[Endpoint, Endpoint, str]:
        return (self.controlling.address, self.controlled.address, self.transport)

    def carries(self, src: Endpoint, dst: Endpoint) -> bool:
        """Whether a packet from src to dst (either way round) belongs to this pair."""
        a, b = self.controlling.wire_addresses, self.controlled.wire_addresses
        return (src in a and dst in b) or (src in b and dst in a)

    @property
    def is_relay(self) -> bool:
        return "relay" in (self.controlling.type, self.controlled.type) or self.relayed


@dataclass
class Component:
    component: int | None
    pairs: list[Pair] = field(default_factory=list)
    selected: Pair | None = None
    selected_by: str | None = None  # the selected pair's nominated_by, or "media" (no nomination on the wire)


@dataclass
class Stream:
    """One ICE session: a media stream of a call, or a ufrag pair seen without signaling."""

    call_id: str | None
    index: int | None
    media: str | None
    controlling: Agent | None = None
    controlled: Agent | None = None
    components: list[Component] = field(default_factory=list)
    outcome: str = "unknown"  # connected | failed | unknown
    nomination_style: str | None = None  # regular | aggressive | final-offer | none
    final_offer_ignored: bool = False  # the updated offer listed several remote candidates per component
    ended_before_nomination: bool = False  # checks succeeded, no nomination, and the capture stopped soon after
    media_flows: list[MediaFlow] = field(default_factory=list)

    @property
    def connectivity(self) -> str:
        """The packets' answer to MS-QoE's Ice connectivity (DIRECT, RELAY, FAILED), so it can be set
        beside what a client reported to CQD/Call Analytics; "" when nothing was selected."""
        if self.outcome == "failed":
            return "FAILED"
        for component in self.components:
            if component.selected is not None:
                types = (component.selected.controlling.type, component.selected.controlled.type)
                return "RELAY" if "relay" in types else "DIRECT"
        return ""


@dataclass
class Verdict:
    code: str  # D1, D2, ... from the failure catalogue; INFO-* for plain observations
    severity: str  # error | warning | info
    message: str
    frames: list[int] = field(default_factory=list)
    call_id: str | None = None


@dataclass
class Allocation:
    client: Endpoint
    server: Endpoint
    transport: str
    relayed: Endpoint | None
    mapped: Endpoint | None
    lifetime: int | None
    frame: int
    dialect: str


@dataclass
class Mapping:
    """A NAT mapping as a STUN/TURN server saw it: base (private side) -> public address."""

    base: Endpoint
    mapped: Endpoint
    server: Endpoint
    frame: int
