"""What the pictures draw, taken once from a reconstruction and its checks table: pair lanes with
their check events, the gathering transactions, SIP events, and a role name for every transport
address.

Both plots and the HTML page read this, so a timeline and a ladder of one capture always agree.
Pair fields are read through the checks DataFrame (one row per entry of `reconstruction.checks`,
in the same order) where a column exists, so the pictures follow the tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from icetrace.ice.carried_media import carried_by
from icetrace.ice.far_ends import relay_roles
from icetrace.ice.model import Pair, Stream
from icetrace.ice.reconstruction import Reconstruction
from icetrace.ice.stream_names import stream_names, stream_title
from icetrace.records.vocabulary import TransactionOutcome

# TURN methods that only carry another message or data: drawn with what they carry, not as gathering
WRAPPING_METHODS = frozenset(("send", "data", "ms-send", "ms-data"))


@dataclass(frozen=True)
class CheckEvent:
    """One mark on a pair's lane."""

    time: float
    kind: str  # request | nominating | retransmission | integrity-failure, or the TransactionOutcome ending a check
    # | integrity-failure
    frame: int
    from_controlling: bool
    rtt_ms: float | None = None


@dataclass
class MediaBand:
    first: float
    last: float
    packets: int  # both directions
    kinds: str  # "rtp+rtcp"


@dataclass
class Lane:
    """One candidate pair: its label, its events, its media."""

    stream: str  # "stream 0 audio" or "session ufrag:…"
    component: int | None
    label: str  # "host 192.168.1.10:40019 → srflx 203.0.113.20:53120"
    priority: int | None
    state: str
    nominated: bool
    selected: bool
    relayed: bool
    events: list[CheckEvent] = field(default_factory=list)
    media: MediaBand | None = None
    rtt_ms: float | None = None  # the pair's round trip as the pairs table and the report give it
    rtt_of: str | None = None  # whose checks it times: "controlling" or "controlled"

    @property
    def group(self) -> str:
        return self.stream if self.component is None else f"{self.stream}, component {self.component}"

    @property
    def rtt_text(self) -> str:
        """'rtt 60.0 ms (controlling's checks)', the same figure the text report and HTML give."""
        if self.rtt_ms is None:
            return ""
        return f"rtt {self.rtt_ms:.1f} ms" + (f" ({self.rtt_of}'s checks)" if self.rtt_of else "")


@dataclass(frozen=True)
class GatheringEvent:
    time: float
    method: str
    outcome: TransactionOutcome | Literal["challenge"]  # challenge: a TURN 401/438 asking for credentials
    frame: int
    error_code: int | None = None


@dataclass
class GatheringLane:
    label: str  # "caller host 192.168.1.100:50033 → relay server 198.51.100.20:3478"
    events: list[GatheringEvent] = field(default_factory=list)


@dataclass(frozen=True)
class SipEvent:
    time: float
    label: str  # "INVITE", "183", "final offer", "BYE"
    frame: int | None


@dataclass(frozen=True)
class SwitchEvent:
    """The pair in use moved to another (ice/switches.py)."""

    time: float
    label: str  # "switched to direct"


@dataclass
class Story:
    lanes: list[Lane]
    gathering: list[GatheringLane]
    sip: list[SipEvent]
    roles: dict[str, str]  # address text -> role ("caller host", "relay server", ...)
    t0: float  # the time every plot counts from
    headlines: list[str] = field(default_factory=list)  # each stream's cause, its first line in the report
    switches: list[SwitchEvent] = field(default_factory=list)

    @property
    def end(self) -> float:
        times = [e.time for lane in self.lanes for e in lane.events]
        times += [lane.media.last for lane in self.lanes if lane.media]
        times += [e.time for g in self.gathering for e in g.events] + [s.time for s in self.sip]
        return max(times, default=self.t0)


# TURN requests whose 401 (or 438 Stale Nonce) is the challenge for long-term credentials, not a
# failure (RFC 8489 §9.2, RFC 8656 §7.2); a Binding check's 401 is a real refusal (RFC 8445 §7.3)
CHALLENGED_METHODS = frozenset(("allocate", "refresh", "create-permission", "channel-bind", "connect"))


def is_challenge(method: str, code: int | None) -> bool:
    return code in (401, 438) and method in CHALLENGED_METHODS or (code == 401 and method.startswith("ms-"))


def endpoint_label(kind: str | None, address: str, relay_transport: str | None = None) -> str:
    """'host 10.0.0.1:5000', 'relay 198.51.100.1:4000 (TURN/TCP)'; an address no agent signaled is 'unsignaled'."""
    name = kind if kind and kind != "unknown" else "unsignaled"
    via = f" (TURN/{relay_transport.upper()})" if relay_transport and relay_transport != "udp" else ""
    return f"{name} {address}{via}"


def pair_label(p: Pair, relay_transports: dict[str, str] | None = None) -> str:
    """Controlling side first, as in the pair table; a TCP pair says so, a relay reached over TCP/TLS too."""
    over = relay_transports or {}
    ends = [
        endpoint_label(side.type, str(side.address), over.get(str(side.address)) if side.type == "relay" else None)
        for side in (p.controlling, p.controlled)
    ]
    transport = f"[{p.transport}] " if p.transport and p.transport != "udp" else ""
    return f"{transport}{ends[0]} → {ends[1]}"


def relay_transports(rec: Reconstruction) -> dict[str, str]:
    """Relayed address -> the transport its client used to reach the TURN server."""
    return {str(a.relayed): a.transport for a in rec.allocations if a.relayed is not None}


def _agent_labels(rec: Reconstruction) -> dict[str, str]:
    """Each agent's short name; a forked call's answering endpoints keep their tag ('callee bbbb')
    so that their columns stay apart."""
    names = {a.name for s in rec.streams for a in (s.controlling, s.controlled) if a is not None}
    callees = {n for n in names if n.startswith("callee:")}
    return {n: f"callee {n.partition(':')[2]}" if len(callees) > 1 and n in callees else _agent_short(n) for n in names}


def _agent_short(name: str | None) -> str:
    """'callee:bbbb' -> 'callee'; a session without signaling names its agent by ufrag ('agent 8nM3')."""
    if not name:
        return "?"
    head, _, rest = name.partition(":")
    if head in ("caller", "callee"):
        return head
    if head == "ufrag":
        name = f"agent {rest}"
    return name if len(name) <= 16 else name[:14] + "…"  # [MS-ICE] agents are named by 44-character keys


def build(rec: Reconstruction, checks: pd.DataFrame) -> Story:
    """The story of `rec`; `checks` is its checks table (one row per entry of `rec.checks`)."""
    lanes: dict[int, Lane] = {}
    ordered: list[Lane] = []
    names = stream_names(rec.streams)
    over = relay_transports(rec)
    for s in rec.streams:
        stream = names[id(s)]
        for comp in s.components:
            pairs = sorted(comp.pairs, key=lambda p: -(p.priority or 0))
            for p in pairs:
                lane = Lane(
                    stream=stream,
                    component=comp.component,
                    label=pair_label(p, over),
                    priority=p.priority,
                    state=p.state,
                    nominated=bool(p.nominated),
                    selected=comp.selected is p,
                    relayed=bool(getattr(p, "relayed", False)) or p.is_relay,
                    rtt_ms=p.rtt_ms,
                    rtt_of=p.rtt_of,
                )
                lanes[id(p)] = lane
                ordered.append(lane)
    check_ids: set[int] = set()
    unmatched: dict[tuple[str, str], Lane] = {}
    rows = checks.to_dict("records") if len(checks) == len(rec.checks) else [{} for _ in rec.checks]
    for check, row in zip(rec.checks, rows, strict=True):
        t, pair = check.transaction, check.pair
        check_ids.add(id(t))
        found = lanes.get(id(pair)) if pair is not None else None
        if found is None or pair is None:
            _unmatched(unmatched, t, row)
            continue
        from_controlling = t.src in pair.controlling.wire_addresses or (
            t.src not in pair.controlled.wire_addresses and _value(row, "ice_role", "") == "controlling"
        )
        found.events.extend(_check_events(t, row, from_controlling))
    for s in rec.streams:
        for comp in s.components:
            for p in comp.pairs:
                lanes[id(p)].media = _media_band(p, [*rec.media, *rec.relayed_media], rec.captures.tap)
    ordered += unmatched.values()
    for lane in ordered:
        lane.events.sort(key=lambda e: e.time)
    seen = dict.fromkeys(str(a) for t in rec.transactions for a in (t.src, t.dst))
    roles = with_host_sockets(address_roles(rec), list(seen))
    gathering = _gathering(rec, check_ids, roles)
    sip = sip_events(rec)
    starts = [e.time for lane in ordered for e in lane.events[:1]]
    starts += [g.events[0].time for g in gathering if g.events] + [e.time for e in sip]
    starts += [lane.media.first for lane in ordered if lane.media]
    return Story(ordered, gathering, sip, roles, min(starts, default=0.0), headlines(rec.streams), switches(rec))


def switches(rec: Reconstruction) -> list[SwitchEvent]:
    """Every move of a pair in use (ice/switches.py), as a mark on the timeline."""
    return [
        SwitchEvent(change.time, f"switched to {'relay' if change.after.is_relay else 'direct'}")
        for s in rec.streams
        for comp in s.components
        for change in comp.selection_changes
    ]


MAX_HEADLINES = 3


def wrapped(lines: list[str], width_inches: float, points: float) -> str:
    """Title lines wrapped to a figure's width: about 95 / `points` characters an inch (addresses
    and digits are wide), with room for the figure's margins."""
    import textwrap

    chars = max(40, int((width_inches - 0.5) * 95 / points))
    return "\n".join(part for line in lines for part in textwrap.wrap(line, chars, subsequent_indent="  "))


def headlines(streams: list[Stream]) -> list[str]:
    """Each stream's cause as a title line (the first MAX_HEADLINES, then how many more)."""
    out = []
    for s in streams[:MAX_HEADLINES]:
        name = stream_title(s, streams)  # sessions without signaling named apart, as in the reports
        if s.cause is not None:
            out.append(f"{name}: [{s.cause.code}] {s.cause.summary}")
    more = len(streams) - MAX_HEADLINES
    if more > 0:
        out.append(f"... and {more} more stream(s)")
    return out


def _value(row: dict[Any, Any], name: str, default: Any) -> Any:
    """A DataFrame cell, or `default` when the column is missing or the cell is NA."""
    value = row.get(name, default)
    return default if value is None or bool(pd.isna(value)) else value


def _unmatched(lanes: dict[tuple[str, str], Lane], t: Any, row: dict[Any, Any]) -> None:
    """A check the correlator could not put on a pair still gets a lane, by its addresses."""
    low, high = sorted((str(t.src), str(t.dst)))
    key = (low, high)
    if key not in lanes:
        label = f"{key[0]} → {key[1]}"
        lanes[key] = Lane("checks on no known pair", None, label, None, "unmatched", False, False, bool(t.relayed))
    from_controlling = _value(row, "ice_role", "") == "controlling"
    lanes[key].events.extend(_check_events(t, row, from_controlling))


def _check_events(t: Any, row: dict[Any, Any], from_controlling: bool) -> list[CheckEvent]:
    """A check's request, its retransmissions and what ended it, as lane marks."""
    requests = t.requests
    first = requests[0]
    kind = "nominating" if first.use_candidate else "request"
    events = [CheckEvent(first.time, kind, first.frame, from_controlling)]
    events += [CheckEvent(r.time, "retransmission", r.frame, from_controlling) for r in requests[1:]]
    outcome = str(_value(row, "outcome", t.outcome))
    rtt = _value(row, "rtt_ms", t.rtt_ms)
    if t.response is not None:
        if outcome != "integrity-failure":  # the integrity mark below stands for that answer
            events.append(CheckEvent(t.response.time, outcome, t.response.frame, from_controlling, rtt))
    else:
        last = requests[-1]
        events.append(CheckEvent(last.time, outcome, last.frame, from_controlling))
    if "bad" in (_value(row, "integrity", None), _value(row, "response_integrity", None)):
        where = t.response if _value(row, "response_integrity", None) == "bad" and t.response else first
        events.append(CheckEvent(where.time, "integrity-failure", where.frame, from_controlling))
    return events


def _media_band(p: Pair, flows: list[Any], tap_of: Callable[[int], int]) -> MediaBand | None:
    """The media a pair carried, each flow counted once (carried_media); none on a pair whose checks
    never succeeded (RFC 8445 §12: media goes on a valid pair), though it shares a socket with one."""
    if p.state != "succeeded":
        return None
    mine = carried_by(p, [f for f in flows if p.carries(f.src, f.dst)], tap_of)
    if not mine:
        return None
    kinds = "+".join(sorted({f.kind for f in mine}))
    return MediaBand(
        min(f.first_time for f in mine), max(f.last_time for f in mine), sum(f.packets for f in mine), kinds
    )


def agent_sides(rec: Reconstruction) -> dict[str, str]:
    """The side each agent is drawn on, by the name its addresses' roles carry: a controlling agent's
    as a caller's (left of the servers), a controlled one's as a callee's; a call's caller and callee
    keep theirs. An agent seen without signaling is otherwise named only by its ufrag."""
    sides: dict[str, str] = {}
    labels = _agent_labels(rec)
    for s in rec.streams:
        for agent, side in ((s.controlling, "caller"), (s.controlled, "callee")):
            if agent is not None:
                who = labels[agent.name]
                signaled = who.split(" ")[0] in ("caller", "callee")
                sides.setdefault(who, who.split(" ")[0] if signaled else side)
    return sides


def address_roles(rec: Reconstruction) -> dict[str, str]:
    """'caller host', 'caller NAT', 'caller relay', 'relay server'... for the addresses the reconstruction knows.

    A server-reflexive address is the public side of the agent's NAT; a relayed address belongs to
    the agent that allocated it; an Allocate's server is the relay (an A/V Edge for MS-TURN). An
    address the capture shows acting as a TURN server (far_ends.relay_roles) is a server whatever
    a check made of it: a relay's listening address may stand as a peer's candidate (MS multiplexed
    TURN), but what it is, is the relay.
    """
    acting = relay_roles(rec.records)
    roles: dict[str, str] = {str(s): "edge relay" if s in acting.ms else "relay server" for s in acting.servers}
    for r in rec.records:  # a relayed message's server, as the correlator placed it (a capture begun mid-call)
        if r.relay is not None:
            roles.setdefault(str(r.relay.server), "edge relay" if r.relay.via.startswith("ms-") else "relay server")
    names = {"srflx": "NAT", "relay": "relay", "prflx": "prflx", "host": "host", "unknown": ""}
    owner: dict[str, str] = {}
    labels = _agent_labels(rec)
    for s in rec.streams:
        for agent in (s.controlling, s.controlled):
            if agent is None:
                continue
            who = labels[agent.name]
            for c in agent.candidates:
                text = str(c.address)
                owner.setdefault(text, who)
                roles.setdefault(text, f"{who} {names.get(c.type, c.type)}".strip())
                if c.type == "srflx" and c.related is not None:
                    roles.setdefault(str(c.related), f"{who} host")
                    owner.setdefault(str(c.related), who)
    for a in rec.allocations:
        client = owner.get(str(a.client))
        if client is None and a.relayed is not None and str(a.relayed) in owner:
            client = owner[str(a.relayed)]  # only its relayed candidate was signaled or checked
            roles.setdefault(str(a.client), f"{client} TURN client")
        server = "edge relay" if a.dialect == "ms-turn" else "relay server"
        roles.setdefault(str(a.server), server)
        if client:
            if a.relayed is not None:
                roles.setdefault(str(a.relayed), f"{client} relay")
            if a.mapped is not None and a.mapped != a.client:
                roles.setdefault(str(a.mapped), f"{client} NAT")
    for address, role in _relaying_clients(rec, labels).items():
        roles.setdefault(address, role)
    for socket in acting.clients:
        roles.setdefault(str(socket), "TURN client")  # no agent of the capture's is known to own it
    for m in rec.mappings:
        roles.setdefault(str(m.server), "STUN server")
        base = owner.get(str(m.base))
        if base and m.mapped != m.base:
            roles.setdefault(str(m.mapped), f"{base} NAT")
    return roles


def _relaying_clients(rec: Reconstruction, labels: dict[str, str]) -> dict[str, str]:
    """The TURN client socket an agent's relayed checks left from, or the peer's reached it through,
    is that agent's: so named though its Allocate lies before the capture or went unanswered in it."""
    out: dict[str, str] = {}
    for check in rec.checks:
        request, stream = check.transaction.request, check.stream
        hop = request.relay
        if hop is None or check.sender is None or stream is None:
            continue
        agents = [a.name for a in (stream.controlling, stream.controlled) if a is not None]
        if request.src == hop.client:
            who: str | None = check.sender
        else:  # it came through the relay to the client: the agent it was sent to
            who = next((name for name in agents if name != check.sender), None)
        if who in labels:
            out.setdefault(str(hop.client), f"{labels[who]} TURN client")
    return out


def _gathering(rec: Reconstruction, check_ids: set[int], roles: dict[str, str]) -> list[GatheringLane]:
    """STUN/TURN transactions that are not checks: Binding to a STUN server, Allocate, Refresh, …"""
    by_lane: dict[tuple[str, str], GatheringLane] = {}
    for t in rec.transactions:
        if id(t) in check_ids or t.request.method in WRAPPING_METHODS or t.relayed:
            continue
        src, dst = str(t.src), str(t.dst)
        key = (src, dst)
        if key not in by_lane:
            over = f" ({t.request.transport.upper()})" if t.request.transport != "udp" else ""
            label = f"{roles.get(src, '')} {src} → {roles.get(dst, 'server')} {dst}{over}".strip()
            by_lane[key] = GatheringLane(label)
        code = t.response.error_code if t.response is not None else None
        outcome = "challenge" if t.outcome == "error" and is_challenge(t.request.method, code) else t.outcome
        by_lane[key].events.append(GatheringEvent(t.request.time, t.request.method, outcome, t.request.frame, code))
    return list(by_lane.values())


def sip_events(rec: Reconstruction) -> list[SipEvent]:
    """SIP requests and final/progress responses with a capture time; the updated offer named as such."""
    model = rec.signaling
    if model is None:
        return []
    out: list[SipEvent] = []
    for call in model.calls:
        final = {
            (x.source.name, x.source.position)
            for x in call.exchanges
            if x.role == "final-offer" and x.source is not None
        }
        for ref, text in call.events:
            if ref.time is None:
                continue
            name = _sip_label(text)
            if name is None:
                continue
            if (ref.name, ref.position) in final:
                name = "final offer"
            out.append(SipEvent(ref.time, name, ref.position if ref.kind == "frame" else None))
    return sorted(out, key=lambda e: e.time)


CALL_METHODS = frozenset(("INVITE", "BYE", "CANCEL", "UPDATE"))


def _sip_label(text: str) -> str | None:
    """'INVITE', '183', '200 (BYE)', '486'; None for what is not about this call's media (REGISTER,
    OPTIONS, MRAS SERVICE, ACK, 100 Trying)."""
    head, _, method = text.partition(" (")
    head = head.split(":", 1)[0].strip()
    method = method.rstrip(")")
    code = head[:3]
    if code.isdigit():
        if code == "100" or (method and method not in CALL_METHODS):
            return None
        return code if method in ("", "INVITE") else f"{code} ({method})"
    return head if head in CALL_METHODS else None


def with_host_sockets(roles: dict[str, str], addresses: list[str]) -> dict[str, str]:
    """The roles, and names for addresses no candidate names: one on a TURN server's own IP with a
    relayed address's port is that relayed address as the server's interface shows it (a capture on
    the server); one on a single agent's host (the IP of its host or TURN client address: a socket it
    gathered from) is that agent's host, or its TURN client when it acted as one. So each is drawn on
    its side, not beyond the other agent's."""
    agents: dict[str, set[str]] = {}
    servers = {_ip(a) for a, role in roles.items() if role in ("relay server", "edge relay")}
    relayed: dict[str, set[str]] = {}  # port -> the relayed addresses' roles
    for address, given in roles.items():
        who, _, kind = given.rpartition(" ")
        if given.endswith(" TURN client") or kind == "host":
            agents.setdefault(_ip(address), set()).add(given.removesuffix(" TURN client").removesuffix(" host"))
        if kind == "relay" and who not in ("", "edge"):
            relayed.setdefault(address.rsplit(":", 1)[-1], set()).add(given)
    named = dict(roles)
    for address in addresses:
        role = named.get(address)
        if role is not None and role != "TURN client":
            continue
        owners = agents.get(_ip(address), set())
        same_port = relayed.get(address.rsplit(":", 1)[-1], set())
        if role is None and _ip(address) in servers and len(same_port) == 1:
            named[address] = next(iter(same_port))
        elif len(owners) == 1:  # a TURN client no check tied to an agent, on that agent's host
            named[address] = f"{next(iter(owners))} {role or 'host'}"
    return named


def _ip(address: str) -> str:
    """'10.0.0.1:5000' -> '10.0.0.1', '[2001:db8::1]:5000' -> '2001:db8::1'."""
    return address.rsplit(":", 1)[0].strip("[]")
