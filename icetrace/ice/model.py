"""The reconstructed ICE story: agents, candidates, pairs, components, streams, verdicts.

Plain dataclasses, so the JSON exporter, the report and the DataFrames all walk
the same structure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from icetrace.records.endpoint import Endpoint
from icetrace.records.icmp_error import IcmpError
from icetrace.records.media_flow import MediaFlow
from icetrace.records.vocabulary import (
    CauseCode,
    Connectivity,
    NominatedBy,
    NominationStyle,
    PairState,
    Role,
    RttSide,
    SelectedBecause,
    SelectedBy,
    Severity,
    StreamOutcome,
    TransactionOutcome,
    VerdictCode,
)


@dataclass(kw_only=True)
class IceCandidate:
    """A candidate as signaled (SDP) or learned (peer-reflexive, or seen on the wire only)."""

    agent: str
    address: Endpoint
    transport: str
    type: str  # host | srflx | prflx | relay | unknown
    priority: int | None = None  # as signaled; None for a candidate learned from the wire
    component: int | None = None
    foundation: str | None = None
    origin: str = "sdp"  # sdp | learned (prflx from a check) | wire (seen, never signaled)
    related: Endpoint | None = None
    frame: int | None = None  # where a learned candidate was first seen
    signaled_at: float | None = None  # when its signaling crossed the wire (a trickled one arrives late)
    signaled_in: str | None = None  # the capture (or SDP file, or log) whose signaling carried it
    # the PRIORITY its checks carried: RFC 8445 §7.2.5.3.1, the priority it would get as a
    # peer-reflexive candidate, not the candidate's own
    check_priority: int | None = None
    # the same socket as other capture points saw it, across a NAT (from checks seen at two taps)
    nat_aliases: set[Endpoint] = field(default_factory=set)
    password: str | None = None  # [MS-ICE] (OC 2007): each candidate signals its own password

    @property
    def wire_addresses(self) -> set[Endpoint]:
        """Where its packets can be seen: a server-reflexive candidate also sends from its base, and
        a capture on the other side of a NAT sees the mapped address."""
        if self.type == "srflx" and self.related is not None:
            return {self.address, self.related} | self.nat_aliases
        return {self.address} | self.nat_aliases


@dataclass(kw_only=True)
class Agent:
    name: str  # "caller", "callee:<tag>", or "ufrag:<ufrag>" without signaling
    ufrag: str | None = None
    pwd: str | None = None
    role: Role | None = None
    tie_breaker: int | None = None
    ice_lite: bool = False
    candidates: list[IceCandidate] = field(default_factory=list)


SELECTED_BECAUSE: dict[SelectedBecause, str] = {
    "nominated+media": "nominated, and media flowed on it after its checks succeeded",
    "nominated-latest": "nominated, and the controlling agent kept checking or re-nominating it after "
    "the other nominated pairs fell silent (or it carries the highest NOMINATION value)",
    "final-offer": "named by the controlling agent's updated offer (a=remote-candidates)",
    "nominated": "the highest-priority nominated pair (RFC 8445 §8.1.1); nothing later tells the nominated pairs apart",
    "media-only": "no nomination seen; its checks succeeded and media then flowed on it",
    "in-use": "the capture joined after ICE completed: the only pair checked (consent checks) and carrying media",
}


@dataclass(kw_only=True)
class Pair:
    """One candidate pair, named by its controlling and controlled endpoints.

    Checks from either agent on the same two transport addresses land on one pair.
    """

    controlling: IceCandidate
    controlled: IceCandidate
    transport: str
    component: int | None
    priority: int | None
    state: PairState = "in-progress"
    nominated: bool = False
    nominated_by: NominatedBy | None = None
    in_final_offer: bool = False  # named by the controlling agent's updated offer
    selected_because: SelectedBecause | None = None  # set on a component's selected pair
    # per direction: each agent's checks and what came back to it; a check seen at several capture
    # points counts once
    checks_from_controlling: int = 0  # transactions
    checks_from_controlled: int = 0
    requests_by_controlling: int = 0  # transmissions, retransmissions included
    requests_by_controlled: int = 0
    answers_to_controlling: int = 0  # its checks that got a response (success or error)
    answers_to_controlled: int = 0
    errors_to_controlling: int = 0  # its checks answered with an error response
    errors_to_controlled: int = 0
    succeeded_from_controlling: bool = False
    succeeded_from_controlled: bool = False
    # the shortest round trip of each agent's checks, seen on its side of the NATs ("sender") or
    # between the agents ("middle"); never from the peer's side, where it is the peer's answering time
    rtt_ms_controlling: float | None = None
    rtt_ms_controlled: float | None = None
    rtt_side_controlling: RttSide | None = None
    rtt_side_controlled: RttSide | None = None
    # each agent's answering time to the peer's checks (request in -> response out), seen on its side
    answer_ms_controlling: float | None = None
    answer_ms_controlled: float | None = None
    errors: list[int] = field(default_factory=list)
    first_check: float | None = None
    last_check: float | None = None
    relayed: bool = False
    # why its path runs through a TURN relay when its candidate types do not say so (relay_paths.py)
    through_relay: str | None = None
    frames: list[int] = field(default_factory=list)
    nomination_frame: int | None = None
    outcomes: list[TransactionOutcome] = field(default_factory=list)  # one per check transaction
    icmp: list[IcmpError] = field(default_factory=list)  # ICMP errors quoting its checks
    prflx_until: float | None = None  # checked before a trickled candidate of it was signaled: prflx until then

    @property
    def key(self) -> tuple[Endpoint, Endpoint, str]:
        return (self.controlling.address, self.controlled.address, self.transport)

    @property
    def rtt_of(self) -> Role | None:
        """Whose checks `rtt_ms` times: those that leave the capture's side (seen there from the
        sender's side of its NAT); when both agents are on the capture's side (two taps) or neither
        is (a public tap), the controlling agent's."""
        sides = {"controlling": self.rtt_side_controlling, "controlled": self.rtt_side_controlled}
        for wanted in ("sender", "middle"):
            for agent in ("controlling", "controlled"):
                if sides[agent] == wanted:
                    return agent
        return None

    @property
    def rtt_ms(self) -> float | None:
        """The round trip of the checks that leave the capture's vantage side (see `rtt_of`)."""
        of = self.rtt_of
        if of is None:
            return None
        return self.rtt_ms_controlling if of == "controlling" else self.rtt_ms_controlled

    def swap_sides(self) -> None:
        """After a role switch: the candidates and each agent's figures change places together."""
        self.controlling, self.controlled = self.controlled, self.controlling
        for name in _PER_AGENT:
            a, b = f"{name}_controlling", f"{name}_controlled"
            first, second = getattr(self, a), getattr(self, b)
            setattr(self, a, second)
            setattr(self, b, first)

    def carries(self, src: Endpoint, dst: Endpoint) -> bool:
        """Whether a packet from src to dst (either way round) belongs to this pair."""
        a, b = self.controlling.wire_addresses, self.controlled.wire_addresses
        return (src in a and dst in b) or (src in b and dst in a)

    @property
    def is_relay(self) -> bool:
        """Whether its path runs through a TURN relay: either side's, by type, wire or server evidence."""
        by_type = "relay" in (self.controlling.type, self.controlled.type)
        return by_type or self.relayed or self.through_relay is not None


_PER_AGENT = (
    "checks_from",
    "requests_by",
    "answers_to",
    "errors_to",
    "succeeded_from",
    "rtt_ms",
    "rtt_side",
    "answer_ms",
)


@dataclass(kw_only=True)
class SelectionChange:
    """The pair in use moved from one pair to another, at a time and frame."""

    time: float  # when the new pair first carried media (capture timestamp)
    frame: int | None  # that packet
    before: Pair
    after: Pair


@dataclass(kw_only=True)
class Component:
    component: int | None
    pairs: list[Pair] = field(default_factory=list)
    selected: Pair | None = None
    # the selected pair's nominated_by, "media" (no nomination on the wire) or "in-use" (mid-call)
    selected_by: SelectedBy | None = None
    # each time the pair in use moved to another one (empty when one pair carried the call throughout)
    selection_changes: list[SelectionChange] = field(default_factory=list)


@dataclass(kw_only=True)
class Cause:
    """Why a stream went direct, relayed or dead: a code from the cause registry, one sentence, the
    frames that show it, and what to change or check."""

    code: CauseCode
    summary: str
    evidence_frames: list[int] = field(default_factory=list)
    next_step: str = ""


@dataclass(kw_only=True)
class Stream:
    """One ICE session: a media stream of a call, or a ufrag pair seen without signaling."""

    call_id: str | None
    index: int | None
    media: str | None
    controlling: Agent | None = None
    controlled: Agent | None = None
    components: list[Component] = field(default_factory=list)
    outcome: StreamOutcome = "unknown"
    nomination_style: NominationStyle | None = None
    final_offer_ignored: bool = False  # the updated offer listed several remote candidates per component
    mid_call: bool = False  # the capture joined after ICE completed: the pair in use is the selected one
    ended_before_nomination: bool = False  # checks succeeded, no nomination, and the capture stopped soon after
    media_flows: list[MediaFlow] = field(default_factory=list)
    cause: Cause | None = None  # set by the diagnosis

    @property
    def connectivity(self) -> Connectivity:
        """The packets' answer to MS-QoE's Ice connectivity (DIRECT, RELAY, FAILED), so it can be set
        beside what a client reported to CQD/Call Analytics; "" when nothing was selected."""
        if self.outcome == "failed":
            return "FAILED"
        for component in self.components:
            if component.selected is not None:
                return "RELAY" if component.selected.is_relay else "DIRECT"
        return ""


@dataclass(kw_only=True)
class Verdict:
    code: VerdictCode  # D1, D2, ... from the failure catalogue; a descriptive name for plain observations
    severity: Severity
    message: str
    frames: list[int] = field(default_factory=list)
    call_id: str | None = None


@dataclass(kw_only=True)
class Allocation:
    client: Endpoint
    server: Endpoint
    transport: str
    relayed: Endpoint | None
    mapped: Endpoint | None
    lifetime: int | None
    frame: int
    dialect: str


@dataclass(kw_only=True)
class Mapping:
    """A NAT mapping as a STUN/TURN server saw it: base (private side) -> public address."""

    base: Endpoint
    mapped: Endpoint
    server: Endpoint
    frame: int


@dataclass
class NatMapping:
    """A NAT mapping that one check seen at two capture points reveals: the address on the inside
    (nearer the agent) and the one it has outside."""

    inside: Endpoint
    outside: Endpoint
    frames: list[int] = field(default_factory=list)  # the nearer views' request frames
