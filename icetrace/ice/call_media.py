"""Which of the packet source's media flows belong to the calls in the capture.

The packet source counts every UDP flow whose first byte falls in RFC 7983's ranges (RTP/RTCP
128-191, DTLS 20-63, ZRTP 16-19), but on a busy network DNS answers, LLMNR and NTP begin with such
bytes too. A flow is a call's media only when it also touches an endpoint the call is known by:
an address that sent or received STUN/TURN, a TURN relayed address, or an address the signaling
named (a candidate, or an m=/c= line's address, as sngrep counts only RTP negotiated in SDP).
"""

from __future__ import annotations

from collections.abc import Iterable

from icetrace.ice.model import Allocation
from icetrace.records.endpoint import Endpoint
from icetrace.records.media_flow import MediaFlow
from icetrace.records.stun_record import StunRecord
from icetrace.signaling.model import SignalingModel


def call_endpoints(
    records: Iterable[StunRecord], allocations: Iterable[Allocation], signaling: SignalingModel | None
) -> set[Endpoint]:
    """Every transport address the calls are known by."""
    known: set[Endpoint] = set()
    for r in records:
        if r.relay is None:
            known.add(r.src)
            known.add(r.dst)
    for a in allocations:
        if a.relayed is not None:
            known.add(a.relayed)
            known.add(Endpoint(a.server.ip, a.relayed.port))  # the relay port on the server's own interface
    for call in signaling.calls if signaling else ():
        for exchange in call.exchanges:
            for body in exchange.bodies:
                for m in body.media:
                    known.update(c.address for c in m.candidates)
                    if m.connection and m.port:
                        known.add(Endpoint(m.connection, m.port))
                    if m.rtcp is not None:
                        known.add(m.rtcp)
    return known


def call_media(flows: Iterable[MediaFlow], known: set[Endpoint]) -> list[MediaFlow]:
    """The flows with an end among the calls' endpoints."""
    return [f for f in flows if f.src in known or f.dst in known]
