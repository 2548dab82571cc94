"""The JSON document of an analysis (`icetrace analyze --json`): the documented, versioned shape of
docs/json-schema.md, written from the reconstruction and its verdicts. Pair fields that mirror table
columns are read with the tables' getters (tables/analysis_rows.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from icetrace.ice.model import Cause, Pair, SelectionChange, Stream, Verdict
from icetrace.ice.reconstruction import Reconstruction
from icetrace.records.capture_set import CaptureSet
from icetrace.tables.analysis_rows import (
    PAIR_COUNTERS,
    candidate_source,
    file_named,
    first_check_frames,
    pair_source,
    stream_source,
)

# 1.1: streams carry "connectivity"; 1.2: pairs carry "selected_because"; 1.3: per-direction pair figures;
# 1.4: with several captures a frame reference reads "file#number", an address never shown reads in words;
# 1.5: streams carry "cause", components "selection_changes";
# 1.6: streams, candidates, pairs, media flows, allocations and verdicts name the capture they came from
JSON_SCHEMA_VERSION = "1.6"

FrameRef = Callable[[int | None], int | str | None]


def json_document(
    rec: Reconstruction, verdicts: list[Verdict], problems: list[str], sources: list[str]
) -> dict[str, Any]:
    """The documented, versioned JSON shape (docs/json-schema.md). With several captures a frame
    reference reads 'file#number'."""
    ref, files = rec.captures.frame_json, rec.captures
    firsts = first_check_frames(rec)
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "sources": sources,
        "vantage": rec.vantage,
        "streams": [stream_dict(s, ref, files, file_named(files, stream_source(s, rec, firsts))) for s in rec.streams],
        "nat_mappings": [
            {"inside": str(m.inside), "outside": str(m.outside), "frames": [ref(f) for f in m.frames]}
            for m in rec.nat_mappings
        ],
        "allocations": [
            {
                "capture": files.file_of(a.frame),
                "client": str(a.client),
                "server": str(a.server),
                "transport": a.transport,
                "relayed": str(a.relayed) if a.relayed else None,
                "mapped": str(a.mapped) if a.mapped else None,
                "lifetime": a.lifetime,
                "frame": ref(a.frame),
            }
            for a in rec.allocations
        ],
        "verdicts": [
            {
                "capture": files.file_of(v.frames[0]) if v.frames else None,
                "code": v.code,
                "severity": v.severity,
                "message": v.message,
                "frames": [ref(f) for f in v.frames],
                "call_id": v.call_id,
            }
            for v in verdicts
        ],
        "problems": problems,
    }


def _endpoint_dict(c: Any) -> dict[str, Any]:
    return {"address": str(c.address), "type": c.type, "transport": c.transport, "agent": c.agent}


def pair_dict(p: Pair, ref: FrameRef = lambda f: f, files: CaptureSet | None = None) -> dict[str, Any]:
    return {
        "capture": file_named(files or CaptureSet(), pair_source(p)),
        "controlling": _endpoint_dict(p.controlling),
        "controlled": _endpoint_dict(p.controlled),
        "transport": p.transport,
        "component": p.component,
        "priority": p.priority,
        "state": p.state,
        "nominated": p.nominated,
        "nominated_by": p.nominated_by,
        "selected_because": p.selected_because,
        **{k: _rounded(get(p)) for k, get in PAIR_COUNTERS.items()},
        "first_frame": ref(min(p.frames)) if p.frames else None,
    }


def stream_dict(
    s: Stream, ref: FrameRef = lambda f: f, files: CaptureSet | None = None, capture: str | None = None
) -> dict[str, Any]:
    """A stream as the document writes it; `files` names the capture of its candidates, pairs and
    media, `capture` the stream's own (tables/analysis_rows.stream_source)."""
    files = files or CaptureSet()
    return {
        "capture": capture,
        "call_id": s.call_id,
        "index": s.index,
        "media": s.media,
        "outcome": s.outcome,
        "connectivity": s.connectivity or None,
        "nomination_style": s.nomination_style,
        "controlling": _agent_dict(s.controlling, files),
        "controlled": _agent_dict(s.controlled, files),
        "components": [
            {
                "component": c.component,
                "pairs": [pair_dict(p, ref, files) for p in c.pairs],
                "selected": pair_dict(c.selected, ref, files) if c.selected else None,
                "selected_by": c.selected_by,
                "selection_changes": [selection_change_dict(change, ref, files) for change in c.selection_changes],
            }
            for c in s.components
        ],
        "media_flows": [
            {
                "capture": files.file_of(f.first_frame),
                "src": str(f.src),
                "dst": str(f.dst),
                "kind": f.kind,
                "packets": f.packets,
                "first_frame": ref(f.first_frame),
            }
            for f in s.media_flows
        ],
        "cause": cause_dict(s.cause, ref),
    }


def _agent_dict(a: Any, files: CaptureSet) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "name": a.name,
        "ufrag": a.ufrag,
        "role": a.role,
        "ice_lite": a.ice_lite,
        "candidates": [
            {
                "capture": file_named(files, candidate_source(c)),
                **_endpoint_dict(c),
                "component": c.component,
                "priority": c.priority,
                "check_priority": c.check_priority,
                "origin": c.origin,
            }
            for c in a.candidates
        ],
    }


def cause_dict(cause: Cause | None, ref: FrameRef = lambda f: f) -> dict[str, Any] | None:
    if cause is None:
        return None
    return {
        "code": cause.code,
        "summary": cause.summary,
        "evidence_frames": [ref(f) for f in cause.evidence_frames],
        "next_step": cause.next_step,
    }


def selection_change_dict(
    change: SelectionChange, ref: FrameRef = lambda f: f, files: CaptureSet | None = None
) -> dict[str, Any]:
    return {
        "time": change.time,
        "frame": ref(change.frame),
        "from": pair_dict(change.before, ref, files),
        "to": pair_dict(change.after, ref, files),
    }


def _rounded(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value
