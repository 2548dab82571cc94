"""One JSON object per ICE session, a line each (`analyze --json-lines`, `watch --json-lines`): for
log pipelines (Elasticsearch, Loki, pandas `read_json(lines=True)`), which take records, not one
document. Each object is the session's stream as the JSON document writes it, with the many-calls
summary's fields beside it and the verdicts of its call."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from icetrace.ice.model import Verdict
from icetrace.ice.reconstruction import Reconstruction
from icetrace.records.capture_set import CaptureSet
from icetrace.report.json_document import JSON_SCHEMA_VERSION, FrameRef, stream_dict
from icetrace.report.summary import SessionLine, session_lines


def session_object(
    line: SessionLine,
    sources: Sequence[str],
    ended: dict[str, Any] | None = None,
    ref: FrameRef = lambda f: f,
    files: CaptureSet | None = None,
) -> dict[str, Any]:
    """`ended`: when and why a watched session ended (`icetrace watch`); `ref` writes a frame reference
    (with several captures, 'file#number'); `files` names the captures frames come from."""
    connect = line.connect_seconds
    return {
        **({"ended": ended} if ended is not None else {}),
        "schema_version": JSON_SCHEMA_VERSION,
        "sources": list(sources),
        "session": line.label,
        "cause_code": line.cause,
        "turn_server": line.turn_server,
        "client_subnet": line.subnet,
        "started": line.started,
        "connected": line.connected,
        "connect_seconds": None if connect is None else round(connect, 3),
        "errors": line.errors,
        "warnings": line.warnings,
        **stream_dict(line.story, ref, files, line.capture),
        "verdicts": [
            {"code": v.code, "severity": v.severity, "message": v.message, "frames": [ref(f) for f in v.frames]}
            for v in line.verdicts
        ],
    }


def write_session(
    line: SessionLine,
    sources: Sequence[str],
    out: TextIO,
    ended: dict[str, Any] | None = None,
    ref: FrameRef = lambda f: f,
    files: CaptureSet | None = None,
) -> None:
    out.write(json.dumps(session_object(line, sources, ended, ref, files), separators=(",", ":")) + "\n")


def write_json_lines(rec: Reconstruction, verdicts: Sequence[Verdict], sources: Sequence[str], out: TextIO) -> None:
    """Every session of the reconstruction, in the report's order."""
    for line in session_lines(rec, verdicts):
        write_session(line, sources, out, ref=rec.captures.frame_json, files=rec.captures)
