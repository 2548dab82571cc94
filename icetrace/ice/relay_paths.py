"""Which pairs run through a TURN relay, whatever their candidate types say.

A pair is relayed when either end is a relayed transport address (RFC 8656 §2): its candidate is
typed `relay`, its checks were seen wrapped in TURN, or the capture shows the address to be a
relay's. The last is what a capture holds when the signaling that typed the candidate is not in it:
the address was handed out as XOR-RELAYED-ADDRESS (or [MS-TURN] MAPPED-ADDRESS) in an Allocate
answer, or it sits on a host that answers Allocate requests (a TURN server; every address on it
other than the one it listens on is a relayed address). Such a pair is RELAY in connectivity
(MS-QoE), never DIRECT, from either side's vantage point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from icetrace.ice.model import Allocation, IceCandidate, Pair, Stream
from icetrace.ice.transactions import Transaction
from icetrace.records.endpoint import Endpoint


@dataclass(frozen=True)
class RelayHosts:
    """What the capture shows of TURN relays: allocated relayed addresses, and the hosts that answered
    Allocate requests (by IP) with the transport addresses they listen on."""

    relayed: dict[Endpoint, int]  # relayed address -> frame of the Allocate answer that handed it out
    servers: dict[str, int]  # IP that answered an Allocate -> frame of its first answer
    listening: frozenset[Endpoint]
    frame_text: Callable[[int], str] = str  # how a frame reads (its file too, with several captures)

    @classmethod
    def of(
        cls, allocations: list[Allocation], transactions: list[Transaction], frame_text: Callable[[int], str] = str
    ) -> RelayHosts:
        relayed = {a.relayed: a.frame for a in allocations if a.relayed is not None}
        servers: dict[str, int] = {}
        listening: set[Endpoint] = set()
        for t in transactions:
            if t.request.method == "allocate" and t.response is not None and t.response.relay is None:
                servers.setdefault(t.dst.ip, t.response.frame)
                listening.add(t.dst)
        return cls(relayed, servers, frozenset(listening), frame_text)

    def holds(self, address: Endpoint) -> bool:
        """Whether the capture shows `address` to be a relayed transport address."""
        if address in self.relayed:
            return True
        return address.ip in self.servers and address not in self.listening

    def why(self, c: IceCandidate) -> str | None:
        """Why the capture shows `c` to be a relayed address, or None."""
        if c.address in self.relayed:
            return f"{c.address} was allocated as a relayed address (frame {self.frame_text(self.relayed[c.address])})"
        if c.origin == "sdp" and c.type in ("host", "srflx"):
            # signaled as the agent's own or its NAT's: a media server may share a host with a
            # TURN server (Jitsi's videobridge beside coturn), so the signaling wins over the host
            return None
        frame = self.servers.get(c.address.ip)
        if frame is not None and c.address not in self.listening:
            where = self.frame_text(frame)
            return f"{c.address} is on {c.address.ip}, which answers TURN Allocate requests (frame {where})"
        return None


def mark_relay_paths(streams: list[Stream], hosts: RelayHosts) -> None:
    """Set `through_relay` on every pair whose candidate types do not already say relay."""
    for stream in streams:
        for component in stream.components:
            for pair in component.pairs:
                _mark(pair, hosts)


def _mark(pair: Pair, hosts: RelayHosts) -> None:
    if "relay" in (pair.controlling.type, pair.controlled.type):
        return
    for c in (pair.controlling, pair.controlled):
        why = hosts.why(c)
        if why is not None:
            pair.through_relay = why
            return
    if pair.relayed:
        pair.through_relay = "its checks were seen wrapped in TURN (Send/Data indications or ChannelData)"
