"""The rows of the analysis tables (transactions, candidates, pairs, checks, media, verdicts, streams,
allocations), built
from the columns declared in tables/schema.py: one getter per column, as tables/message_rows.py
builds the messages table's rows. A getter for an undeclared column, or a declared column without
one, is an error when this module loads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from icetrace.ice.allocations import allocation_attempts
from icetrace.ice.integrity import Integrity, transaction_key, without_key
from icetrace.ice.model import Agent, Allocation, Component, IceCandidate, Pair, SelectionChange, Stream, Verdict
from icetrace.ice.reconstruction import Check, Reconstruction
from icetrace.ice.relayed_checks import with_leg_checks
from icetrace.ice.switches import change_text
from icetrace.ice.transactions import Transaction
from icetrace.ice.views import answer_ms, round_trip_ms
from icetrace.records.capture_set import CaptureSet
from icetrace.records.media_flow import MediaFlow
from icetrace.tables.message_rows import table_row
from icetrace.tables.pair_times import PairTimes, pair_times
from icetrace.tables.rows import row_builder
from icetrace.tables.schema import row_columns


class _Verified(NamedTuple):
    """A transaction with the MESSAGE-INTEGRITY of its request and first response."""

    t: Transaction
    integrity: Integrity


class _Signaled(NamedTuple):
    stream: Stream
    agent: Agent
    candidate: IceCandidate


class _Paired(NamedTuple):
    stream: Stream
    component: Component
    pair: Pair
    times: PairTimes


class _Checked(NamedTuple):
    check: Check
    integrity: Integrity


class _Flow(NamedTuple):
    flow: MediaFlow
    chosen: list[Pair]  # every stream's selected pairs
    checks: int | None  # on a TURN leg (ChannelData or indications): its wrappers that carried STUN, not media


PAIR_COUNTERS: dict[str, Callable[[Pair], Any]] = {
    "checks_by_controlling": lambda p: p.checks_from_controlling,
    "checks_by_controlled": lambda p: p.checks_from_controlled,
    "requests_by_controlling": lambda p: p.requests_by_controlling,
    "requests_by_controlled": lambda p: p.requests_by_controlled,
    "answers_to_controlling": lambda p: p.answers_to_controlling,
    "answers_to_controlled": lambda p: p.answers_to_controlled,
    "errors_to_controlling": lambda p: p.errors_to_controlling,
    "errors_to_controlled": lambda p: p.errors_to_controlled,
    "rtt_ms": lambda p: p.rtt_ms,
    "rtt_of": lambda p: p.rtt_of,
    "rtt_ms_controlling": lambda p: p.rtt_ms_controlling,
    "rtt_ms_controlled": lambda p: p.rtt_ms_controlled,
    "answer_ms_controlling": lambda p: p.answer_ms_controlling,
    "answer_ms_controlled": lambda p: p.answer_ms_controlled,
}
"""Each agent's checks and what came back to it, and the round trips; `rtt_ms` is that of the
checks leaving the capture's side (`rtt_of`), an `answer_ms` an agent's answering time. The pairs
table and the JSON document's pairs read them alike."""


def _on_pair(get: Callable[[Pair], Any]) -> Callable[[_Paired], Any]:
    return lambda item: get(item.pair)


_transaction_row = row_builder(
    "transactions",
    row_columns("transactions"),
    {
        "method": lambda v: v.t.request.method,
        "transaction_id": lambda v: v.t.request.transaction_id,
        "src": lambda v: str(v.t.src),
        "dst": lambda v: str(v.t.dst),
        "relayed": lambda v: v.t.relayed,
        "first_frame": lambda v: v.t.request.frame,
        "time": lambda v: v.t.request.time,
        "requests": lambda v: len(v.t.requests),
        "response_frame": lambda v: v.t.response.frame if v.t.response else None,
        "outcome": lambda v: v.t.outcome,
        "error_code": lambda v: v.t.response.error_code if v.t.response else None,
        "rtt_ms": lambda v: round_trip_ms(v.t)[0],
        "answer_ms": lambda v: answer_ms(v.t),
        "integrity": lambda v: v.integrity.request,
        "response_integrity": lambda v: v.integrity.response,
    },
)

_candidate_row = row_builder(
    "candidates",
    row_columns("candidates"),
    {
        "call_id": lambda s: s.stream.call_id,
        "stream": lambda s: s.stream.index,
        "agent": lambda s: s.agent.name,
        "component": lambda s: s.candidate.component,
        "transport": lambda s: s.candidate.transport,
        "type": lambda s: s.candidate.type,
        "address": lambda s: str(s.candidate.address),
        "priority": lambda s: s.candidate.priority,
        "check_priority": lambda s: s.candidate.check_priority,
        "origin": lambda s: s.candidate.origin,
        "related": lambda s: str(s.candidate.related) if s.candidate.related else None,
    },
)

_pair_row = row_builder(
    "pairs",
    row_columns("pairs"),
    {
        "call_id": lambda i: i.stream.call_id,
        "stream": lambda i: i.stream.index,
        "component": lambda i: i.pair.component,
        "controlling": lambda i: str(i.pair.controlling.address),
        "controlling_type": lambda i: i.pair.controlling.type,
        "controlled": lambda i: str(i.pair.controlled.address),
        "controlled_type": lambda i: i.pair.controlled.type,
        "transport": lambda i: i.pair.transport,
        "priority": lambda i: i.pair.priority,
        "state": lambda i: i.pair.state,
        "nominated": lambda i: i.pair.nominated,
        "nominated_by": lambda i: i.pair.nominated_by,
        "selected": lambda i: i.component.selected is i.pair,
        "selected_because": lambda i: i.pair.selected_because if i.component.selected is i.pair else None,
        **{name: _on_pair(get) for name, get in PAIR_COUNTERS.items()},
        "first_check": lambda i: i.pair.first_check,
        "last_check": lambda i: i.pair.last_check,
        "first_success": lambda i: i.times.first_success,
        "nominated_at": lambda i: i.times.nominated_at,
        "media_first": lambda i: i.times.media_first,
        "media_last": lambda i: i.times.media_last,
        "media_packets": lambda i: i.times.media_packets,
        "relayed": lambda i: i.pair.relayed,
    },
)

_check_row = row_builder(
    "checks",
    row_columns("checks"),
    {
        "frame": lambda c: c.check.transaction.request.frame,
        "time": lambda c: c.check.transaction.request.time,
        "transaction_id": lambda c: c.check.transaction.request.transaction_id,
        "call_id": lambda c: c.check.stream.call_id if c.check.stream else None,
        "stream": lambda c: c.check.stream.index if c.check.stream else None,
        "component": lambda c: c.check.pair.component if c.check.pair else None,
        "controlling": lambda c: str(c.check.pair.controlling.address) if c.check.pair else None,
        "controlled": lambda c: str(c.check.pair.controlled.address) if c.check.pair else None,
        "sender": lambda c: c.check.sender,
        "src": lambda c: str(c.check.transaction.src),
        "dst": lambda c: str(c.check.transaction.dst),
        "relayed": lambda c: c.check.transaction.relayed,
        "use_candidate": lambda c: c.check.transaction.request.use_candidate,
        "ice_role": lambda c: c.check.transaction.request.ice_role,
        "priority": lambda c: c.check.transaction.request.priority,
        "retransmissions": lambda c: c.check.transaction.retransmissions,
        "outcome": lambda c: c.check.transaction.outcome,
        "rtt_ms": lambda c: round_trip_ms(c.check.transaction)[0],
        "answer_ms": lambda c: answer_ms(c.check.transaction),
        "integrity": lambda c: c.integrity.request,
        "response_integrity": lambda c: c.integrity.response,
    },
)

_media_row = row_builder(
    "media",
    row_columns("media"),
    {
        "src": lambda m: str(m.flow.src),
        "dst": lambda m: str(m.flow.dst),
        "transport": lambda m: m.flow.transport,
        "kind": lambda m: m.flow.kind,
        "first_frame": lambda m: m.flow.first_frame,
        "first_time": lambda m: m.flow.first_time,
        "last_frame": lambda m: m.flow.last_frame,
        "last_time": lambda m: m.flow.last_time,
        "packets": lambda m: m.flow.packets,
        "bytes": lambda m: m.flow.bytes,
        "on_selected_pair": lambda m: any(p.carries(m.flow.src, m.flow.dst) for p in m.chosen),
        "relay_via": lambda m: m.flow.relay_via or None,
        "relay_server": lambda m: str(m.flow.relay_server) if m.flow.relay_server else None,
        "relay_peer": lambda m: str(m.flow.relay_peer) if m.flow.relay_peer else None,
        "channel": lambda m: m.flow.channel,
        "checks": lambda m: m.checks,
    },
)

_verdict_row = row_builder(
    "verdicts",
    row_columns("verdicts"),
    {
        "code": lambda v: v.code,
        "severity": lambda v: v.severity,
        "message": lambda v: v.message,
        "frames": lambda v: list(v.frames),
        "call_id": lambda v: v.call_id,
    },
)


class _Session(NamedTuple):
    stream: Stream
    rec: Reconstruction

    @property
    def selected(self) -> list[Pair]:
        return [c.selected for c in self.stream.components if c.selected is not None]

    @property
    def pairs(self) -> list[Pair]:
        return [p for c in self.stream.components for p in c.pairs]

    def relay(self) -> Allocation | None:
        """The allocation whose relayed address is a side of the first selected pair."""
        if not self.selected:
            return None
        ends = {self.selected[0].controlling.address, self.selected[0].controlled.address}
        return next((a for a in self.rec.allocations if a.relayed in ends), None)

    def relay_host(self) -> str | None:
        """Without the allocation (the far agent's): a server seen allocating on the relayed candidate's IP
        (a TURN server relays from its own addresses)."""
        if not self.selected:
            return None
        relayed = [c.address for c in (self.selected[0].controlling, self.selected[0].controlled) if c.type == "relay"]
        hosts = {str(a.server) for r in relayed for a in self.rec.allocations if a.server.ip == r.ip}
        return sorted(hosts)[0] if len(hosts) == 1 else None

    def time_to_connect_ms(self) -> float | None:
        """From the stream's first check to the first answered check on the first selected pair."""
        starts = [p.first_check for p in self.pairs if p.first_check is not None]
        if not self.selected or not starts:
            return None
        chosen = self.selected[0]
        answers = [
            c.transaction.response.time
            for c in self.rec.checks
            if c.pair is chosen and c.transaction.response is not None and c.transaction.outcome == "success"
        ]
        return round((min(answers) - min(starts)) * 1000, 3) if answers else None


def stream_source(stream: Stream, rec: Reconstruction, first_checks: dict[int, int] | None = None) -> int | str | None:
    """The file that signaled a stream, else its first check's frame (`first_checks`: every
    stream's, from first_check_frames, when many streams are asked)."""
    for agent in (stream.controlling, stream.controlled):
        signaled = [c.signaled_in for c in agent.candidates if c.signaled_in] if agent else []
        if signaled:
            return signaled[0]
    if first_checks is not None:
        return first_checks.get(id(stream))
    return next((c.transaction.request.frame for c in rec.checks if c.stream is stream), None)


def first_check_frames(rec: Reconstruction) -> dict[int, int]:
    """Each stream's first check's frame, by id(stream), found in one pass over the checks."""
    out: dict[int, int] = {}
    for c in rec.checks:
        if c.stream is not None:
            out.setdefault(id(c.stream), c.transaction.request.frame)
    return out


def candidate_source(candidate: IceCandidate) -> int | str | None:
    """A learned candidate's frame, a signaled one's signaling file."""
    if candidate.frame is not None and (candidate.origin != "sdp" or candidate.signaled_in is None):
        return candidate.frame
    return candidate.signaled_in


def pair_source(pair: Pair) -> int | str | None:
    """Its first frame (as the JSON document's `first_frame`), else where its candidates were signaled."""
    if pair.frames:
        return min(pair.frames)
    return pair.controlling.signaled_in or pair.controlled.signaled_in


def _first_selected(get: Callable[[Pair], Any]) -> Callable[[_Session], Any]:
    return lambda s: get(s.selected[0]) if s.selected else None


_stream_row = row_builder(
    "streams",
    row_columns("streams"),
    {
        "call_id": lambda s: s.stream.call_id,
        "stream": lambda s: s.stream.index,
        "media": lambda s: s.stream.media,
        "outcome": lambda s: s.stream.outcome,
        "connectivity": lambda s: s.stream.connectivity,
        "nomination_style": lambda s: s.stream.nomination_style,
        "cause": lambda s: s.stream.cause.code if s.stream.cause else None,
        "components": lambda s: len(s.stream.components),
        "selected_components": lambda s: len(s.selected),
        "selected_controlling_type": _first_selected(lambda p: p.controlling.type),
        "selected_controlled_type": _first_selected(lambda p: p.controlled.type),
        "selected_transport": _first_selected(lambda p: p.transport),
        "pairs": lambda s: len(s.pairs),
        "succeeded_pairs": lambda s: sum(p.state == "succeeded" for p in s.pairs),
        "failed_pairs": lambda s: sum(p.state == "failed" for p in s.pairs),
        "time_to_connect_ms": lambda s: s.time_to_connect_ms(),
        "relay_server": lambda s: str(relay.server) if (relay := s.relay()) else s.relay_host(),
        "relay_protocol": lambda s: relay.transport if (relay := s.relay()) else None,
    },
)

_allocation_row = row_builder(
    "allocations",
    row_columns("allocations"),
    {
        "client": lambda a: str(a.client),
        "server": lambda a: str(a.server),
        "transport": lambda a: a.transport,
        "relayed_address": lambda a: str(a.relayed[0]) if a.relayed else None,
        "mapped": lambda a: str(a.mapped) if a.mapped else None,
        "requests": lambda a: a.requests,
        "successes": lambda a: a.successes,
        "errors": lambda a: list(a.errors),
        "frame": lambda a: a.frame,
        "summary": lambda a: a.text(),
    },
)


class _Move(NamedTuple):
    stream: Stream
    component: Component
    change: SelectionChange
    rec: Reconstruction


_selection_change_row = row_builder(
    "selection_changes",
    row_columns("selection_changes"),
    {
        "call_id": lambda m: m.stream.call_id,
        "stream": lambda m: m.stream.index,
        "component": lambda m: m.component.component,
        "time": lambda m: m.change.time,
        "frame": lambda m: m.change.frame,
        "from_controlling": lambda m: str(m.change.before.controlling.address),
        "from_controlled": lambda m: str(m.change.before.controlled.address),
        "from_relayed": lambda m: m.change.before.is_relay,
        "to_controlling": lambda m: str(m.change.after.controlling.address),
        "to_controlled": lambda m: str(m.change.after.controlled.address),
        "to_relayed": lambda m: m.change.after.is_relay,
        "summary": lambda m: change_text(m.change, m.rec.start, m.rec.captures.frame_text),
    },
)


def _verified(rec: Reconstruction, t: Transaction) -> Integrity:
    """MESSAGE-INTEGRITY of a request and its first response, verified where a key was known."""
    return rec.integrity.get(transaction_key(t)) or without_key(t)


def _candidates(rec: Reconstruction) -> list[_Signaled]:
    return [
        _Signaled(s, agent, c)
        for s in rec.streams
        for agent in (s.controlling, s.controlled)
        if agent is not None
        for c in agent.candidates
    ]


def _items(name: str, rec: Reconstruction, verdicts: list[Verdict]) -> list[Any]:
    """What the table `name` has one row of, in the order the reconstruction holds them."""
    if name == "messages":
        return list(rec.records)
    if name == "transactions":
        return [_Verified(t, _verified(rec, t)) for t in rec.transactions]
    if name == "candidates":
        return _candidates(rec)
    if name == "pairs":
        times = pair_times(rec)
        return [_Paired(s, comp, p, times[id(p)]) for s in rec.streams for comp in s.components for p in comp.pairs]
    if name == "checks":
        return [_Checked(c, _verified(rec, c.transaction)) for c in rec.checks]
    if name == "media":
        chosen = [c.selected for s in rec.streams for c in s.components if c.selected]
        legs = [*rec.media, *rec.indication_legs, *rec.relayed_media]
        flows = with_leg_checks(legs, rec.relayed_checks, rec.captures.tap)
        return [_Flow(f, chosen, checks) for f, checks in flows]
    if name == "verdicts":
        return list(verdicts)
    if name == "streams":
        return [_Session(s, rec) for s in rec.streams]
    if name == "allocations":
        return allocation_attempts(rec)
    if name == "selection_changes":
        return [_Move(s, c, change, rec) for s in rec.streams for c in s.components for change in c.selection_changes]
    raise KeyError(name)


_ROWS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "messages": table_row,
    "transactions": _transaction_row,
    "candidates": _candidate_row,
    "pairs": _pair_row,
    "checks": _check_row,
    "media": _media_row,
    "verdicts": _verdict_row,
    "streams": _stream_row,
    "allocations": _allocation_row,
    "selection_changes": _selection_change_row,
}


def file_named(files: CaptureSet, source: int | str | None) -> str | None:
    """The name of the file a row came from: a frame id's capture, or the file named."""
    return files.file_of(source) if isinstance(source, int) else source


def table_rows(name: str, rec: Reconstruction, verdicts: list[Verdict]) -> list[dict[str, Any]]:
    """The rows of the analysis table `name`, in the order the reconstruction holds them, each with
    the capture it came from."""
    build, source = _ROWS[name], _CAPTURE_OF[name]
    files = rec.captures
    rows = []
    for item in _items(name, rec, verdicts):
        row = build(item)
        row["capture"] = file_named(files, source(item))
        rows.append(row)
    return rows


_CAPTURE_OF: dict[str, Callable[[Any], int | str | None]] = {
    "messages": lambda r: r.frame,
    "transactions": lambda v: v.t.request.frame,
    "candidates": lambda s: candidate_source(s.candidate),
    "pairs": lambda i: pair_source(i.pair),
    "checks": lambda c: c.check.transaction.request.frame,
    "media": lambda m: m.flow.first_frame,
    "verdicts": lambda v: v.frames[0] if v.frames else None,
    "streams": lambda s: stream_source(s.stream, s.rec),
    "allocations": lambda a: a.frame,
    "selection_changes": lambda m: m.change.frame,
}
"""Where each table's row came from: a frame id (its capture named by the capture set) or a file name."""
