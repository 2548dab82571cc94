"""What went through a TURN relay, between the relayed address and the peer (RFC 8656 §10-12).

A check wrapped in a Send indication or ChannelData leaves the relay from the client's relayed
address towards the peer; one in a Data indication came from the peer to the relayed address.
Relayed data that carried no check is the call's media on a relayed pair.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import replace

from dissectors.demux import TURN_PORTS
from icetrace.ice.far_ends import RelayRoles
from icetrace.ice.multiplexed_turn import PeerLegs, on_peer_leg
from icetrace.records.endpoint import Endpoint
from icetrace.records.media_flow import MediaFlow
from icetrace.records.relayed import RelayedCount
from icetrace.records.stun_record import RelayHop, StunRecord

OUTBOUND_VIA = ("send-indication", "ms-send-request")


ChannelBinds = dict[tuple[Endpoint, Endpoint, int], Endpoint]
"""(client, server, channel) -> the peer its ChannelBind request named."""


RelayPorts = dict[Endpoint, Endpoint]
"""A relay port as the TURN server's own interface shows it -> the relayed address it stands for."""


def relay_ports(relayed_by_leg: dict[tuple[Endpoint, Endpoint], Endpoint]) -> RelayPorts:
    """Where a capture at the TURN server sees its relayed addresses: a server relays from the port
    its relayed address names (RFC 8656 §7.2), on its own IP; behind a 1:1 NAT (a cloud's elastic
    address, coturn's --external-ip) that IP is the private one, the relayed address the public one."""
    return {Endpoint(server.ip, relayed.port): relayed for (_client, server), relayed in relayed_by_leg.items()}


def effective_addresses(
    record: StunRecord,
    relayed_by_leg: dict[tuple[Endpoint, Endpoint], Endpoint],
    binds: ChannelBinds | None = None,
    ports: RelayPorts | None = None,
) -> tuple[Endpoint, Endpoint, bool]:
    """Where a message really went between the ICE agents (RFC 8656 §10-12).

    A check wrapped in a Send indication or ChannelData leaves the relay from the
    client's relayed address towards the peer; one in a Data indication came from
    the peer to the relayed address. Seen on the relay-to-peer leg itself (a capture at the
    server, `ports`), it is the same check between the same addresses: no NAT made it.
    """
    hop = record.relay
    if hop is None:
        if ports and (record.src in ports or record.dst in ports):
            return ports.get(record.src, record.src), ports.get(record.dst, record.dst), True
        return record.src, record.dst, False
    src, dst = hop_addresses(hop, record.src, relayed_by_leg, binds)
    return src, dst, True


def hop_addresses(
    hop: RelayHop,
    sender: Endpoint,
    relayed_by_leg: dict[tuple[Endpoint, Endpoint], Endpoint],
    binds: ChannelBinds | None = None,
) -> tuple[Endpoint, Endpoint]:
    """(source, destination) between relayed address and peer of what `sender` sent through `hop`;
    a channel's peer from its ChannelBind when the hop does not name it (the binding was read in
    another file of the capture)."""
    relayed = relayed_by_leg.get((hop.client, hop.server))
    if relayed is None:
        # the client may send through another address of the same relay (MS Edge pools)
        relayed = _last_by_client(relayed_by_leg).get(hop.client) or unknown_relayed(hop.client, hop.server.ip)
    peer = hop.peer
    if peer is None and hop.channel is not None and binds:
        peer = binds.get((hop.client, hop.server, hop.channel))
    peer = peer or unknown_peer(hop.client, hop.channel)
    outbound = hop.via in OUTBOUND_VIA or (hop.via in ("channeldata", "ms-multiplexed") and sender == hop.client)
    return (relayed, peer) if outbound else (peer, relayed)


@functools.lru_cache(maxsize=1024)
def unknown_relayed(client: Endpoint, server_ip: str) -> Endpoint:
    """A client's relayed address whose Allocate the capture lacks: its server's IP is all the capture
    shows (one object per client, not one per relayed check)."""
    return Endpoint(server_ip, 0, f"{server_ip}:? (relayed for {client}; Allocate not in capture)")


class RelayedByLeg(dict[tuple[Endpoint, Endpoint], Endpoint]):
    """Each allocation's relayed address by its (client, server) leg, filled once and then only
    read; its index by client alone is built on first use, so a miss costs no scan of every leg."""

    _by_client: dict[Endpoint, Endpoint] | None = None

    def last_by_client(self) -> dict[Endpoint, Endpoint]:
        if self._by_client is None:
            self._by_client = {client: relayed for (client, _server), relayed in self.items()}
        return self._by_client


def _last_by_client(relayed_by_leg: dict[tuple[Endpoint, Endpoint], Endpoint]) -> dict[Endpoint, Endpoint]:
    """The relayed address of each client's last allocation in the capture."""
    if isinstance(relayed_by_leg, RelayedByLeg):
        return relayed_by_leg.last_by_client()
    return {client: relayed for (client, _server), relayed in relayed_by_leg.items()}


@functools.lru_cache(maxsize=1024)
def unknown_peer(client: Endpoint, channel: int | None) -> Endpoint:
    """The peer of a client's channel whose ChannelBind the capture lacks (or of a relayed message
    that named none): nothing in the capture says its address."""
    if channel is None:
        return Endpoint("", 0, f"peer of {client} (address not in capture)")
    return Endpoint("", 0, f"peer behind channel {channel:#06x} of {client} (binding not in capture)")


def is_unknown_relayed(address: Endpoint) -> bool:
    """A relayed address the capture never showed (`unknown_relayed`): its server's IP, no port."""
    return bool(address.unknown) and bool(address.ip)


def relayed_media(
    counts: Iterable[RelayedCount],
    records: list[StunRecord],
    relayed_by_leg: dict[tuple[Endpoint, Endpoint], Endpoint],
    tap_of: Callable[[int], int] = lambda frame: 0,
    binds: ChannelBinds | None = None,
    roles: RelayRoles | None = None,
    legs: PeerLegs = frozenset(),
) -> list[MediaFlow]:
    """Media relayed through TURN, per direction between relayed address and peer, by what it carried.

    ChannelData (RFC 8656 §12) and Send/Data indications (§11; MS-TURN Send request and Data
    indication) that carried something other than a check are the call's media on a relayed pair.
    The packet source only sees them on the client-to-relay leg; here they get the addresses
    of the pair they belong to. A channel's client and peer come from its ChannelBind; without
    one in the capture (it started mid-call) the side `roles` shows to be a server, else the side on a
    TURN port, is the server. Each tap's count
    stays its own flow (`tap_of`: the tap a frame id was seen at): two taps' copies add nothing up.
    `binds` may hold channels' peers learned otherwise (`peers_across_the_relay`). MS multiplexed TURN
    a peer sent to a relayed address (`legs`) went between those two already.
    """
    binds = binds if binds is not None else channel_binds(records)
    flows: dict[tuple[Endpoint, Endpoint, str, str, Endpoint, Endpoint | None, int | None, int], list[float]] = {}
    for c in counts:
        src, dst, server, peer = _count_addresses(c, relayed_by_leg, binds, roles, legs)
        key = (src, dst, c.kind, c.via, server, peer, c.channel, tap_of(c.first_frame))
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
        for (src, dst, kind, via, server, peer, channel, _tap), v in flows.items()
    ]
    return sorted(out, key=lambda f: (f.first_frame, str(f.src), f.kind))


def _count_addresses(
    c: RelayedCount,
    relayed_by_leg: dict[tuple[Endpoint, Endpoint], Endpoint],
    binds: ChannelBinds,
    roles: RelayRoles | None,
    legs: PeerLegs,
) -> tuple[Endpoint, Endpoint, Endpoint, Endpoint | None]:
    """(source, destination, server, peer) of a relayed count's data: between relayed address and
    peer; a peer's data to a relayed address in MS multiplexed TURN went between those two already."""
    between = on_peer_leg(c.src, c.dst, legs) if c.via == "ms-multiplexed" else None
    if between is not None:
        peer, relayed = between
        return c.src, c.dst, relayed, peer
    client, known_peer = _client_and_peer(c, binds, roles)
    server = c.dst if client == c.src else c.src
    hop = RelayHop(via=c.via, client=client, server=server, peer=known_peer, channel=c.channel)
    src, dst = hop_addresses(hop, c.src, relayed_by_leg)
    return src, dst, server, known_peer


def channel_binds(records: list[StunRecord]) -> ChannelBinds:
    """(client, server, channel) -> peer, from the ChannelBind requests in the capture."""
    binds: ChannelBinds = {}
    for r in records:
        if r.method == "channel-bind" and r.cls == "request" and r.relay is None and r.channel_number is not None:
            peer = r.addresses.get("XOR-PEER-ADDRESS")
            if peer is not None:
                binds[(r.src, r.dst, r.channel_number)] = peer
    return binds


def peers_across_the_relay(
    records: list[StunRecord], relayed_by_leg: dict[tuple[Endpoint, Endpoint], Endpoint], binds: ChannelBinds
) -> ChannelBinds:
    """`binds`, with the peers of channels whose ChannelBind the capture lacks learned from one message
    relayed between two clients of one server: sent by A in its channel and handed to B in B's
    channel (the same transaction id and type), A's channel leads to B's relayed address and B's to
    A's (RFC 8656 §12: the server relays between the relayed addresses). A relayed address the capture
    lacks stays unknown, but each channel then leads to the other's."""
    sent: dict[tuple[str, int, Endpoint], RelayHop] = {}
    handed: dict[tuple[str, int, Endpoint], RelayHop] = {}
    for r in records:
        hop = r.relay
        if hop is None or hop.via != "channeldata" or hop.channel is None or not r.transaction_id:
            continue
        side = sent if r.src == hop.client else handed
        side.setdefault((r.transaction_id, r.type, hop.server), hop)
    learned = dict(binds)
    for key, a in sent.items():
        b = handed.get(key)
        if b is None or a.client == b.client or a.channel is None or b.channel is None:
            continue
        relayed_a = relayed_by_leg.get((a.client, a.server)) or unknown_relayed(a.client, a.server.ip)
        relayed_b = relayed_by_leg.get((b.client, b.server)) or unknown_relayed(b.client, b.server.ip)
        learned.setdefault((a.client, a.server, a.channel), relayed_b)
        learned.setdefault((b.client, b.server, b.channel), relayed_a)
    return learned


def _client_and_peer(
    c: RelayedCount, binds: ChannelBinds, roles: RelayRoles | None
) -> tuple[Endpoint, Endpoint | None]:
    """A count's TURN client and peer: as counted, else from its channel's ChannelBind, else by
    what the capture shows either side do (`roles`), else the side off the TURN ports is the client."""
    client, peer = c.client, c.peer
    if c.channel is not None and (client is None or peer is None):
        if (c.src, c.dst, c.channel) in binds:
            client, peer = c.src, binds[(c.src, c.dst, c.channel)]
        elif (c.dst, c.src, c.channel) in binds:
            client, peer = c.dst, binds[(c.dst, c.src, c.channel)]
        elif client is None:
            client = channel_client(c.src, c.dst, roles)
    assert client is not None
    return client, peer


def channel_client(src: Endpoint, dst: Endpoint, roles: RelayRoles | None) -> Endpoint:
    """Which end of ChannelData whose ChannelBind the capture lacks is the TURN client: the one the
    capture shows acting as a client, or whose other end acts as a server; else the end off the TURN
    ports (a guess: TURN servers listen on them, RFC 8656 §18)."""
    if roles is not None:
        if src in roles.clients or dst in roles.servers:
            return src
        if dst in roles.clients or src in roles.servers:
            return dst
    return src if dst.port in TURN_PORTS and src.port not in TURN_PORTS else dst


def oriented_channels(records: Iterable[StunRecord], roles: RelayRoles, legs: PeerLegs = frozenset()) -> None:
    """Set each ChannelData hop's client and server by what the capture shows them do: the reader,
    without the channel's ChannelBind, could only guess by the TURN ports (Teams' relays listen
    on 3480 too). A message a peer sent a relayed address inside MS multiplexed TURN (`legs`,
    multiplexed_turn.py) travelled no client-to-server leg: it is between the addresses it shows."""
    for r in records:
        hop = r.relay
        if hop is None or hop.via not in ("channeldata", "ms-multiplexed") or hop.peer is not None:
            continue
        if hop.via == "ms-multiplexed" and on_peer_leg(r.src, r.dst, legs):
            r.relay = None
            continue
        client = channel_client(r.src, r.dst, roles)  # a wrapped message's addresses are its packet's
        if client != hop.client:
            r.relay = replace(hop, client=client, server=r.dst if client == r.src else r.src)


def on_relay_ports(flows: Iterable[MediaFlow], ports: RelayPorts) -> list[MediaFlow]:
    """Media on the relay-to-peer leg, as a capture at the TURN server sees it, named by the relayed
    address its relay port stands for (it is the relayed pair's media, not a flow of its own)."""
    out = []
    for f in flows:
        if f.src in ports or f.dst in ports:
            f = replace(f, src=ports.get(f.src, f.src), dst=ports.get(f.dst, f.dst))
        out.append(f)
    return out
