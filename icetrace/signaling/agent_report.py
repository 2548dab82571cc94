"""What an ICE agent said about its own session: the candidate pairs of a WebRTC getStats() report.

W3C webrtc-stats: `candidate-pair` (state, nominated, requestsSent, responsesReceived,
currentRoundTripTime), `local-candidate`/`remote-candidate` (address, port, protocol,
candidateType) and `transport.selectedCandidatePairId`. The report is the agent's claim; the
diagnosis sets it beside the packets, as it does for a Lync client's ms-client-diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from icetrace.records.endpoint import Endpoint


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportedCandidate:
    address: Endpoint | None
    type: str | None  # host | srflx | prflx | relay
    protocol: str | None  # udp | tcp
    relay_protocol: str | None = None  # udp | tcp | tls, for a relay candidate: to its TURN server


@dataclass(slots=True, kw_only=True)
class ReportedPair:
    id: str
    local: ReportedCandidate | None
    remote: ReportedCandidate | None
    state: str | None
    nominated: bool
    requests_sent: int | None
    responses_received: int | None
    requests_received: int | None
    responses_sent: int | None
    current_rtt_ms: float | None
    selected: bool = False

    def text(self) -> str:
        local = self.local.address if self.local else "?"
        remote = self.remote.address if self.remote else "?"
        ltype = self.local.type if self.local else "?"
        rtype = self.remote.type if self.remote else "?"
        parts = [f"{local} ({ltype}) -> {remote} ({rtype})", self.state or "no state"]
        if self.nominated:
            parts.append("nominated")
        if self.requests_sent is not None:
            parts.append(f"requestsSent {self.requests_sent}, responsesReceived {self.responses_received}")
        if self.current_rtt_ms is not None:
            parts.append(f"RTT {self.current_rtt_ms:.1f} ms")
        return ", ".join(parts)


@dataclass(slots=True, kw_only=True)
class AgentReport:
    """One peer connection's stats, as exported (getStats() JSON) or dumped (webrtc-internals)."""

    source: str  # file name (and peer connection id for a dump)
    kind: str  # "webrtc-internals" | "getstats"
    local_ufrag: str | None = None  # from the local description, when the export holds it
    remote_ufrag: str | None = None
    ice_state: str | None = None
    pairs: list[ReportedPair] = field(default_factory=list)

    @property
    def selected(self) -> ReportedPair | None:
        return next((p for p in self.pairs if p.selected), None)
