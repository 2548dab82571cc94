"""MS multiplexed TURN's two legs: a 0xFF10 frame goes between a TURN client and its server, or
between a peer and a client's relayed address.

[MS-TURN] §2.2.3: multiplexed TURN (MS-VERSION 5 and 6) carries many clients' data over one port of
a relay. Each frame is 0xFF10, a length, an 8-byte MTURN session id ("unique identifier for the given
stream on the given TURN server": it names the allocation) and the data. A client sends such frames
to its server towards its active destination (§3.2.4): the client-to-server leg, as RFC 8656
ChannelData. A peer sends them too: the client names its session id (MULTIPLEXED-TURN-SESSION-ID,
0x8095) in the checks it relays, which reach the peer from the relayed address, and the peer answers
that address inside 0xFF10 with the id, so the relay knows whose allocation the answer is for. On
that leg what the frame carries goes between the ICE agents' own addresses (the peer and the relayed
address): there is no client leg to undo.

Teams, the only agent in the corpus that speaks multiplexed TURN, shows both halves in teams.pcap:
its Allocate (frame 1250) and the check it relays through that allocation (1413) name one session id,
its direct checks name none; the remote agent's check (1422) reached it from a relayed address naming
a session, and its answer (1424) went back to that address inside 0xFF10 with that id.
"""

from __future__ import annotations

from collections.abc import Iterable

from dissectors.constants import MS_MULTIPLEXED_CHANNEL
from icetrace.records.endpoint import Endpoint
from icetrace.records.media_flow import MediaFlow
from icetrace.records.stun_record import StunRecord

SESSION_ATTRIBUTE = "MULTIPLEXED-TURN-SESSION-ID"

PeerLegs = frozenset[tuple[Endpoint, Endpoint]]
"""(peer, relayed address) pairs whose 0xFF10 frames went between the peer and the relayed address."""


def names_a_session(record: StunRecord) -> bool:
    """A check or its answer that names a multiplexed TURN session: one relayed through a multiplexed
    allocation (Teams names none in the checks it sends from its other candidates)."""
    return record.kind == "stun" and record.method == "binding" and SESSION_ATTRIBUTE in record.attributes


def session_relayed_addresses(records: Iterable[StunRecord]) -> set[Endpoint]:
    """The addresses checks naming a session came from as the peer received them (outside any
    relay): relayed addresses on a multiplexed relay, whose Allocate may lie outside the capture."""
    return {r.src for r in records if r.relay is None and names_a_session(r)}


def peer_legs(records: list[StunRecord], relayed_by_leg: dict[tuple[Endpoint, Endpoint], Endpoint]) -> PeerLegs:
    """(peer, relayed address) of every 0xFF10 frame sent between a peer and a relayed address: to or
    from an address that sent the frame's other end a check naming a session, or a relayed address
    the capture saw allocated to someone else. A frame between a client and the server it allocated on,
    or its own relayed address, stays on the client-to-server leg."""
    own = set(relayed_by_leg) | {(client, relayed) for (client, _server), relayed in relayed_by_leg.items()}
    relayed = set(relayed_by_leg.values())
    named = {(r.dst, r.src) for r in records if r.relay is None and names_a_session(r)}
    legs: set[tuple[Endpoint, Endpoint]] = set()
    for r in records:
        if r.kind != "channeldata" or r.type != MS_MULTIPLEXED_CHANNEL:
            continue
        for leg in ((r.src, r.dst), (r.dst, r.src)):
            if leg not in own and (leg in named or leg[1] in relayed):
                legs.add(leg)
                break
    return frozenset(legs)


def on_peer_leg(src: Endpoint, dst: Endpoint, legs: PeerLegs) -> tuple[Endpoint, Endpoint] | None:
    """(peer, relayed address) when a 0xFF10 frame from `src` to `dst` went between those two."""
    if (src, dst) in legs:
        return src, dst
    if (dst, src) in legs:
        return dst, src
    return None


def without_frame_counts(flows: Iterable[MediaFlow], legs: PeerLegs) -> list[MediaFlow]:
    """The flows but the 0xFF10 frames the packet source counted on a peer leg (kind channeldata):
    their packets are the relayed flows between the same two addresses that say what they carried."""
    return [f for f in flows if f.kind != "channeldata" or f.relay_via or on_peer_leg(f.src, f.dst, legs) is None]
