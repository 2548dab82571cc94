"""What went through a TURN relay, between the relayed address and the peer (RFC 8656 §10-12).

A check wrapped in a Send indication or ChannelData leaves the relay from the client's relayed
address towards the peer; one in a Data indication came from the peer to the relayed address.
Relayed data that carried no check is the call's media on a relayed pair.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from dissectors.demux import TURN_PORTS
from icetrace.records.endpoint import Endpoint
from icetrace.records.media_flow import MediaFlow
from icetrace.records.relayed import RelayedCount
from icetrace.records.stun_record import RelayHop, StunRecord

OUTBOUND_VIA = ("send-indication", "ms-send-request")


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
        relayed = _last_by_client(relayed_by_leg).get(hop.client) or _unknown_relayed(hop.server.ip)
    peer = hop.peer or _UNKNOWN_PEER
    outbound = hop.via in OUTBOUND_VIA or (hop.via in ("channeldata", "ms-multiplexed") and sender == hop.client)
    return (relayed, peer) if outbound else (peer, relayed)


_UNKNOWN_PEER = Endpoint("0.0.0.0", 0)


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
