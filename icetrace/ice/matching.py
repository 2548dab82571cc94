"""STUN requests matched to their responses by transaction id, with retransmissions.

RFC 5389 §7.2.1: a request is retransmitted with the same transaction id. A reused id whose
attributes differ is a new request (libjuice reuses ids across non-identical checks), not a
retransmission; so is the same id sent to another destination.

Whatever comes back from the request's destination to its source with its transaction id
answers it, even when it is no success or error response of the request's method (vendor
servers answer Binding with other message types). Responses whose request the capture does
not hold are kept as orphans: they show a direction of the flow the capture lacks.
"""

from __future__ import annotations

from collections.abc import Iterable

from icetrace.ice.transactions import TRANSACTION_TIMEOUT, Transaction
from icetrace.ice.views import nearest_first, one_check
from icetrace.records.endpoint import Endpoint
from icetrace.records.icmp_error import IcmpError
from icetrace.records.stun_record import StunRecord


def _signature(record: StunRecord) -> tuple[object, ...]:
    return (record.method, record.attributes, record.use_candidate, record.priority, record.username)


def _asked_again(t: Transaction, record: StunRecord) -> bool:
    """The same request once more, after its answer had time to arrive: a new request with a reused
    id, not a retransmission (RFC 8489 §6.2.1 retransmits only while no response came)."""
    if record.time - t.request.time >= TRANSACTION_TIMEOUT:
        return True
    if t.response is None:
        return False
    answered = t.responses[-1].time
    round_trip = (t.rtt_ms or 0.0) / 1000
    return record.time > answered + round_trip


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
    by_request: dict[tuple[str, str, bytes | None], list[Transaction]] = {}
    for t in transactions:
        by_request.setdefault((t.request.method, t.request.transaction_id, t.request.username), []).append(t)
    # A check's USERNAME names its receiver, so its views with other destinations are that agent
    # behind a NAT. A request without one names nobody: one socket sending one id to several
    # destinations (a client asking three STUN servers with one id) sent several requests.
    keep: set[int] = set()
    for key, group in by_request.items():
        for part in _split_by_destination(group) if key[2] is None else [group]:
            if len({(v.src, v.dst) for v in part}) == 1:
                keep.update(id(v) for v in part)
                continue
            checks: list[list[Transaction]] = []
            for view in nearest_first(part):
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


def _split_by_destination(group: list[Transaction]) -> list[list[Transaction]]:
    """Views that may be one request: no two of them leave one address for different destinations,
    unless a NAT before the destination explains it (a server behind a 1:1 NAT, seen on its own
    interface at its private address, views.one_check)."""
    parts: list[list[Transaction]] = []
    for t in group:
        for part in parts:
            if not any(v.src == t.src and v.dst != t.dst and not one_check(v, t) for v in part):
                part.append(t)
                break
        else:
            parts.append([t])
    return parts


def attach_icmp(transactions: list[Transaction], errors: Iterable[IcmpError]) -> None:
    """An ICMP error quoting (src, dst) shortly after a request of that 5-tuple belongs to it."""
    by_tuple: dict[tuple[Endpoint, Endpoint], list[Transaction]] = {}
    for t in transactions:
        if not t.relayed:
            by_tuple.setdefault((t.request.src, t.request.dst), []).append(t)
    for error in errors:
        for t in by_tuple.get((error.quoted_src, error.quoted_dst), []):
            if t.request.time <= error.time <= t.requests[-1].time + 2.0:
                t.icmp = (*t.icmp, error)
                break


def match_transactions(
    records: Iterable[tuple[StunRecord, Endpoint, Endpoint, bool]], capture_end: float
) -> list[Transaction]:
    """Group (record, effective src, effective dst, relayed) into transactions, in order."""
    open_requests: dict[tuple[str, str], list[Transaction]] = {}
    by_id: dict[str, list[Transaction]] = {}
    out: list[Transaction] = []
    for record, src, dst, relayed in records:
        if record.kind != "stun" or not record.transaction_id:
            continue
        key = (record.method, record.transaction_id)
        if record.cls in ("success", "error"):
            candidates = open_requests.get(key, [])
            # RFC 8445 §7.2.5.2.1: a response comes from where the request went
            match = next((t for t in reversed(candidates) if t.src == dst and t.dst == src), None)
            if match is None:
                match = next((t for t in reversed(candidates) if t.src == dst or t.dst == src), None)
            if match is not None:
                match.responses.append(record)
                continue
        answered = next(
            (
                t
                for t in reversed(by_id.get(record.transaction_id, []))
                if t.src == dst and t.dst == src and t.request.time <= record.time
            ),
            None,
        )
        if answered is not None:
            answered.responses.append(record)
            answered.nonstandard = answered.nonstandard or answered.responses[0] is record
            continue
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
            if same is not None and not _asked_again(same, record):
                same.requests.append(record)
                continue
            transaction = Transaction([record], src, dst, relayed=relayed)
            open_requests.setdefault(key, []).append(transaction)
            by_id.setdefault(record.transaction_id, []).append(transaction)
            out.append(transaction)
    for transaction in out:
        transaction.close(capture_end)
    return out


def orphan_responses(records: Iterable[StunRecord], transactions: Iterable[Transaction]) -> list[StunRecord]:
    """Success and error responses that answer no request in the capture: their requests went by
    another path, or the capture holds one direction only."""
    matched = {id(r) for t in transactions for view in (t, *t.other_views) for r in view.responses}
    return [
        r
        for r in records
        if r.kind == "stun" and r.cls in ("success", "error") and r.transaction_id and id(r) not in matched
    ]
