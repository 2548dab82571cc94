"""The ICE sessions the signaling announces: one per call, media line and answering endpoint,
with each agent's credentials, candidates and role (RFC 8445 §5.3, §6.1.1; RFC 5245 §9.1.2.2)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from icetrace.ice.addresses import private_address
from icetrace.ice.model import Agent, Allocation, IceCandidate, Mapping, Stream
from icetrace.ice.usernames import icev6_key
from icetrace.records.endpoint import Endpoint
from icetrace.signaling.model import Call, MediaStream, SdpExchange, SignalingModel


@dataclass
class SignaledStream:
    stream: Stream
    caller_media: list[MediaStream]
    callee_media: list[MediaStream]
    final_offer: MediaStream | None
    callee: str


def _body_for(exchange: SdpExchange, want_v6: bool) -> list[MediaStream] | None:
    bodies = [b for b in exchange.bodies if (b.grammar == "ms-icev6") == want_v6] or exchange.bodies
    return bodies[0].media if bodies else None


def _candidates(agent: str, media: Iterable[MediaStream]) -> list[IceCandidate]:
    out: list[IceCandidate] = []
    seen: set[tuple[Endpoint, str, int]] = set()
    for m in media:
        for c in m.candidates:
            key = (c.address, c.transport, c.component)
            if key in seen:
                continue
            seen.add(key)
            out.append(
                IceCandidate(
                    agent=agent,
                    address=c.address,
                    transport=c.transport,
                    type=c.type or "unknown",
                    priority=c.priority,
                    component=c.component,
                    foundation=c.foundation if c.grammar != "ms-icev6" else icev6_key(c.username),
                    origin="sdp",
                    related=c.related,
                    signaled_at=c.source.time if c.source else None,
                    signaled_in=c.source.name if c.source else None,
                    password=c.password if c.grammar == "ms-icev6" else None,
                )
            )
    return out


def streams_from_signaling(model: SignalingModel) -> list[SignaledStream]:
    """One ICE session per call, media line and answering endpoint (MPOP gives several)."""
    out: list[SignaledStream] = []
    for call in model.calls:
        out.extend(_call_streams(call))
    return out


def _call_streams(call: Call) -> list[SignaledStream]:
    offers = [e for e in call.exchanges if e.agent == "caller" and e.role in ("offer", "final-offer")]
    answers = [e for e in call.exchanges if e.role == "answer" and e.agent != "caller"]
    if not offers:
        return []
    callees = list(dict.fromkeys(e.agent for e in answers)) or ["callee"]
    out = []
    for callee in callees:
        theirs = [e for e in answers if e.agent == callee]
        want_v6 = bool(theirs) and all(b.grammar == "ms-icev6" for e in theirs for b in e.bodies)
        caller_bodies = [_body_for(e, want_v6) or [] for e in offers if e.role == "offer"]
        # MPOP: a final offer is for the endpoint its To header names
        final = [e for e in offers if e.role == "final-offer" and e.peer in (None, callee)]
        callee_bodies = [_body_for(e, want_v6) or [] for e in theirs]
        count = max((len(b) for b in caller_bodies + callee_bodies), default=0)
        for index in range(count):
            caller_media = [b[index] for b in caller_bodies if index < len(b)]
            callee_media = [b[index] for b in callee_bodies if index < len(b)]
            if (callee_media or caller_media)[0].bundled_with is not None:
                continue  # RFC 8843: a bundled m-line shares its tag's ICE session
            final_media = _final_media(final, index, want_v6)
            out.append(_signaled_stream(call.call_id, index, callee, caller_media, callee_media, final_media))
    return out


def _final_media(final: list[SdpExchange], index: int, want_v6: bool) -> MediaStream | None:
    """Media line `index` of the last final offer that has it."""
    found = None
    for e in final:
        body = _body_for(e, want_v6)
        if body and index < len(body):
            found = body[index]
    return found


def _signaled_stream(
    call_id: str | None,
    index: int,
    callee: str,
    caller_media: list[MediaStream],
    callee_media: list[MediaStream],
    final_media: MediaStream | None,
) -> SignaledStream:
    """The two agents of one media line, with their credentials, candidates and roles."""
    first = (caller_media or callee_media)[0]
    caller = Agent(name="caller", ufrag=first.ice_ufrag if caller_media else None)
    if caller_media:
        caller.ufrag, caller.pwd = caller_media[0].ice_ufrag, caller_media[0].ice_pwd
        caller.ice_lite = caller_media[0].ice_lite
    caller.candidates = _candidates("caller", caller_media + ([final_media] if final_media else []))
    other = Agent(name=callee)
    if callee_media:
        other.ufrag, other.pwd = callee_media[0].ice_ufrag, callee_media[0].ice_pwd
        other.ice_lite = callee_media[0].ice_lite
    other.candidates = _candidates(callee, callee_media)
    # RFC 8445 §6.1.1: the offerer controls unless it is lite and the answerer full
    if caller.ice_lite and not other.ice_lite:
        caller.role, other.role = "controlled", "controlling"
        stream = Stream(call_id=call_id, index=index, media=first.media, controlling=other, controlled=caller)
    else:
        caller.role, other.role = "controlling", "controlled"
        stream = Stream(call_id=call_id, index=index, media=first.media, controlling=caller, controlled=other)
    return SignaledStream(stream, caller_media, callee_media, final_media, callee)


@dataclass(frozen=True)
class ServerHandouts:
    """What the TURN/STUN servers handed out, gathered once for every stream of a capture."""

    relayed: frozenset[Endpoint]
    mapped: dict[Endpoint, Endpoint]  # server-reflexive address -> the base the server saw it come from
    server_ips: frozenset[str]

    @classmethod
    def of(cls, allocations: list[Allocation], mappings: list[Mapping]) -> ServerHandouts:
        return cls(
            frozenset(a.relayed for a in allocations if a.relayed is not None),
            {m.mapped: m.base for m in mappings},
            frozenset({a.server.ip for a in allocations} | {m.server.ip for m in mappings}),
        )


def infer_types(stream: Stream, handouts: ServerHandouts) -> None:
    """ICEv6 candidates carry no typ: infer it from what the TURN/STUN servers handed out."""
    relayed, mapped, server_ips = handouts.relayed, handouts.mapped, handouts.server_ips
    for agent in (stream.controlling, stream.controlled):
        for c in agent.candidates if agent else []:
            if c.type != "unknown":
                continue
            if c.address in relayed or c.address.ip in server_ips:
                c.type = "relay"
            elif c.address in mapped:
                c.type = "srflx"
                if c.related is None:
                    c.related = mapped[c.address]  # the base the server saw it come from"
            elif private_address(c.address.ip):
                c.type = "host"
