"""STUN transactions: requests matched to responses by transaction id, with retransmissions.

RFC 5389 §7.2.1: a request is retransmitted with the same transaction id (RTO 500 ms,
doubling, Rc = 7, final wait 16*RTO: 39.5 s in all). A reused id whose attributes
differ is a new request (libjuice reuses ids across non-identical checks), not a
retransmission.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from icetrace.ice.views import Leg, nearest_first, one_check
from icetrace.records.endpoint import Endpoint
from icetrace.records.icmp_error import IcmpError
from icetrace.records.stun_record import StunRecord

TRANSACTION_TIMEOUT = 39.5  # seconds, RFC 5389 §7.2.1 with the default RTO and Rc
FINAL_WAIT = 8.0  # seconds, RFC 5389 §7.2.1: Rm * RTO after the last transmission


@dataclass
class Transaction:
    """One request (and its retransmissions) and what answered it."""

    requests: list[StunRecord]
    src: Endpoint  # effective addresses: for relayed checks, the relayed address and the peer
    dst: Endpoint
    responses: list[StunRecord] = field(default_factory=list)
    relayed: bool = False
    gave_up: bool = False  # set by close(): no answer by the end of the retransmission schedule
    icmp: list[IcmpError] = field(default_factory=list)  # errors quoting one of its requests
    other_views: list[Transaction] = field(default_factory=list)  # the same check seen at other points
    # set when only the timing tells that the capture point is beside the receiver (its answer left
    # at once): request -> response there is the receiver's answering time, not a round trip
    beside_receiver: bool = False
    legs: list[Leg] | None = field(default=None, repr=False, compare=False)  # views.legs, worked out once

    @property
    def request(self) -> StunRecord:
        return self.requests[0]

    @property
    def response(self) -> StunRecord | None:
        return self.responses[0] if self.responses else None

    @property
    def outcome(self) -> str:
        """'success', 'error', 'icmp-error' (the network refused it), 'timeout' (schedule ran out)
        or 'unanswered' (capture ended first)."""
        if self.response is not None:
            return "success" if self.response.cls == "success" else "error"
        if self.icmp:
            return "icmp-error"
        return "timeout" if self.gave_up else "unanswered"

    @property
    def rtt_ms(self) -> float | None:
        """From the last request sent before the response (Karn's rule would drop ambiguous ones)."""
        if self.response is None:
            return None
        sent = [r.time for r in self.requests if r.time <= self.response.time]
        return (self.response.time - sent[-1]) * 1000 if sent else None

    @property
    def retransmissions(self) -> int:
        return max(0, len(self.requests) - 1)

    def close(self, capture_end: float) -> None:
        """Decide timeout vs unanswered once the capture's end is known.

        Given up: the full RFC 5389 wait (39.5 s) passed, or Rc = 7 transmissions were sent, or
        the sender fell silent for longer than the final wait (16 * RTO = 8 s with the default
        RTO) while the capture went on: agents with shorter schedules (baresip: 4 sends, 100 ms
        RTO) stop early, and the capture shows it.
        """
        if self.response is None:
            waited = capture_end - self.request.time
            silent = capture_end - self.requests[-1].time
            self.gave_up = waited >= TRANSACTION_TIMEOUT or len(self.requests) >= 7 or silent >= FINAL_WAIT


def _signature(record: StunRecord) -> tuple[object, ...]:
    return (record.method, record.attributes, record.use_candidate, record.priority, record.username)


def merge_views(transactions: list[Transaction]) -> list[Transaction]:
    """One transaction per check when several vantage points saw it (e.g. before and after a NAT).

    The same request (method, transaction id, USERNAME) seen on other addresses is another view of
    it, not another check, when a NAT between the two explains the difference (views.one_check);
    otherwise the agent sent the same transaction on another path (baresip 1.0 sends one check both
    through its relay and directly) and each path is a check of its own. Of one check's views, the
    one nearest the sender that got an answer is kept, as what the sender experienced
    (views.nearest_first: by side of the NATs, then time); the others are kept in `other_views`, as
    evidence and for the NAT mappings they reveal.
    """
    groups: dict[tuple[str, str, bytes | None], list[Transaction]] = {}
    for t in transactions:
        groups.setdefault((t.request.method, t.request.transaction_id, t.request.username), []).append(t)
    keep: set[int] = set()
    for group in groups.values():
        if len({(v.src, v.dst) for v in group}) == 1:
            keep.update(id(v) for v in group)
            continue
        checks: list[list[Transaction]] = []
        for view in nearest_first(group):
            home = next((c for c in checks if all(one_check(other, view) for other in c)), None)
            if home is None:
                checks.append([view])
            else:
                home.append(view)
        for chain in checks:
            primary = next((v for v in chain if v.response is not None), chain[0])
            primary.other_views = [v for v in chain if v is not primary]
            keep.add(id(primary))
    return [t for t in transactions if id(t) in keep]


def attach_icmp(transactions: list[Transaction], errors: Iterable[IcmpError]) -> None:
    """An ICMP error quoting (src, dst) shortly after a request of that 5-tuple belongs to it."""
    by_tuple: dict[tuple[Endpoint, Endpoint], list[Transaction]] = {}
    for t in transactions:
        if not t.relayed:
            by_tuple.setdefault((t.request.src, t.request.dst), []).append(t)
    for error in errors:
        for t in by_tuple.get((error.quoted_src, error.quoted_dst), []):
            if t.request.time <= error.time <= t.requests[-1].time + 2.0:
                t.icmp.append(error)
                break


def match_transactions(
    records: Iterable[tuple[StunRecord, Endpoint, Endpoint, bool]], capture_end: float
) -> list[Transaction]:
    """Group (record, effective src, effective dst, relayed) into transactions, in order."""
    open_requests: dict[tuple[str, str], list[Transaction]] = {}
    out: list[Transaction] = []
    for record, src, dst, relayed in records:
        if record.kind != "stun" or not record.transaction_id:
            continue
        key = (record.method, record.transaction_id)
        if record.cls == "request":
            candidates = open_requests.get(key, [])
            same = next(
                (
                    t
                    for t in candidates
                    if t.src == src and t.dst == dst and _signature(t.request) == _signature(record)
                ),
                None,
            )
            if same is not None and (same.response is None or record.time - same.request.time < TRANSACTION_TIMEOUT):
                same.requests.append(record)
                continue
            transaction = Transaction([record], src, dst, relayed=relayed)
            open_requests.setdefault(key, []).append(transaction)
            out.append(transaction)
        elif record.cls in ("success", "error"):
            candidates = open_requests.get(key, [])
            # RFC 8445 §7.2.5.2.1: a response comes from where the request went
            match = next((t for t in reversed(candidates) if t.src == dst and t.dst == src), None)
            if match is None:
                match = next((t for t in reversed(candidates) if t.src == dst or t.dst == src), None)
            if match is not None:
                match.responses.append(record)
    for transaction in out:
        transaction.close(capture_end)
    return out
