"""Who is at the far end of a STUN request: a STUN/TURN server or a peer.

A Binding request is an ICE check when it carries a short-term USERNAME (RFC 8445 §7.2.2); with
long-term credentials (REALM, NONCE: RFC 8489 §9.2) it goes to a server. Without USERNAME it looks
like a server request, but messengers probe the other caller directly with such requests while the
call runs through a relay. So the destination is judged by evidence, not by the request's shape:
an address is a peer when it is the peer of a TURN permission, channel or Send/Data indication,
when it sent STUN requests of its own (servers answer, they never ask), when it is a candidate of
an ICE session, when media flowed between it and the client outside any relay, or when the
request itself carries ICE attributes or a MESSAGE-INTEGRITY no server could check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dissectors.constants import MS_MULTIPLEXED_CHANNEL
from icetrace.records.endpoint import Endpoint
from icetrace.records.stun_record import StunRecord

if TYPE_CHECKING:
    from icetrace.ice.reconstruction import Reconstruction
    from icetrace.ice.transactions import Transaction

TURN_METHODS = ("allocate", "refresh", "create-permission", "channel-bind")
_PEER_ADDRESS_ATTRIBUTES = ("XOR-PEER-ADDRESS", "DESTINATION-ADDRESS", "REMOTE-ADDRESS")
_MEDIA_KINDS = ("rtp", "rtcp", "dtls", "srtp", "zrtp")


def is_ice_check(record: StunRecord) -> bool:
    """A Binding request with a short-term USERNAME (RFC 8445 §7.2.2), not long-term credentials."""
    return (
        record.method == "binding"
        and record.cls == "request"
        and record.username is not None
        and record.realm is None
        and record.nonce is None
    )


def carries_ice_attributes(record: StunRecord) -> bool:
    """PRIORITY, a role or USE-CANDIDATE: attributes only an ICE peer reads (RFC 8445 §7.1)."""
    return record.priority is not None or record.ice_role is not None or record.use_candidate


def looks_like_server_request(t: Transaction) -> bool:
    """A TURN request, or a Binding that is no ICE check, sent outside any relay."""
    req = t.request
    if req.relay is not None:
        return False
    return req.method in TURN_METHODS or (req.method == "binding" and not is_ice_check(req))


@dataclass(frozen=True)
class PeerEvidence:
    """Why an address is taken for a peer, in words, and a frame that shows it."""

    reason: str
    frame: int | None


def peer_evidence(rec: Reconstruction) -> dict[Endpoint, PeerEvidence]:
    """Every far end the capture shows to be a peer, with the first reason found."""
    out: dict[Endpoint, PeerEvidence] = {}
    servers = turn_servers(rec.records)
    turn_peer_ips = _turn_peer_ips(rec)
    candidates = _candidate_frames(rec)
    askers: dict[Endpoint, int] = {}
    for t in rec.transactions:
        if t.request.relay is None and t.request.method == "binding":
            askers.setdefault(t.src, t.request.frame)
    media: dict[Endpoint, int] = {}
    for f in rec.media:
        if f.kind in _MEDIA_KINDS:
            media.setdefault(f.src, f.first_frame)
            media.setdefault(f.dst, f.first_frame)

    def add(address: Endpoint, reason: str, frame: int | None) -> None:
        out.setdefault(address, PeerEvidence(reason, frame))

    for t in rec.transactions:
        if not looks_like_server_request(t):
            continue
        dst = t.dst
        if dst in servers:
            continue  # it answered TURN requests: a server, whatever else it does
        if dst.ip in turn_peer_ips:
            add(dst, "the client's TURN relay has a permission for it (the call's peer)", turn_peer_ips[dst.ip])
        elif dst in askers:
            add(dst, "it sent Binding requests of its own (servers only answer)", askers[dst])
        elif dst in candidates:
            add(dst, "it is a candidate of an ICE session", candidates[dst])
        elif dst in media:
            add(dst, "media flowed directly between it and the client", media[dst])
        elif carries_ice_attributes(t.request):
            add(dst, "the requests carry ICE attributes (PRIORITY, role, USE-CANDIDATE)", t.request.frame)
        elif signed_for_a_peer(t.request):
            add(
                dst,
                "its requests carry MESSAGE-INTEGRITY without USERNAME, which no STUN/TURN server can check "
                "(RFC 8489 §9): a key shared with the peer",
                t.request.frame,
            )
    return out


def _turn_peer_ips(rec: Reconstruction) -> dict[str, int]:
    """The IP addresses TURN clients named as peers (permissions, channels, Send), with the first frame."""
    ips: dict[str, int] = {}
    for r in rec.records:
        if r.kind != "stun" or r.relay is not None:
            continue
        for name in _PEER_ADDRESS_ATTRIBUTES:
            peer = r.addresses.get(name)
            if peer is not None:
                ips.setdefault(peer.ip, r.frame)
    return ips


def _candidate_frames(rec: Reconstruction) -> dict[Endpoint, int | None]:
    """Every candidate address of an ICE session, with the frame it was learned in."""
    candidates: dict[Endpoint, int | None] = {}
    for stream in rec.streams:
        for agent in (stream.controlling, stream.controlled):
            for c in agent.candidates if agent else []:
                candidates.setdefault(c.address, c.frame)
    return candidates


def signed_for_a_peer(record: StunRecord) -> bool:
    """MESSAGE-INTEGRITY without USERNAME or USERHASH: both credential mechanisms name the key's
    owner (RFC 8489 §9.1.2, §9.2.3), so only a peer holding the key out of band can verify it."""
    return record.integrity != "absent" and record.username is None and "USERHASH" not in record.attributes


def turn_servers(records: Iterable[StunRecord]) -> set[Endpoint]:
    """Addresses that answered a TURN request (Allocate, Refresh, CreatePermission, ChannelBind)."""
    return {
        r.src
        for r in records
        if r.kind == "stun" and r.relay is None and r.method in TURN_METHODS and r.cls in ("success", "error")
    }


# TURN messages that only a server sends (Data indications) or only a client sends (Send), by (method, class)
_FROM_SERVER = frozenset((("data", "indication"), ("ms-data", "indication")))
_FROM_CLIENT = frozenset((("send", "indication"), ("ms-send", "request")))


@dataclass(frozen=True)
class RelayRoles:
    """Who the capture shows acting as a TURN server and who as its client, by what each did; a
    server that spoke [MS-TURN] (its messages' dialect, or multiplexed TURN's 0xFF10) is in `ms`."""

    servers: frozenset[Endpoint]
    clients: frozenset[Endpoint]
    ms: frozenset[Endpoint]


def relay_roles(records: Iterable[StunRecord]) -> RelayRoles:
    """A server answered a TURN request or sent a Data indication, or was sent a Send indication
    (RFC 8656 §7-11, [MS-TURN] Send request and Data indication); a client sent those requests or
    Send indications, or was sent Data indications. ChannelData flows only between a client and its
    server (RFC 8656 §12), so its other end is a server too: how MS multiplexed TURN (0xFF10) shows
    a relay whose Allocate the capture lacks."""
    servers: set[Endpoint] = set()
    clients: set[Endpoint] = set()
    ms: set[Endpoint] = set()
    channels: list[StunRecord] = []
    for r in records:
        if r.kind == "channeldata":
            channels.append(r)
            continue
        if r.relay is not None:
            continue
        kind = (r.method, r.cls)
        if r.method in TURN_METHODS and r.cls in ("success", "error") or kind in _FROM_SERVER:
            server, client = r.src, r.dst
        elif r.method in TURN_METHODS and r.cls == "request" or kind in _FROM_CLIENT:
            server, client = r.dst, r.src
        else:
            continue
        servers.add(server)
        clients.add(client)
        if r.dialect == "ms-turn":
            ms.add(server)
    for r in channels:
        for client, server in ((r.src, r.dst), (r.dst, r.src)):
            if client in clients and server not in clients:
                servers.add(server)
                if r.type == MS_MULTIPLEXED_CHANNEL:
                    ms.add(server)
    return RelayRoles(frozenset(servers), frozenset(clients - servers), frozenset(ms))
