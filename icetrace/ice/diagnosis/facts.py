"""What several rules derive from the whole capture, worked out once per diagnosis.

`diagnose` makes one `Facts` for the reconstruction it judges and hands it to every rule, so a
per-stream rule over a busy capture's thousands of streams reads its own stream's share instead of
walking the whole capture again, and nothing outlives the diagnosis.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from functools import cached_property

from icetrace.ice.directions import MissingDirection, lacking, missing_directions
from icetrace.ice.far_ends import PeerEvidence, looks_like_server_request, peer_evidence
from icetrace.ice.model import Mapping
from icetrace.ice.reconstruction import Check, Reconstruction
from icetrace.ice.relay_paths import RelayHosts
from icetrace.ice.transactions import Transaction
from icetrace.records.endpoint import Endpoint


class Facts:
    """The reconstruction under judgement and what its rules share, each computed when first read."""

    def __init__(self, rec: Reconstruction) -> None:
        self.rec = rec

    @cached_property
    def peers(self) -> dict[Endpoint, PeerEvidence]:
        """Far ends the capture shows to be peers, not STUN/TURN servers."""
        return peer_evidence(self.rec)

    @cached_property
    def server_transactions(self) -> list[Transaction]:
        """Requests to STUN/TURN servers: server-shaped requests whose destination is no peer."""
        peers = self.peers
        return [t for t in self.rec.transactions if looks_like_server_request(t) and t.dst not in peers]

    @cached_property
    def server_requests_by_ip(self) -> dict[str, list[Transaction]]:
        """Requests to STUN/TURN servers by the IP they came from, in time order: a stream's cause
        reads its own agents' share."""
        out: dict[str, list[Transaction]] = {}
        for t in sorted(self.server_transactions, key=lambda t: t.request.time):
            out.setdefault(t.src.ip, []).append(t)
        return out

    @cached_property
    def _request_times(self) -> dict[str, list[float]]:
        return {ip: [t.request.time for t in txs] for ip, txs in self.server_requests_by_ip.items()}

    def server_requests_between(self, ip: str, start: float, end: float) -> list[Transaction]:
        """The requests `ip` sent to STUN/TURN servers from `start` to `end`: one host may carry
        thousands of calls (a PBX, a busy client), and each call reads only its own time's."""
        times = self._request_times.get(ip)
        if not times:
            return []
        return self.server_requests_by_ip[ip][bisect_left(times, start) : bisect_right(times, end)]

    @cached_property
    def mappings_by_base_ip(self) -> dict[str, list[Mapping]]:
        """The NAT mappings servers reported, by the IP of the socket they map."""
        out: dict[str, list[Mapping]] = {}
        for m in self.rec.mappings:
            out.setdefault(m.base.ip, []).append(m)
        return out

    @cached_property
    def relay_hosts(self) -> RelayHosts:
        return RelayHosts.of(self.rec.allocations, self.rec.transactions, self.rec.captures.frame_text)

    @property
    def start(self) -> float:
        return self.rec.start

    @cached_property
    def addressed(self) -> set[str]:
        """Every host the capture holds a packet to (STUN outside relays, or media): a capture of one
        direction of a link holds nothing to the hosts on the other side."""
        rec = self.rec
        return {r.dst.ip for r in rec.records if r.relay is None} | {f.dst.ip for f in rec.media}

    @cached_property
    def missing_directions(self) -> list[MissingDirection]:
        return missing_directions(self.rec)

    @cached_property
    def lacking(self) -> set[tuple[Endpoint, Endpoint]]:
        """(src, dst) directions the capture is shown to lack entirely."""
        return lacking(self.rec)

    @cached_property
    def checks_by_stream(self) -> dict[int, list[Check]]:
        """The checks of each stream, by the stream's id: per-stream rules read only their own."""
        out: dict[int, list[Check]] = {}
        for check in self.rec.checks:
            if check.stream is not None:
                out.setdefault(id(check.stream), []).append(check)
        return out

    @cached_property
    def keepalives_by_src(self) -> dict[Endpoint, list[tuple[Endpoint, float, int]]]:
        """Binding indications outside relays (RFC 8445 §11 keepalives), as (destination, time,
        frame) by source: a pair's own are found from its ends without a walk over the capture."""
        out: dict[Endpoint, list[tuple[Endpoint, float, int]]] = {}
        for r in self.rec.records:
            if r.relay is None and r.method == "binding" and r.cls == "indication":
                out.setdefault(r.src, []).append((r.dst, r.time, r.frame))
        return out

    @cached_property
    def errors_by_stream(self) -> dict[int, list[tuple[Transaction, str | None]]]:
        """Checks that got an error response, by the id of their stream."""
        out: dict[int, list[tuple[Transaction, str | None]]] = {}
        for check in self.rec.checks:
            t, stream = check.transaction, check.stream
            if stream is not None and any(r.error_code is not None for r in t.responses):
                out.setdefault(id(stream), []).append((t, check.sender))
        return out
