"""The public entry point: analyze captures (+ SDP files, logs) into an Analysis.

>>> a = icetrace.analyze(["call.pcapng"], sdp=["offer.sdp", "answer.sdp"])
>>> a.pairs[a.pairs.selected]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from icetrace.capture.packet_source import PacketSource
from icetrace.ice.correlator import correlate
from icetrace.ice.diagnosis import diagnose
from icetrace.ice.integrity import transaction_key, without_key
from icetrace.ice.model import Cause, Pair, SelectionChange, Stream, Verdict
from icetrace.ice.reconstruction import Reconstruction
from icetrace.ice.transactions import Transaction
from icetrace.ice.views import answer_ms, round_trip_ms
from icetrace.records.extract import RecordExtractor, iter_stun_records
from icetrace.records.icmp_error import IcmpError
from icetrace.records.media_flow import MediaFlow
from icetrace.records.relayed import RelayedCounter
from icetrace.records.stun_record import StunRecord
from icetrace.signaling.app_signaling import AppSignalingCollector, build_app_model
from icetrace.signaling.model import SignalingModel
from icetrace.signaling.sources import SipCollector, add_sdp_files, load_signaling
from icetrace.tables.message_rows import table_row

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

# 1.1: streams carry "connectivity"; 1.2: pairs carry "selected_because"; 1.3: per-direction pair figures;
# 1.4: streams carry "cause", components "selection_changes"
JSON_SCHEMA_VERSION = "1.4"


@dataclass
class Analysis:
    """The reconstruction plus its tables. DataFrames are built on first use."""

    reconstruction: Reconstruction
    verdict_list: list[Verdict]
    problems: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    duplicate_messages: int = 0  # records another capture of the same traffic also held, kept once
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def streams(self) -> list[Stream]:
        return self.reconstruction.streams

    def _table(self, name: str) -> pd.DataFrame:
        from icetrace.tables.schema import dataframe  # pandas (90 MB resident) only when a table is asked for

        if name not in self._cache:
            self._cache[name] = dataframe(name, getattr(self, f"_{name}_rows")())
        return self._cache[name]

    @property
    def messages(self) -> pd.DataFrame:
        return self._table("messages")

    @property
    def transactions(self) -> pd.DataFrame:
        return self._table("transactions")

    @property
    def candidates(self) -> pd.DataFrame:
        return self._table("candidates")

    @property
    def pairs(self) -> pd.DataFrame:
        return self._table("pairs")

    @property
    def checks(self) -> pd.DataFrame:
        return self._table("checks")

    @property
    def media(self) -> pd.DataFrame:
        return self._table("media")

    @property
    def verdicts(self) -> pd.DataFrame:
        return self._table("verdicts")

    # -- rows ---------------------------------------------------------------

    def _messages_rows(self) -> list[dict[str, Any]]:
        return [table_row(r) for r in self.reconstruction.records]

    def _transactions_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "method": t.request.method,
                "transaction_id": t.request.transaction_id,
                "src": str(t.src),
                "dst": str(t.dst),
                "relayed": t.relayed,
                "first_frame": t.request.frame,
                "time": t.request.time,
                "requests": len(t.requests),
                "response_frame": t.response.frame if t.response else None,
                "outcome": t.outcome,
                "error_code": t.response.error_code if t.response else None,
                "rtt_ms": round_trip_ms(t)[0],
                "answer_ms": answer_ms(t),
                **self._integrity(t),
            }
            for t in self.reconstruction.transactions
        ]

    def _integrity(self, t: Transaction) -> dict[str, str | None]:
        """MESSAGE-INTEGRITY of a request and its first response, verified where a key was known."""
        found = self.reconstruction.integrity.get(transaction_key(t)) or without_key(t)
        return {"integrity": found.request, "response_integrity": found.response}

    def _candidates_rows(self) -> list[dict[str, Any]]:
        rows = []
        for s in self.streams:
            for agent in (s.controlling, s.controlled):
                if agent is None:
                    continue
                for c in agent.candidates:
                    rows.append(
                        {
                            "call_id": s.call_id,
                            "stream": s.index,
                            "agent": agent.name,
                            "component": c.component,
                            "transport": c.transport,
                            "type": c.type,
                            "address": str(c.address),
                            "priority": c.priority,
                            "check_priority": c.check_priority,
                            "origin": c.origin,
                            "related": str(c.related) if c.related else None,
                        }
                    )
        return rows

    def _pairs_rows(self) -> list[dict[str, Any]]:
        rows = []
        for s in self.streams:
            for comp in s.components:
                for p in comp.pairs:
                    rows.append(
                        {
                            "call_id": s.call_id,
                            "stream": s.index,
                            "component": p.component,
                            "controlling": str(p.controlling.address),
                            "controlling_type": p.controlling.type,
                            "controlled": str(p.controlled.address),
                            "controlled_type": p.controlled.type,
                            "transport": p.transport,
                            "priority": p.priority,
                            "state": p.state,
                            "nominated": p.nominated,
                            "nominated_by": p.nominated_by,
                            "selected": comp.selected is p,
                            "selected_because": p.selected_because if comp.selected is p else None,
                            **_pair_counters(p),
                            "first_check": p.first_check,
                            "last_check": p.last_check,
                            "relayed": p.relayed,
                        }
                    )
        return rows

    def _checks_rows(self) -> list[dict[str, Any]]:
        rows = []
        for check in self.reconstruction.checks:
            t, stream, sender = check.transaction, check.stream, check.sender
            req = t.request
            rows.append(
                {
                    "frame": req.frame,
                    "time": req.time,
                    "transaction_id": req.transaction_id,
                    "call_id": stream.call_id if stream else None,
                    "sender": sender,
                    "src": str(t.src),
                    "dst": str(t.dst),
                    "relayed": t.relayed,
                    "use_candidate": req.use_candidate,
                    "ice_role": req.ice_role,
                    "priority": req.priority,
                    "retransmissions": t.retransmissions,
                    "outcome": t.outcome,
                    "rtt_ms": round_trip_ms(t)[0],
                    "answer_ms": answer_ms(t),
                    **self._integrity(t),
                }
            )
        return rows

    def _media_rows(self) -> list[dict[str, Any]]:
        chosen = [c.selected for s in self.streams for c in s.components if c.selected]
        return [
            {
                "src": str(f.src),
                "dst": str(f.dst),
                "transport": f.transport,
                "kind": f.kind,
                "first_frame": f.first_frame,
                "first_time": f.first_time,
                "last_frame": f.last_frame,
                "last_time": f.last_time,
                "packets": f.packets,
                "bytes": f.bytes,
                "on_selected_pair": any(p.carries(f.src, f.dst) for p in chosen),
                "relay_via": f.relay_via or None,
                "relay_server": str(f.relay_server) if f.relay_server else None,
                "relay_peer": str(f.relay_peer) if f.relay_peer else None,
                "channel": f.channel,
            }
            for f in [*self.reconstruction.media, *self.reconstruction.relayed_media]
        ]

    def _verdicts_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "code": v.code,
                "severity": v.severity,
                "message": v.message,
                "frames": ",".join(str(f) for f in v.frames),
                "call_id": v.call_id,
            }
            for v in self.verdict_list
        ]

    # -- pictures -----------------------------------------------------------

    def plot_timeline(self) -> Figure:
        """One lane per candidate pair with its checks, media and the SIP events (matplotlib Figure)."""
        from icetrace.plots.timeline import timeline_figure

        return timeline_figure(self)

    def plot_ladder(self) -> Figure:
        """The STUN/TURN call flow between transport addresses named by role (matplotlib Figure)."""
        from icetrace.plots.ladder import ladder_figure

        return ladder_figure(self)

    # -- JSON ---------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The documented, versioned JSON shape (docs/json-schema.md)."""
        return {
            "schema_version": JSON_SCHEMA_VERSION,
            "sources": self.sources,
            "vantage": self.reconstruction.vantage,
            "streams": [_stream_dict(s) for s in self.streams],
            "nat_mappings": [
                {"inside": str(m.inside), "outside": str(m.outside), "frames": m.frames}
                for m in self.reconstruction.nat_mappings
            ],
            "allocations": [
                {
                    "client": str(a.client),
                    "server": str(a.server),
                    "transport": a.transport,
                    "relayed": str(a.relayed) if a.relayed else None,
                    "mapped": str(a.mapped) if a.mapped else None,
                    "lifetime": a.lifetime,
                    "frame": a.frame,
                }
                for a in self.reconstruction.allocations
            ],
            "verdicts": [
                {"code": v.code, "severity": v.severity, "message": v.message, "frames": v.frames, "call_id": v.call_id}
                for v in self.verdict_list
            ],
            "problems": self.problems,
        }


def _endpoint_dict(c: Any) -> dict[str, Any]:
    return {"address": str(c.address), "type": c.type, "transport": c.transport, "agent": c.agent}


def pair_dict(p: Pair) -> dict[str, Any]:
    return {
        "controlling": _endpoint_dict(p.controlling),
        "controlled": _endpoint_dict(p.controlled),
        "transport": p.transport,
        "component": p.component,
        "priority": p.priority,
        "state": p.state,
        "nominated": p.nominated,
        "nominated_by": p.nominated_by,
        "selected_because": p.selected_because,
        **{k: round(v, 3) if isinstance(v, float) else v for k, v in _pair_counters(p).items()},
        "first_frame": min(p.frames) if p.frames else None,
    }


def _pair_counters(p: Pair) -> dict[str, Any]:
    """Each agent's checks and what came back to it, and the round trips; `rtt_ms` is that of the
    checks leaving the capture's side (`rtt_of`), an `answer_ms` an agent's answering time."""
    return {
        "checks_by_controlling": p.checks_from_controlling,
        "checks_by_controlled": p.checks_from_controlled,
        "requests_by_controlling": p.requests_by_controlling,
        "requests_by_controlled": p.requests_by_controlled,
        "answers_to_controlling": p.answers_to_controlling,
        "answers_to_controlled": p.answers_to_controlled,
        "errors_to_controlling": p.errors_to_controlling,
        "errors_to_controlled": p.errors_to_controlled,
        "rtt_ms": p.rtt_ms,
        "rtt_of": p.rtt_of,
        "rtt_ms_controlling": p.rtt_ms_controlling,
        "rtt_ms_controlled": p.rtt_ms_controlled,
        "answer_ms_controlling": p.answer_ms_controlling,
        "answer_ms_controlled": p.answer_ms_controlled,
    }


def _stream_dict(s: Stream) -> dict[str, Any]:
    def agent(a: Any) -> dict[str, Any] | None:
        if a is None:
            return None
        return {
            "name": a.name,
            "ufrag": a.ufrag,
            "role": a.role,
            "ice_lite": a.ice_lite,
            "candidates": [
                {
                    **_endpoint_dict(c),
                    "component": c.component,
                    "priority": c.priority,
                    "check_priority": c.check_priority,
                    "origin": c.origin,
                }
                for c in a.candidates
            ],
        }

    return {
        "call_id": s.call_id,
        "index": s.index,
        "media": s.media,
        "outcome": s.outcome,
        "connectivity": s.connectivity or None,
        "nomination_style": s.nomination_style,
        "controlling": agent(s.controlling),
        "controlled": agent(s.controlled),
        "components": [
            {
                "component": c.component,
                "pairs": [pair_dict(p) for p in c.pairs],
                "selected": pair_dict(c.selected) if c.selected else None,
                "selected_by": c.selected_by,
                "selection_changes": [selection_change_dict(change) for change in c.selection_changes],
            }
            for c in s.components
        ],
        "media_flows": [
            {"src": str(f.src), "dst": str(f.dst), "kind": f.kind, "packets": f.packets, "first_frame": f.first_frame}
            for f in s.media_flows
        ],
        "cause": cause_dict(s.cause),
    }


def cause_dict(cause: Cause | None) -> dict[str, Any] | None:
    if cause is None:
        return None
    return {
        "code": cause.code,
        "summary": cause.summary,
        "evidence_frames": cause.evidence_frames,
        "next_step": cause.next_step,
    }


def selection_change_dict(change: SelectionChange) -> dict[str, Any]:
    return {
        "time": change.time,
        "frame": change.frame,
        "from": pair_dict(change.before),
        "to": pair_dict(change.after),
    }


def analyze(
    captures: Sequence[str | Path | Any] = (),
    sdp: Sequence[str | Path] = (),
    logs: Sequence[str | Path] = (),
    *,
    records: Iterable[StunRecord] | None = None,
    signaling: SignalingModel | None = None,
    media: Iterable[MediaFlow] | None = None,
    engine: str = "native",
    tls_keylog: str | Path | None = None,
    rsa_key: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    app_signaling: bool = True,
    display_filter: str | None = None,
) -> Analysis:
    """Read the captures once (STUN records, SIP, media counts), add signaling, correlate, diagnose.

    Several captures of one call may be given; the same message seen twice (same
    transaction, type and time) is kept once. `app_signaling=False` leaves the HTTP/WebSocket
    signaling in the captures unread (the story the checks alone tell). A capture may be a
    pyshark FileCapture: its display filter, decode-as and preferences choose the frames (a TLS
    key log among its preferences decrypts SIP). `display_filter` (Wireshark syntax) narrows
    every capture; frame numbers stay the original file's.
    """
    per_capture: list[list[StunRecord]] = [list(records or [])]
    all_media: list[MediaFlow] = list(media or [])
    icmp: list[IcmpError] = []
    problems: list[str] = []
    model = signaling or SignalingModel()
    capture_end = 0.0
    merged = RelayedCounter()
    relayed_copies = 0
    options = _ReadOptions(engine, tls_keylog, rsa_key, progress, app_signaling, display_filter)
    sources = []
    for capture in captures:
        read = _read_capture(capture, options, model)
        sources.append(read.source)
        per_capture.append(read.records)
        problems += read.problems
        relayed_copies += merged.merge(read.relayed)
        all_media.extend(read.flows)
        icmp.extend(read.icmp)
        capture_end = max(capture_end, read.end)
    if logs:
        load_signaling(logs=logs, model=model)
    add_sdp_files(model, sdp)
    problems += model.problems
    all_records = _dedupe(per_capture)
    copies = sum(len(r) for r in per_capture) - len(all_records) + relayed_copies
    del per_capture  # the records live on in all_records, then in the reconstruction
    if all_records:
        capture_end = max(capture_end, max(r.time for r in all_records))
    rec = correlate(all_records, model, all_media, capture_end or None, icmp, merged.counts())
    return Analysis(rec, diagnose(rec), problems, [*sources, *(str(p) for p in [*sdp, *logs])], copies)


@dataclass(frozen=True)
class _ReadOptions:
    engine: str
    tls_keylog: str | Path | None
    rsa_key: str | Path | None
    progress: Callable[[int, int], None] | None
    app_signaling: bool
    display_filter: str | None


@dataclass
class _CaptureRead:
    """What one capture gave: its STUN records (relayed media counted, not kept), media flows,
    ICMP errors, problems, and the time of its last packet."""

    source: str
    records: list[StunRecord]
    relayed: RelayedCounter
    flows: list[MediaFlow]
    icmp: list[IcmpError]
    problems: list[str]
    end: float


def _read_capture(capture: str | Path | Any, options: _ReadOptions, model: SignalingModel) -> _CaptureRead:
    """Read one capture once; its SIP and application signaling go into `model`."""
    from icetrace.capture import pyshark_input
    from icetrace.signaling.dialogs import build_model

    path = pyshark_input.capture_path(capture)
    pyshark = pyshark_input.is_pyshark_capture(capture)
    arguments = pyshark_input.with_filter(
        pyshark_input.tshark_arguments(capture) if pyshark else [], options.display_filter
    )
    keylog = options.tls_keylog if options.tls_keylog is not None else pyshark_input.tls_keylog(arguments)
    end = 0.0
    with _readable(path, options.engine) as whole, pyshark_input.readable(whole, arguments) as readable:
        source = PacketSource([readable], progress=options.progress, count_relayed=True)
        extractor = RecordExtractor(all_bytes=False)
        sip = SipCollector(path.name)
        app = AppSignalingCollector(path.name)
        records: list[StunRecord] = []
        relayed = RelayedCounter()
        for packet in source:
            end = max(end, packet.time)
            for record in extractor.feed(packet):
                if not relayed.add(record):  # relayed media is counted, not kept
                    records.append(record)
            sip.feed(packet)
            if options.app_signaling:
                app.feed(packet)
        app.finish()
    problems: list[str] = []
    if keylog is not None or options.rsa_key is not None:
        from icetrace.capture.tshark_engine import tls_plaintext
        from icetrace.signaling.sources import decrypted_signaling

        tls = decrypted_signaling(path.name, tls_plaintext(path, keylog, options.rsa_key))
        sip.messages.extend(tls.sip_messages)
        app.signals.extend(tls.signals)
        problems += tls.problems
    build_model(sip.messages + app.sip_messages, model)
    build_app_model(app.signals, model)
    problems += [str(p) for p in source.problems] + sip.problems + app.problems
    for count in source.relayed_counts():
        relayed.include(count)
    flows = source.media_flows()
    # media is counted, not handed on: its last frame still says how long the capture ran
    end = max([end, *(f.last_time for f in flows)])
    if source.relayed_end is not None:  # so do the indications the skimmer counted
        end = max(end, source.relayed_end)
    name = str(path) if pyshark else str(capture)
    return _CaptureRead(name, records, relayed, flows, source.icmp_errors, problems, end)


def capture_records(capture: str | Path) -> Iterator[StunRecord]:
    """Every STUN/TURN message and ChannelData frame of one capture file."""
    return iter_stun_records(PacketSource([capture]))


@contextmanager
def _readable(capture: str | Path, engine: str) -> Iterator[str | Path]:
    """The capture itself (native engine) or a pcapng copy tshark wrote (tshark engine)."""
    if engine == "tshark":
        from icetrace.capture.tshark_engine import converted

        with converted(capture) as copy:
            yield copy
    else:
        yield capture


def _dedupe(per_capture: list[list[StunRecord]]) -> list[StunRecord]:
    """Every record, less those another capture already holds (the same call tapped twice).

    Within one capture identical messages stay: an agent may send one message several times in
    one TCP segment, and `icetrace messages` lists each."""
    sources = [records for records in per_capture if records]
    if len(sources) <= 1:
        return sources[0] if sources else []  # one source: no keys to remember
    seen: set[tuple[object, ...]] = set()
    out = []
    for records in sources:
        mine: set[tuple[object, ...]] = set()
        for r in records:
            # ChannelData has no transaction id: its channel, addresses, time and size name it
            key = (r.kind, r.transaction_id, r.type, r.src, r.dst, round(r.time, 3), r.raw, r.payload_length)
            if key in seen:
                continue
            mine.add(key)
            out.append(r)
        seen |= mine
    return out
