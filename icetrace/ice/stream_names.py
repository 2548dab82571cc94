"""Names that tell a capture's ICE sessions apart, the same in the reports and the plots: 'stream 0
audio' for a call's media stream, 'session 2 (no signaling; ufrags FY32/+miv)' for each session seen
without signaling."""

from __future__ import annotations

from collections.abc import Sequence

from icetrace.ice.model import Stream


def stream_names(streams: Sequence[Stream]) -> dict[int, str]:
    """'stream 0 audio'; with the answering agent when several answered one offer (forking, MPOP),
    with the call when the capture holds several calls."""
    calls = {s.call_id for s in streams if s.call_id}
    names = {}
    unsignaled = [s for s in streams if not s.call_id]
    for s in streams:
        if not s.call_id:
            names[id(s)] = session_name(s, unsignaled)
            continue
        name = f"stream {s.index} {s.media or ''}".strip()
        twins = [o for o in streams if o.call_id == s.call_id and o.index == s.index]
        if len(twins) > 1 and s.controlled is not None:
            name += f" with {s.controlled.name}"
        if len(calls) > 1:
            name = f"call {s.call_id[:16]} {name}"
        names[id(s)] = name
    return names


def session_name(s: Stream, unsignaled: Sequence[Stream]) -> str:
    """'session 2 (no signaling; ufrags FY32/+miv)': each ICE session seen without signaling apart."""
    ufrags = "/".join(str(a.ufrag) for a in (s.controlling, s.controlled) if a is not None and a.ufrag)
    number = f" {unsignaled.index(s) + 1}" if len(unsignaled) > 1 else ""
    return f"session{number} (no signaling" + (f"; ufrags {ufrags})" if ufrags else ")")


def stream_title(s: Stream, streams: Sequence[Stream]) -> str:
    """A report's heading of a stream: 'call C stream 0 (audio)', or its session name without signaling."""
    if s.call_id:
        return f"call {s.call_id} stream {s.index} ({s.media})"
    return session_name(s, [o for o in streams if not o.call_id])
