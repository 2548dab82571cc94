"""MediaFlow: per 5-tuple and direction, the non-STUN traffic that followed ICE."""

from __future__ import annotations

from dataclasses import dataclass

from icetrace.records.endpoint import Endpoint


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaFlow:
    """Packets of one kind from `src` to `dst`.

    Kinds by RFC 7983's first byte: rtp (SRTP too), rtcp (SRTCP), dtls (DTLS-SRTP handshake, SCTP
    data channels), zrtp; data (anything else on an ICE 5-tuple); channeldata as the packet source
    sees it on the client-to-relay leg. The correlator adds TURN-relayed data that was not STUN
    under the relayed pair's addresses (relayed address and peer), with the kind of what it
    carried; `relay_via` then says how it travelled on the client-to-server leg ("channeldata",
    "send-indication", "data-indication", "ms-send-request", "ms-data-indication",
    "ms-multiplexed"), `relay_server` which server, `relay_peer` the peer, `channel` the channel.
    """

    src: Endpoint
    dst: Endpoint
    transport: str
    kind: str
    first_frame: int
    first_time: float
    last_frame: int
    last_time: float
    packets: int
    bytes: int
    relay_via: str = ""
    relay_server: Endpoint | None = None
    relay_peer: Endpoint | None = None
    channel: int | None = None
