"""The signaling model: calls -> offers/answers -> media streams -> candidates per agent.

This is the contract between the signaling parsers (SIP/SDP from captures, logs,
files) and the correlator. Everything is a plain dataclass; parsers fill it in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from icetrace.records.endpoint import Endpoint
from icetrace.signaling.agent_report import AgentReport
from icetrace.signaling.client_report import ClientReport, DiagnosticHeader


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRef:
    """Where a piece of signaling was read: a capture frame, a log line, a file line."""

    kind: str  # "frame" | "log" | "file"
    name: str  # file name as given by the user (display only, never opened again)
    position: int  # frame number or 1-based line number
    time: float | None = None  # epoch seconds when known

    def __str__(self) -> str:
        unit = "frame" if self.kind == "frame" else "line"
        return f"{self.name}:{unit} {self.position}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """One a=candidate line in any of the three grammars.

    `grammar` is "rfc5245" (RFC 5245/8839, incl. RFC 6544 tcptype), "ms-ice19"
    (Microsoft TCP-ACT/TCP-PASS transports) or "ms-icev6" (OC 2007 lines with
    per-candidate username/password and a q-value weight instead of typ).
    For ICEv6 lines `priority` is round(weight * 1000) and `type` is None.
    """

    foundation: str
    component: int
    transport: str  # "udp" | "tcp"
    priority: int
    address: Endpoint
    type: str | None  # "host" | "srflx" | "prflx" | "relay" | None (ICEv6)
    grammar: str
    related: Endpoint | None = None
    tcptype: str | None = None  # "active" | "passive" | "so"
    weight: float | None = None  # ICEv6 q-value as written (0.850)
    username: str | None = None  # ICEv6 per-candidate username (base64 text)
    password: str | None = None  # ICEv6 per-candidate password (base64 text)
    extensions: tuple[tuple[str, str], ...] = ()
    line: str = ""
    source: SourceRef | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteCandidate:
    """One entry of a=remote-candidates (component, address) or ICEv6 a=remote-candidate."""

    component: int | None
    address: Endpoint | None
    username: str | None = None  # ICEv6 form names the candidate by username


@dataclass(slots=True, kw_only=True)
class MediaStream:
    """One m= section with its ICE parameters (session-level values already inherited)."""

    index: int  # position of the m= line in its SDP, from 0
    media: str  # "audio" | "video" | "applicationsharing" | "data" | ...
    port: int
    protocol: str  # "RTP/AVP", "UDP/TLS/RTP/SAVPF", "TCP/RTP/AVP", ...
    connection: str | None = None  # c= address in effect
    mid: str | None = None
    label: str | None = None  # a=label (Lync "main-audio")
    rtcp: Endpoint | None = None  # a=rtcp in effect
    ice_ufrag: str | None = None
    ice_pwd: str | None = None
    ice_lite: bool = False
    ice_options: tuple[str, ...] = ()
    candidates: list[Candidate] = field(default_factory=list)
    remote_candidates: list[RemoteCandidate] = field(default_factory=list)
    attributes: list[tuple[str, str]] = field(default_factory=list)  # every a= kept, in order
    bundled_with: int | None = None  # RFC 8843: index of the m-line whose transport this one shares


@dataclass(slots=True, kw_only=True)
class SessionDescription:
    """One SDP body (one part of a multipart body counts as one)."""

    grammar: str  # "rfc5245" | "ms-ice19" | "ms-icev6" | "none" (no candidates)
    origin: str | None = None  # o= line value
    media: list[MediaStream] = field(default_factory=list)
    fallback: bool = False  # Content-Disposition carried ms-proxy-2007fallback
    source: SourceRef | None = None
    problems: list[str] = field(default_factory=list)  # "line 14: bad candidate: ..."


@dataclass(slots=True, kw_only=True)
class SdpExchange:
    """One offer or answer as it crossed the wire.

    `role` is "offer", "answer" or "final-offer" (the re-INVITE carrying
    a=remote-candidates). `agent` names the endpoint that wrote it: the From
    side of the dialog is "caller"; answers are "callee:<to-tag or epid>", so
    MPOP answers from several endpoints stay apart.
    """

    role: str
    agent: str
    sip_method: str | None  # "INVITE", "ACK", or None for a response
    sip_status: int | None  # 183, 200, ... for responses
    bodies: list[SessionDescription] = field(default_factory=list)  # multipart: every body
    source: SourceRef | None = None
    peer: str | None = None  # for requests: the agent addressed ("callee:<epid or To-tag>"), once known


@dataclass(slots=True, kw_only=True)
class Call:
    """A SIP dialog set (one Call-ID), or one user-supplied offer/answer pair."""

    call_id: str
    exchanges: list[SdpExchange] = field(default_factory=list)
    events: list[tuple[SourceRef, str]] = field(default_factory=list)  # "INVITE", "183", "BYE: ..."
    diagnostics: list[DiagnosticHeader] = field(default_factory=list)
    # what the Microsoft diagnostics among them say, read once as the SIP message is loaded
    client_reports: list[ClientReport] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayCredentials:
    """MRAS credentialsResponse: long-term TURN credentials and the relays they work on."""

    username: str
    password: str
    duration_minutes: int | None
    relays: tuple[tuple[str, str, int, str], ...]  # (location, host, port, transport "udp"|"tcp")
    source: SourceRef | None = None


@dataclass(slots=True, kw_only=True)
class SignalingModel:
    """Everything learned from SIP/SDP, in arrival order."""

    calls: list[Call] = field(default_factory=list)
    relay_credentials: list[RelayCredentials] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "trace.log:line 88: ..." kept, never raised
    agent_reports: list[AgentReport] = field(default_factory=list)  # an agent's own stats (--log dumps)
