"""The correlator: STUN records + signaling -> agents, candidates, pairs, nomination, outcome.

Rules: RFC 8445 §6-8 (pairs, checks, nomination), RFC 5245 §8 (aggressive
nomination, updated offer), RFC 8656 §10-12 (relayed data), [MS-TURN] (MAPPED-ADDRESS
is the relayed address), [MS-ICE2] (USERNAME padding), [MS-ICE] (binary usernames).
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from dissectors.demux import TURN_PORTS
from icetrace.ice.addresses import private_address as private_address  # re-exported
from icetrace.ice.directions import vantage_notes
from icetrace.ice.far_ends import is_ice_check
from icetrace.ice.integrity import Integrity, KeyContext, check_key, verify, verify_checks, verify_turn
from icetrace.ice.midcall import mark_mid_call
from icetrace.ice.model import Agent, Allocation, Component, IceCandidate, Mapping, NatMapping, Pair, Stream
from icetrace.ice.priority import component_from_priority, pair_priority
from icetrace.ice.transactions import Transaction, attach_icmp, match_transactions, merge_views, orphan_responses
from icetrace.ice.views import (
    MIDDLE,
    SENDER,
    answer_ms,
    capture_beside,
    nat_mappings,
    ordered,
    round_trip_ms,
    transmissions,
)
from icetrace.records.endpoint import Endpoint
from icetrace.records.icmp_error import IcmpError
from icetrace.records.media_flow import MediaFlow
from icetrace.records.relayed import RelayedCount, RelayedCounter
from icetrace.records.stun_record import RelayHop, StunRecord
from icetrace.records.vocabulary import NominationStyle, PairState, SelectedBecause, StreamOutcome
from icetrace.signaling.model import Call, Candidate, MediaStream, SdpExchange, SignalingModel

OUTBOUND_VIA = ("send-indication", "ms-send-request")


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """An ICE connectivity check: its transaction, the stream and pair it belongs to when known,
    and the name of the agent that sent it (None when the USERNAME names no agent we know)."""

    transaction: Transaction
    stream: Stream | None
    pair: Pair | None
    sender: str | None


ChecksByPair = dict[int, list[tuple[Transaction, str | None]]]  # by id(pair): (check, sender)


@dataclass
class Reconstruction:
    """Everything the correlator worked out, for tables, report and diagnosis."""

    records: list[StunRecord]
    transactions: list[Transaction]
    allocations: list[Allocation]
    mappings: list[Mapping]
    streams: list[Stream]
    checks: list[Check]
    media: list[MediaFlow]
    vantage: list[str] = field(default_factory=list)
    signaling: SignalingModel | None = None
    capture_end: float = 0.0
    nat_mappings: list[NatMapping] = field(default_factory=list)  # revealed by checks seen at two taps
    orphans: list[StunRecord] = field(default_factory=list)  # responses to requests not captured
    relayed_media: list[MediaFlow] = field(default_factory=list)  # TURN-relayed data, by relayed address and peer
    relayed_messages: int = 0  # the ChannelData and indications counted into relayed_media, not kept as records
    # by transaction_key: the results integrity.without_key would not give
    integrity: dict[tuple[str, int], Integrity] = field(default_factory=dict)


# -- usernames ------------------------------------------------------------------


def split_username(raw: bytes) -> tuple[str, str, str] | None:
    """(form, receiver key, sender key) of a check's USERNAME, in any of the three forms.

    RFC 8445 §7.2.2: "receiver-ufrag:sender-ufrag"; MS-ICE2 pads it with NULs;
    [MS-ICE] (ICEv6) is binary: recv-user(32) ":" comp ":" send-user(32) ":" comp.
    """
    text = raw.rstrip(b"\x00")
    if len(text) >= 67 and text[32:33] == b":":
        comp, sep, rest = text[33:].partition(b":")
        if sep and comp.isdigit() and len(rest) >= 32:
            recv = base64.b64encode(text[:32]).decode().rstrip("=")
            send = base64.b64encode(rest[:32]).decode().rstrip("=")
            return "ms-icev6", recv, send
    try:
        decoded = text.decode("ascii")
    except UnicodeDecodeError:
        return None
    if ":" in decoded and decoded.isprintable():
        recv, _, send = decoded.partition(":")
        return ("ms-ice2" if raw.endswith(b"\x00") else "rfc"), recv, send
    return None


def icev6_component(raw: bytes) -> int | None:
    """The component an [MS-ICE] USERNAME names (recv(32) ":" comp ":" send(32) ":" comp)."""
    text = raw.rstrip(b"\x00")
    if split_username(raw) is None or len(text) < 67 or text[32:33] != b":":
        return None
    comp = text[33:].partition(b":")[0]
    return int(comp) if comp.isdigit() else None


def _icev6_key(username: str | None) -> str | None:
    if not username:
        return None
    try:
        raw = base64.b64decode(username + "=" * (-len(username) % 4))
    except (binascii.Error, ValueError):
        return None
    return base64.b64encode(raw).decode().rstrip("=")


# -- gathering ------------------------------------------------------------------


def gather(records: list[StunRecord]) -> tuple[list[Allocation], list[Mapping]]:
    """Allocations (relayed addresses) and NAT mappings seen by STUN/TURN servers."""
    allocations: list[Allocation] = []
    mappings: list[Mapping] = []
    # a connectivity check's answer reflects the peer's view (a peer-reflexive address, RFC 8445
    # §7.2.5.3.1), not a STUN server's: responses carry no USERNAME, so tell them by their request
    checks = {r.transaction_id for r in records if is_ice_check(r)}
    allocated: set[tuple[Endpoint, Endpoint, str, Endpoint | None]] = set()
    for r in records:
        if r.kind != "stun" or r.relay is not None or r.cls != "success":
            continue
        if r.method == "allocate":
            if r.dialect == "ms-turn":
                relayed = r.addresses.get("MAPPED-ADDRESS")  # [MS-TURN] 2.2.2.1: the relayed address
                mapped = r.addresses.get("MS-XOR-MAPPED-ADDRESS") or r.addresses.get("XOR-MAPPED-ADDRESS")
            else:
                relayed = r.addresses.get("XOR-RELAYED-ADDRESS")
                mapped = r.addresses.get("XOR-MAPPED-ADDRESS") or r.addresses.get("MAPPED-ADDRESS")
            key = (r.dst, r.src, r.transport, relayed)
            if key in allocated:
                continue  # a retransmitted Allocate answered twice: one allocation
            allocated.add(key)
            allocations.append(
                Allocation(
                    client=r.dst,
                    server=r.src,
                    transport=r.transport,
                    relayed=relayed,
                    mapped=mapped,
                    lifetime=r.lifetime,
                    frame=r.frame,
                    dialect=r.dialect,
                )
            )
            if mapped is not None:
                mappings.append(Mapping(base=r.dst, mapped=mapped, server=r.src, frame=r.frame))
        elif r.method == "binding" and r.username is None and r.transaction_id not in checks:
            mapped = (
                r.addresses.get("XOR-MAPPED-ADDRESS")
                or r.addresses.get("MS-XOR-MAPPED-ADDRESS")
                or r.addresses.get("MAPPED-ADDRESS")
            )
            if mapped is not None:
                mappings.append(Mapping(base=r.dst, mapped=mapped, server=r.src, frame=r.frame))
    return allocations, mappings


def effective_addresses(
    record: StunRecord, relayed_by_leg: dict[tuple[Endpoint, Endpoint], Endpoint]
) -> tuple[Endpoint, Endpoint, bool]:
    """Where a message really went between the ICE agents (RFC 8656 §10-12).

    A check wrapped in a Send indication or ChannelData leaves the relay from the
    client's relayed address towards the peer; one in a Data indication came from
    the peer to the relayed address.
    """
    hop = record.relay
    if hop is None:
        return record.src, record.dst, False
    src, dst = hop_addresses(hop, record.src, relayed_by_leg)
    return src, dst, True


def hop_addresses(
    hop: RelayHop, sender: Endpoint, relayed_by_leg: dict[tuple[Endpoint, Endpoint], Endpoint]
) -> tuple[Endpoint, Endpoint]:
    """(source, destination) between relayed address and peer of what `sender` sent through `hop`."""
    relayed = relayed_by_leg.get((hop.client, hop.server))
    if relayed is None:
        # the client may send through another address of the same relay (MS Edge pools)
        same_client = [r for (client, _server), r in relayed_by_leg.items() if client == hop.client]
        relayed = same_client[-1] if same_client else _unknown_relayed(hop.server.ip)
    peer = hop.peer or _UNKNOWN_PEER
    outbound = hop.via in OUTBOUND_VIA or (hop.via in ("channeldata", "ms-multiplexed") and sender == hop.client)
    return (relayed, peer) if outbound else (peer, relayed)


_UNKNOWN_PEER = Endpoint("0.0.0.0", 0)


@functools.lru_cache(maxsize=1024)
def _unknown_relayed(server_ip: str) -> Endpoint:
    """A relayed address whose allocation the capture lacks: the server's IP, port 0 (one object per
    server, not one per relayed check)."""
    return Endpoint(server_ip, 0)


def relayed_media(
    counts: Iterable[RelayedCount], records: list[StunRecord], relayed_by_leg: dict[tuple[Endpoint, Endpoint], Endpoint]
) -> list[MediaFlow]:
    """Media relayed through TURN, per direction between relayed address and peer, by what it carried.

    ChannelData (RFC 8656 §12) and Send/Data indications (§11; MS-TURN Send request and Data
    indication) that carried something other than a check are the call's media on a relayed pair.
    The packet source only sees them on the client-to-relay leg; here they get the addresses
    of the pair they belong to. A channel's client and peer come from its ChannelBind; without
    one in the capture (it started mid-call) the side on a TURN port is the server.
    """
    binds = _channel_binds(records)
    flows: dict[tuple[Endpoint, Endpoint, str, str, Endpoint, Endpoint | None, int | None], list[float]] = {}
    for c in counts:
        client, peer = _client_and_peer(c, binds)
        server = c.dst if client == c.src else c.src
        src, dst = hop_addresses(
            RelayHop(via=c.via, client=client, server=server, peer=peer, channel=c.channel), c.src, relayed_by_leg
        )
        key = (src, dst, c.kind, c.via, server, peer, c.channel)
        entry = flows.get(key)
        if entry is None:
            flows[key] = [c.first_frame, c.first_time, c.last_frame, c.last_time, c.packets, c.bytes]
        else:
            # time, then frame: the same answer whatever order the counts come in
            if (c.first_time, c.first_frame) < (entry[1], entry[0]):
                entry[0:2] = [c.first_frame, c.first_time]
            if (c.last_time, c.last_frame) > (entry[3], entry[2]):
                entry[2:4] = [c.last_frame, c.last_time]
            entry[4] += c.packets
            entry[5] += c.bytes
    out = [
        MediaFlow(
            src=src,
            dst=dst,
            transport="udp",
            kind=kind,
            first_frame=int(v[0]),
            first_time=v[1],
            last_frame=int(v[2]),
            last_time=v[3],
            packets=int(v[4]),
            bytes=int(v[5]),
            relay_via=via,
            relay_server=server,
            relay_peer=peer,
            channel=channel,
        )
        for (src, dst, kind, via, server, peer, channel), v in flows.items()
    ]
    return sorted(out, key=lambda f: (f.first_frame, str(f.src), f.kind))


def _channel_binds(records: list[StunRecord]) -> dict[tuple[Endpoint, Endpoint, int], Endpoint]:
    """(client, server, channel) -> peer, from the ChannelBind requests in the capture."""
    binds: dict[tuple[Endpoint, Endpoint, int], Endpoint] = {}
    for r in records:
        if r.method == "channel-bind" and r.cls == "request" and r.relay is None and r.channel_number is not None:
            peer = r.addresses.get("XOR-PEER-ADDRESS")
            if peer is not None:
                binds[(r.src, r.dst, r.channel_number)] = peer
    return binds


def _client_and_peer(
    c: RelayedCount, binds: dict[tuple[Endpoint, Endpoint, int], Endpoint]
) -> tuple[Endpoint, Endpoint | None]:
    """A count's TURN client and peer: as counted, else from its channel's ChannelBind, else the
    side off the TURN ports is the client."""
    client, peer = c.client, c.peer
    if c.channel is not None and (client is None or peer is None):
        if (c.src, c.dst, c.channel) in binds:
            client, peer = c.src, binds[(c.src, c.dst, c.channel)]
        elif (c.dst, c.src, c.channel) in binds:
            client, peer = c.dst, binds[(c.dst, c.src, c.channel)]
        elif client is None:
            client = c.src if c.dst.port in TURN_PORTS and c.src.port not in TURN_PORTS else c.dst
    assert client is not None
    return client, peer


# -- signaling -> streams ---------------------------------------------------------


@dataclass
class _SignaledStream:
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
                    foundation=c.foundation if c.grammar != "ms-icev6" else _icev6_key(c.username),
                    origin="sdp",
                    related=c.related,
                    signaled_at=c.source.time if c.source else None,
                    password=c.password if c.grammar == "ms-icev6" else None,
                )
            )
    return out


def streams_from_signaling(model: SignalingModel) -> list[_SignaledStream]:
    """One ICE session per call, media line and answering endpoint (MPOP gives several)."""
    out: list[_SignaledStream] = []
    for call in model.calls:
        out.extend(_call_streams(call))
    return out


def _call_streams(call: Call) -> list[_SignaledStream]:
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
) -> _SignaledStream:
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
    return _SignaledStream(stream, caller_media, callee_media, final_media, callee)


# -- the correlation ----------------------------------------------------------------


class _Session:
    def __init__(self, stream: Stream, signaled: _SignaledStream | None) -> None:
        self.stream = stream
        self.signaled = signaled
        self.pairs: dict[tuple[Endpoint, Endpoint, str], Pair] = {}
        self.use_candidate_requests = 0
        self.controlling_requests = 0
        self.icev6_agents: dict[str, Agent] = {}  # [MS-ICE] candidate username -> its agent

    def agents(self) -> list[Agent]:
        return [a for a in (self.stream.controlling, self.stream.controlled) if a is not None]

    def agent_by_key(self, key: str, form: str) -> Agent | None:
        if form == "ms-icev6" and key in self.icev6_agents:
            return self.icev6_agents[key]
        for agent in self.agents():
            if form == "ms-icev6":
                if any(c.foundation == key for c in agent.candidates):
                    return agent
            elif agent.ufrag == key:
                return agent
        return None


class _CheckMatcher:
    """Finds the ICE session a check's USERNAME belongs to: a signaled one, or one made up from the
    two ufrags when no signaling fits (remembered, so later checks of the pair find it)."""

    def __init__(self, sessions: list[_Session], icev6_sides: _Icev6Calls) -> None:
        self.sessions = sessions
        self.signaled_by_ufrag = _index_by_ufrag(sessions)
        self.matching: dict[tuple[str, str, str], list[_Session]] = {}  # signaled sessions a USERNAME fits
        self.by_ufrags: dict[frozenset[str], _Session] = {}
        self.icev6_sides = icev6_sides
        self.icev6_sessions: dict[int, _Session] = {}

    def session_for(self, t: Transaction, form: str, recv_key: str, send_key: str) -> _Session:
        if form == "ms-icev6":
            # ICEv6 names candidates, not agents, and candidates are learnt as checks go: search
            session = _find_session(_matching(self.sessions, form, recv_key, send_key), t)
            if session is None and send_key in self.icev6_sides.side:
                session = _icev6_session(self.sessions, self.icev6_sessions, self.icev6_sides, send_key)
        else:
            key3 = (form, recv_key, send_key)
            if key3 not in self.matching:
                self.matching[key3] = _matching(self.signaled_by_ufrag.get(recv_key, []), form, recv_key, send_key)
            session = _find_session(self.matching[key3], t)
        if session is not None:
            return session
        key = frozenset((recv_key, send_key))
        found = self.by_ufrags.get(key)
        if found is None:
            a, b = Agent(name=f"ufrag:{send_key}", ufrag=send_key), Agent(name=f"ufrag:{recv_key}", ufrag=recv_key)
            found = _Session(Stream(call_id=None, index=None, media=None, controlling=a, controlled=b), None)
            self.by_ufrags[key] = found
            self.sessions.append(found)
        return found


def correlate(
    records: list[StunRecord],
    signaling: SignalingModel | None = None,
    media: list[MediaFlow] | None = None,
    capture_end: float | None = None,
    icmp_errors: list[IcmpError] | None = None,
    relayed: Iterable[RelayedCount] = (),
) -> Reconstruction:
    """Rebuild every ICE session found in the records (and the signaling, when given).

    Relayed media among the records is counted (`relayed` holds what the reader counted already)."""
    counter = RelayedCounter()
    records = sorted((r for r in records if not counter.add(r)), key=lambda r: (r.time, r.frame))
    end = capture_end if capture_end is not None else (records[-1].time if records else 0.0)
    allocations, mappings = gather(records)
    relayed_by_leg = {(a.client, a.server): a.relayed for a in allocations if a.relayed is not None}
    transactions = _transactions(records, relayed_by_leg, end, icmp_errors or [])
    signaled = streams_from_signaling(signaling) if signaling else []
    server_ips = {a.server.ip for a in allocations} | {m.server.ip for m in mappings}
    for s in signaled:
        _infer_types(s.stream, allocations, mappings, server_ips)
    known = _KnownAddresses({a.relayed for a in allocations if a.relayed is not None}, {m.mapped for m in mappings})
    matcher = _CheckMatcher([_Session(s.stream, s) for s in signaled], _icev6_sides(transactions))
    checks = [c for t in transactions if (c := _check(matcher, t, known)) is not None]
    _vantage_from_timing(checks)
    found_mappings = nat_mappings(transactions)
    _alias_across_nats(matcher.sessions, found_mappings)
    checks_by_pair = _checks_by_pair(checks)
    relayed_counts = [*relayed, *counter.counts()]
    through_relays = relayed_media(relayed_counts, records, relayed_by_leg)
    carried = MediaIndex([*(media or []), *through_relays])
    ended_early: list[str] = []
    for session in matcher.sessions:
        _final_offer(session, known.relayed, known.mapped)
        _finish(session, carried, checks_by_pair)
        ended_early += _ended_early(session.stream, checks_by_pair, end)
    streams = [session.stream for session in matcher.sessions]
    reconstruction = Reconstruction(
        records, transactions, allocations, mappings, streams, checks, media or [], signaling=signaling, capture_end=end
    )
    reconstruction.relayed_media = through_relays
    reconstruction.relayed_messages = sum(c.packets for c in relayed_counts)
    reconstruction.integrity = verify_turn(transactions, signaling.relay_credentials if signaling else [])
    reconstruction.integrity.update(verify_checks(_key_contexts(checks)))
    reconstruction.nat_mappings = found_mappings
    reconstruction.orphans = orphan_responses(records, transactions)
    mark_mid_call(reconstruction)
    reconstruction.vantage = vantage_point(reconstruction) + ended_early + vantage_notes(reconstruction)
    return reconstruction


def _transactions(
    records: list[StunRecord],
    relayed_by_leg: dict[tuple[Endpoint, Endpoint], Endpoint],
    end: float,
    icmp_errors: list[IcmpError],
) -> list[Transaction]:
    """The records' transactions, between effective addresses (a relayed check's relayed address and
    peer), one per check seen at several points, with the ICMP errors that quote them."""
    effective = [(r, *effective_addresses(r, relayed_by_leg)) for r in records]
    transactions = merge_views(match_transactions(effective, end))
    attach_icmp(transactions, icmp_errors)
    return transactions


@dataclass(frozen=True)
class _KnownAddresses:
    """Relayed addresses the TURN servers allocated, and addresses STUN servers saw as mapped."""

    relayed: set[Endpoint]
    mapped: set[Endpoint]


def _check(matcher: _CheckMatcher, t: Transaction, known: _KnownAddresses) -> Check | None:
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


def _key_contexts(
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


def _infer_types(stream: Stream, allocations: list[Allocation], mappings: list[Mapping], server_ips: set[str]) -> None:
    """ICEv6 candidates carry no typ: infer it from what the TURN/STUN servers handed out."""
    relayed = {a.relayed for a in allocations}
    mapped = {m.mapped: m.base for m in mappings}
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
            elif _private(c.address.ip):
                c.type = "host"


def _index_by_ufrag(sessions: list[_Session]) -> dict[str, list[_Session]]:
    """Signaled sessions by each agent's ufrag, in session order: a busy capture holds thousands
    of calls, and searching them all for every check made correlation quadratic."""
    index: dict[str, list[_Session]] = {}
    for session in sessions:
        for ufrag in {a.ufrag for a in session.agents() if a.ufrag}:
            index.setdefault(ufrag, []).append(session)
    return index


def _matching(sessions: list[_Session], form: str, recv_key: str, send_key: str) -> list[_Session]:
    """The signaled sessions with two different agents named by a check's USERNAME."""
    out = []
    for s in sessions:
        if not s.signaled:
            continue
        receiver, sender = s.agent_by_key(recv_key, form), s.agent_by_key(send_key, form)
        if receiver and sender and receiver is not sender:
            out.append(s)
    return out


def _find_session(matches: list[_Session], t: Transaction) -> _Session | None:
    if len(matches) > 1:
        # shared ufrags across media lines: the one whose candidates hold these addresses
        for s in matches:
            addresses = {c.address for a in s.agents() for c in a.candidates}
            if t.src in addresses or t.dst in addresses:
                return s
    return matches[0] if matches else None


@dataclass
class _Icev6Calls:
    """[MS-ICE] candidate usernames grouped into calls, and each call's keys into its two agents."""

    side: dict[str, tuple[int, int]]  # key -> (call, side)
    members: dict[int, dict[int, list[str]]]  # call -> side -> keys, in order of appearance


def _icev6_sides(transactions: list[Transaction]) -> _Icev6Calls:
    """Group [MS-ICE] per-candidate credentials into agents and calls from the checks alone.

    A check's USERNAME names one candidate of each agent, so its two keys are on opposite sides.
    Keys used from, or checked at, one transport address belong to the agent owning that
    socket (a server-reflexive candidate is checked from its base: libnice in OC2007 mode sends
    checks for its host and srflx candidates from one socket). Every agent a side checked or was
    checked by is that side's single peer.
    """
    parent: dict[object, object] = {}

    def find(x: object) -> object:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: object, b: object) -> bool:
        ra, rb = find(a), find(b)
        if ra == rb:
            return False
        parent[rb] = ra
        return True

    checks: list[tuple[str, str]] = []
    for t in transactions:
        req = t.request
        if req.method != "binding" or req.username is None:
            continue
        parsed = split_username(req.username)
        if parsed is None or parsed[0] != "ms-icev6":
            continue
        _, recv, send = parsed
        union(("at", t.src), ("key", send))
        union(("at", t.dst), ("key", recv))
        checks.append((send, recv))
    changed = True
    while changed:
        changed = False
        peer_of: dict[object, object] = {}
        for send, recv in checks:
            for me, other in ((send, recv), (recv, send)):
                known = peer_of.setdefault(find(("key", me)), ("key", other))
                changed = union(known, ("key", other)) or changed
    agent_of = {key: find(("key", key)) for pair in checks for key in pair}
    for send, recv in checks:  # a call: two agents joined by checks (a second forest, over agents)
        union(("call", agent_of[send]), ("call", agent_of[recv]))
    numbers: dict[object, int] = {}
    out = _Icev6Calls({}, {})
    for send, recv in checks:
        for key in (send, recv):
            if key in out.side:
                continue
            number = numbers.setdefault(find(("call", agent_of[key])), len(numbers))
            sides = out.members.setdefault(number, {})
            side = next((i for i, keys in sides.items() if agent_of[keys[0]] == agent_of[key]), len(sides))
            sides.setdefault(side, []).append(key)
            out.side[key] = (number, side)
    return out


def _icev6_session(
    sessions: list[_Session], by_call: dict[int, _Session], calls: _Icev6Calls, sender_key: str
) -> _Session:
    """The session of an [MS-ICE] call: the signaled one that knows any of its candidates, or one
    built from the wire with an agent per side (no roles: [MS-ICE] checks carry none)."""
    call, sender_side = calls.side[sender_key]
    if call in by_call:
        return by_call[call]
    members = calls.members[call]
    session: _Session | None = None
    agents: dict[int, Agent] = {}
    for candidate in sessions:
        if candidate.signaled is None:
            continue
        for side, keys in members.items():
            for agent in candidate.agents():
                if any(c.foundation in keys for c in agent.candidates):
                    agents[side] = agent
        if agents:
            session = candidate
            others = [a for a in candidate.agents() if a not in agents.values()]
            for side in members:
                if side not in agents and others:
                    agents[side] = others.pop(0)
            break
        agents = {}
    if session is None:
        order = [sender_side] + [side for side in members if side != sender_side]
        agents = {side: Agent(name=f"icev6:{members[side][0]}") for side in order}
        first, second = (agents[side] for side in order[:2]) if len(order) > 1 else (agents[order[0]], None)
        session = _Session(Stream(call_id=None, index=None, media=None, controlling=first, controlled=second), None)
        sessions.append(session)
    for side, keys in members.items():
        if side in agents:
            for key in keys:
                session.icev6_agents[key] = agents[side]
    by_call[call] = session
    return session


def _sender_controls(session: _Session, sender: Agent, receiver: Agent) -> bool:
    """Whether a check went from the controlling side. With no role known for either agent
    ([MS-ICE] checks carry no ICE-CONTROLLING/CONTROLLED) the stream's first agent is taken as
    the controlling side, so checks both ways on one path land on one pair."""
    if sender.role is None and receiver.role is None:
        return sender is session.stream.controlling
    return sender.role != "controlled"


def _learn_role(session: _Session, sender: Agent, receiver: Agent, req: StunRecord) -> None:
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


def _reorient_pairs(session: _Session) -> None:
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


def _candidate(
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
    found = _known_candidate(agent, address, transport, wanted)
    if found is not None:
        if found.component is None and wanted is not None:
            found.component = wanted
        if found.check_priority is None and priority_hint:
            found.check_priority = priority_hint
        return found
    signaled = any(c.origin == "sdp" for c in agent.candidates)
    if address in relayed_addresses or address.port == 0:
        ctype = "relay"
    elif address in mapped_addresses:
        ctype = "srflx"  # a STUN/TURN server reported this very address as a mapping
    elif signaled:
        ctype = "prflx"  # RFC 8445 §7.2.5.3.1 / §7.3.1.3: not signaled, learned from a check
    else:
        # nothing signaled: a private address is taken as the agent's host; a public one may be a
        # host, a server-reflexive or a peer-reflexive candidate, and the wire cannot tell which
        ctype = "host" if _private(address.ip) else "unknown"
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


_private = private_address


def _pair_for(
    session: _Session,
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
    local = _candidate(sender, view.src, transport, req.priority, req.frame, relayed_addresses, mapped_addresses)
    # the component the sender signaled for its candidate; else the one its check's PRIORITY encodes
    # (RFC 8445 §5.1.2.1: low byte 256 - component id), read the same way on both agents' checks;
    # else the one an [MS-ICE] binary USERNAME names
    encoded = component_from_priority(req.priority) if req.priority else None
    component = local.component if local.origin == "sdp" and local.component else encoded or local.component
    remote = _candidate(receiver, view.dst, transport, None, req.frame, relayed_addresses, mapped_addresses, component)
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


def _account(session: _Session, pair: Pair, t: Transaction, sender: Agent, receiver: Agent) -> None:
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
    if from_controlling:
        session.controlling_requests += 1
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
    nominates = t.request.use_candidate or t.request.nomination is not None
    if from_controlling and nominates:
        session.use_candidate_requests += 1
        # RFC 8445 §7.2.5.3.4 / §8.1.1: nominated once a check carrying USE-CANDIDATE succeeds
        if outcome == "success" and not pair.nominated:
            pair.nominated = True
            pair.nominated_by = "nomination" if t.request.nomination is not None else "use-candidate"
            pair.nomination_frame = t.response.frame if t.response else None
    pair.outcomes.append(outcome)


def _vantage_from_timing(checks: list[Check]) -> None:
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


def _alias_across_nats(sessions: list[_Session], mappings: list[NatMapping]) -> None:
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


def _final_offer(session: _Session, relayed: set[Endpoint], mapped: set[Endpoint]) -> None:
    """RFC 5245 §9.1.2.2 / MS-ICE2: the controlling agent's updated offer names the selected pairs."""
    signaled = session.signaled
    if signaled is None or signaled.final_offer is None:
        return
    final = signaled.final_offer
    stream = session.stream
    caller = stream.controlling if stream.controlling and stream.controlling.name == "caller" else stream.controlled
    callee = stream.controlled if caller is stream.controlling else stream.controlling
    if caller is None or callee is None:
        return
    per_component: dict[int | None, int] = {}
    for remote in final.remote_candidates:
        per_component[remote.component] = per_component.get(remote.component, 0) + 1
    if any(count > 1 and component is not None for component, count in per_component.items()):
        # RFC 5245 §15.2 names one remote candidate per component; a list of all of them
        # (seen from baresip 1.0) says nothing about the selection
        session.stream.final_offer_ignored = True
        return
    for remote in final.remote_candidates:
        if remote.address is not None:
            component = remote.component
            local_c = _default_candidate(final, component)
            if local_c is None:
                continue
            _nominate_final(session, caller, callee, local_c.address, remote.address, local_c.transport)
        else:
            # ICEv6 a=remote-candidate:<username>: every component of that candidate
            target = _icev6_key(remote.username)
            for cand in callee.candidates:
                if cand.foundation == target:
                    local_c = _default_candidate(final, cand.component)
                    if local_c is not None:
                        _nominate_final(session, caller, callee, local_c.address, cand.address, local_c.transport)


def _default_candidate(media: MediaStream, component: int | None) -> Candidate | None:
    """RFC 5245 §9.1.2.2: the updated offer puts the selected local candidate in m=/c= (and a=rtcp)."""
    if component == 1 and media.connection:
        wanted: Endpoint | None = Endpoint(media.connection, media.port)
    elif component == 2 and media.rtcp is not None:
        wanted = media.rtcp
    else:
        wanted = None
    same = [c for c in media.candidates if c.component == component]
    for c in same:
        if wanted is not None and c.address == wanted:
            return c
    return same[0] if same else None


def _nominate_final(
    session: _Session, caller: Agent, callee: Agent, local: Endpoint, remote: Endpoint, transport: str
) -> None:
    caller_controls = session.stream.controlling is caller
    key = (local, remote, transport) if caller_controls else (remote, local, transport)
    pair = session.pairs.get(key) or _equivalent_pair(session, caller, callee, local, remote, caller_controls)
    if pair is None:
        # checks for it were not captured (vantage point): it exists because the offer says so
        a = _candidate(caller, local, transport, None, 0, set(), set())
        b = _candidate(callee, remote, transport, None, 0, set(), set())
        controlling, controlled = (a, b) if caller_controls else (b, a)
        priority = None
        if controlling.priority is not None and controlled.priority is not None:
            priority = pair_priority(controlling.priority, controlled.priority)
        pair = Pair(
            controlling=controlling,
            controlled=controlled,
            transport=transport,
            component=controlling.component or controlled.component,
            priority=priority,
        )
        session.pairs[key] = pair
    pair.in_final_offer = True
    if not pair.nominated:
        pair.nominated = True
        pair.nominated_by = "final-offer"


def _aliases(agent: Agent, address: Endpoint) -> set[Endpoint]:
    """A candidate's address and, for a server-reflexive one, its base: a LAN capture sees the base."""
    out = {address}
    for c in agent.candidates:
        if c.address == address and c.type == "srflx" and c.related is not None:
            out.add(c.related)
    return out


def _equivalent_pair(
    session: _Session, caller: Agent, callee: Agent, local: Endpoint, remote: Endpoint, caller_controls: bool
) -> Pair | None:
    mine, theirs = _aliases(caller, local), _aliases(callee, remote)
    for pair in session.pairs.values():
        a, b = (pair.controlling.address, pair.controlled.address)
        if not caller_controls:
            a, b = b, a
        if a in mine and b in theirs:
            return pair
    return None


def _finish(session: _Session, media: MediaIndex, checks_by_pair: ChecksByPair) -> None:
    """Once every check is accounted: each pair's state, each component's selected pair, the
    stream's nomination style and outcome, and the media on the selected pairs."""
    stream = session.stream
    for pair in session.pairs.values():
        pair.state = _pair_state(pair)
    stream.components = _components(session, media, checks_by_pair)
    stream.nomination_style = _nomination_style(session)
    stream.outcome = _stream_outcome(stream, list(session.pairs.values()))
    chosen_pairs = [c.selected for c in stream.components if c.selected]
    flows = {id(f): f for p in chosen_pairs for f in media.on(p)}
    stream.media_flows = sorted(flows.values(), key=lambda f: (f.first_frame, str(f.src), f.kind))


def _pair_state(pair: Pair) -> PairState:
    outcomes = pair.outcomes
    if "success" in outcomes:
        return "succeeded"
    if outcomes and all(o in ("error", "integrity-failure", "timeout", "icmp-error") for o in outcomes):
        return "failed"
    if pair.nominated_by == "final-offer" and not outcomes:
        return "succeeded"  # the controlling agent only offers pairs it validated
    return "in-progress"


def _components(session: _Session, media: MediaIndex, checks_by_pair: ChecksByPair) -> list[Component]:
    """The pairs by component, highest priority first, each component with its selected pair."""
    stream = session.stream
    by_component: dict[int | None, Component] = {}
    for pair in sorted(session.pairs.values(), key=lambda p: -(p.priority or 0)):
        by_component.setdefault(pair.component, Component(component=pair.component)).pairs.append(pair)
    components = sorted(by_component.values(), key=lambda c: c.component or 0)
    controlling = stream.controlling.name if stream.controlling else None
    for component in components:
        evidence = [_Evidence.of(p, checks_by_pair.get(id(p), []), controlling, media) for p in component.pairs]
        chosen = select(evidence)
        if chosen is not None:
            component.selected = chosen.pair
            chosen.pair.selected_because = chosen.because
            component.selected_by = "media" if chosen.because == "media-only" else chosen.pair.nominated_by
    return components


def _nomination_style(session: _Session) -> NominationStyle:
    if session.use_candidate_requests:
        return "aggressive" if session.use_candidate_requests == session.controlling_requests else "regular"
    if any(p.nominated_by == "final-offer" for p in session.pairs.values()):
        return "final-offer"
    return "none"


def _stream_outcome(stream: Stream, pairs: list[Pair]) -> StreamOutcome:
    if stream.components and all(c.selected is not None for c in stream.components if c.component in (1, None)):
        return "connected" if any(c.selected for c in stream.components) else "unknown"
    if pairs and all(p.state == "failed" for p in pairs):
        return "failed"
    return "unknown"


# -- selection --------------------------------------------------------------------

MEDIA_KINDS = frozenset(("rtp", "rtcp", "dtls", "zrtp", "data", "channeldata", "turn-data"))
"""What proves a pair carried the call (RFC 7983 demultiplexing): SRTP/SRTCP and RTP/RTCP by their
first byte, DTLS records (the DTLS-SRTP handshake, SCTP data channels over DTLS), ZRTP, other
application data on an ICE 5-tuple, and ChannelData that did not carry STUN."""


class MediaIndex:
    """Media flows by the addresses they leave from, so each pair finds its own without a scan."""

    def __init__(self, flows: list[MediaFlow]) -> None:
        self.by_src: dict[Endpoint, list[MediaFlow]] = {}
        for f in flows:
            self.by_src.setdefault(f.src, []).append(f)

    def on(self, pair: Pair) -> list[MediaFlow]:
        """Flows between the pair's two candidates, either way round (a srflx one also from its base)."""
        ends = pair.controlling.wire_addresses | pair.controlled.wire_addresses
        return [f for src in ends for f in self.by_src.get(src, ()) if pair.carries(f.src, f.dst)]


def _checks_by_pair(
    checks: list[Check],
) -> ChecksByPair:
    out: ChecksByPair = {}
    for check in checks:
        if check.pair is not None:
            out.setdefault(id(check.pair), []).append((check.transaction, check.sender))
    return out


@dataclass
class _Evidence:
    """What the capture shows a pair was used for, in time: successes, nominations, media."""

    pair: Pair
    successes: list[float]  # times its checks (either agent's) succeeded
    nominations: list[tuple[float, int]]  # (time the nominating check succeeded, NOMINATION value or -1)
    controlling_successes: list[float]  # times the controlling agent's checks on it succeeded
    media_last: float | None  # last media packet on it after its first success

    @classmethod
    def of(
        cls, pair: Pair, checks: list[tuple[Transaction, str | None]], controlling: str | None, media: MediaIndex
    ) -> _Evidence:
        successes: list[float] = []
        nominations: list[tuple[float, int]] = []
        from_controlling: list[float] = []
        for t, sender in checks:
            if t.outcome != "success" or t.response is None:
                continue
            when = t.response.time
            successes.append(when)
            req = t.request
            if req.ice_role == "controlling" or (req.ice_role is None and sender == controlling):
                from_controlling.append(when)
                if req.use_candidate or req.nomination is not None:
                    nominations.append((when, req.nomination if req.nomination is not None else -1))
        first = min(successes) if successes else None
        after = -1.0 if first is None and pair.in_final_offer else first
        media_last = None
        if after is not None:
            times = [f.last_time for f in media.on(pair) if f.kind in MEDIA_KINDS and f.last_time >= after]
            media_last = max(times) if times else None
        return cls(pair, sorted(successes), sorted(nominations), sorted(from_controlling), media_last)

    @property
    def kept_after_nomination(self) -> bool:
        """The controlling agent checked it again after it was nominated: re-nominations (some agents
        send USE-CANDIDATE on every check of the pair in use) or consent checks (RFC 7675)."""
        if not self.nominations:
            return False
        nominated_at = self.nominations[0][0]
        return any(t > nominated_at for t in self.controlling_successes)


@dataclass
class Selection:
    pair: Pair
    because: SelectedBecause


def select(evidence: list[_Evidence]) -> Selection | None:
    """The pair a component ended up using, by the strongest evidence the capture holds.

    RFC 8445 §8.1.1 selects the highest-priority nominated pair. A capture shows more than the
    nomination: in order, (1) a nominated pair that then carried media is the one in use;
    (2) with renomination the highest NOMINATION value wins, and a nominated pair the controlling
    agent kept checking after the other nominated pairs fell silent overrides those stale ones;
    (3) the controlling agent's updated offer names the selection (RFC 5245 §9.1.2.2);
    (4) otherwise the RFC rule. Without any nomination, (5) a succeeded pair that then carried
    media is selected: the capture may have ended, or started, before the nomination.
    """
    nominated = [e for e in evidence if e.pair.nominated and e.pair.state == "succeeded"]
    if nominated:
        return _among_nominated(nominated)
    carried = [e for e in evidence if e.pair.state == "succeeded" and e.media_last is not None]
    if carried:
        best = max(carried, key=lambda e: (e.media_last or 0.0, e.pair.priority or -1))
        return Selection(best.pair, "media-only")
    return None


def _among_nominated(nominated: list[_Evidence]) -> Selection:
    """Rules (1)-(4) of `select`, over the succeeded nominated pairs."""
    with_media = [e for e in nominated if e.media_last is not None]
    if with_media:
        best = max(with_media, key=lambda e: (e.media_last or 0.0, e.pair.priority or -1))
        return Selection(best.pair, "nominated+media")
    renominated = [e for e in nominated if any(value >= 0 for _, value in e.nominations)]
    if renominated:
        best = max(renominated, key=lambda e: max(value for _, value in e.nominations))
        return Selection(best.pair, "nominated-latest")
    kept = _kept_after_the_others(nominated)
    if kept is not None:
        return Selection(kept.pair, "nominated-latest")
    offered = [e for e in nominated if e.pair.in_final_offer]
    if offered:
        return Selection(max(offered, key=_rfc_order).pair, "final-offer")
    return Selection(max(nominated, key=_rfc_order).pair, "nominated")


def _kept_after_the_others(nominated: list[_Evidence]) -> _Evidence | None:
    """The nominated pair the controlling agent kept checking after every other one fell silent."""
    kept = [e for e in nominated if e.kept_after_nomination]
    if not kept or len(nominated) < 2:
        return None
    best = max(kept, key=lambda e: e.controlling_successes[-1])
    last_other = max((_last_activity(e) for e in nominated if e is not best), default=None)
    if last_other is None or best.controlling_successes[-1] > last_other:
        return best
    return None


def _last_activity(e: _Evidence) -> float:
    return e.successes[-1] if e.successes else -1.0


def _rfc_order(e: _Evidence) -> tuple[int, int]:
    return (e.pair.priority or -1, e.pair.nomination_frame or 0)


NOMINATION_GRACE = 10.0
"""Seconds after the last successful check within which a missing nomination may simply not have
been captured yet. RFC 8445 §8.1.1 leaves the moment to the controlling agent; in this corpus aioice
nominates at once, the Lync scenarios within 2 s, and baresip 1.0 9.4 s after its first valid pair:
an agent's habit, so the margin is wider than the slowest seen."""


def _ended_early(stream: Stream, checks_by_pair: ChecksByPair, end: float) -> list[str]:
    """A vantage note when the capture stops before a nomination could be seen."""
    pairs = [p for c in stream.components for p in c.pairs]
    if not pairs or any(p.nominated for p in pairs):
        return []
    succeeded = [
        t.response.time
        for p in pairs
        for t, _ in checks_by_pair.get(id(p), [])
        if t.outcome == "success" and t.response is not None
    ]
    if not succeeded:
        return []
    first, last = min(succeeded), max(succeeded)
    if end - last > NOMINATION_GRACE:
        return []
    stream.ended_before_nomination = True
    name = f"call {stream.call_id} stream {stream.index}" if stream.call_id else "the session"
    return [
        f"{name}: the capture ends {end - first:.1f} s after the first successful check "
        f"({end - last:.1f} s after the last): a nomination sent later is not in it"
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
            if host and any(_private(c.address.ip) for c in host):
                notes.append(f"{agent.name}: its private host address is on the wire: captured on its LAN side")
            elif srflx:
                notes.append(f"{agent.name}: seen by its NAT-mapped address: captured outside its NAT")
    wrapped = [r for r in rec.records if r.relay is not None]
    if any(r.kind == "stun" for r in wrapped):
        notes.append("TURN-wrapped checks present: the capture includes a client-to-relay leg")
    elif wrapped or any(f.channel is not None and f.relay_peer is not None for f in rec.relayed_media):
        notes.append("TURN ChannelData present: the capture includes a client-to-relay leg")
    return list(dict.fromkeys(notes))
