"""`analyze` of a long server capture in bounded memory: the capture is read as `watch` reads it, each
session analysed once it has ended and then let go, keeping only what the report needs (its
summary line, its verdicts, its JSON compressed, and the stories the report will tell in full).

Memory then follows the calls open at once, not the calls in the file: a 10 GB capture of a busy
server's morning fits where its 100,000 calls' whole reconstruction would not.
"""

from __future__ import annotations

import heapq
import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from icetrace.capture.packet_source import PacketSource
from icetrace.ice.model import Stream, Verdict
from icetrace.live.tracker import CallTracker, Ended, WatchOptions
from icetrace.records.capture_set import CaptureSet
from icetrace.report.colour import Painter, wanted
from icetrace.report.json_document import JSON_SCHEMA_VERSION, stream_dict
from icetrace.report.json_lines import write_session
from icetrace.report.summary import WORST_LISTED, SessionLine, worst_order
from icetrace.report.text import Told, write_stories, write_summary

STREAM_TICK = 30.0
"""Seconds of capture time between looks at everything held (sessions gone idle, sessions without
signaling): each record is analysed about once or twice."""
QUICK_TICK = 5.0
"""Seconds of capture time between looks at the calls that said BYE, each analysed alone."""


class _Kept:
    """A session's story kept for the full report, in a heap whose top is the least bad kept."""

    def __init__(self, line: SessionLine) -> None:
        self.line = line
        self.order = worst_order(line)

    def __lt__(self, other: _Kept) -> bool:
        return self.order > other.order  # reversed: heapq's smallest is the least bad


@dataclass
class StreamedAnalysis:
    """What the report of a streamed analysis needs, and nothing per session beyond that."""

    sources: list[str]
    lines: list[SessionLine] = field(default_factory=list)  # without their stories
    verdicts: list[Verdict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    json_streams: list[tuple[float, str, bytes]] = field(default_factory=list)  # (start, label, zlib JSON)
    # the first session's JSON: the preset dictionary every session's JSON is compressed with (their
    # keys and much of their values repeat), which shrinks each to a fraction
    json_dictionary: bytes = b""
    stories: list[SessionLine] = field(default_factory=list)  # the lines whose stories are told in full
    messages: int = 0
    start: float = 0.0  # the first STUN/TURN message's time: the stories count from it
    captures: CaptureSet = CaptureSet()  # the file read, as frames name it

    def iter_stream_dicts(self) -> Iterator[dict[str, Any]]:
        for _, _, packed in sorted(self.json_streams, key=lambda item: (item[0], item[1])):
            yield json.loads(zlib.decompressobj(zdict=self.json_dictionary).decompress(packed))


class _SessionKeeper:
    """Takes each ended session: compresses its JSON, keeps its line and verdicts, keeps its story
    when --call names it or while it is among the --top worst, writes its JSON line at once."""

    def __init__(self, analysis: StreamedAnalysis, calls: Sequence[str], top: int, json_lines: TextIO | None) -> None:
        self.analysis = analysis
        self.calls = set(calls)
        self.top = top
        self.heap: list[_Kept] = []
        self.json_lines = json_lines
        self.seen_capture_verdicts: set[tuple[str, str]] = set()

    def __call__(self, ended: Ended) -> None:
        line = ended.line
        stream = line.story
        if self.json_lines is not None:
            write_session(line, self.analysis.sources, self.json_lines, files=ended.captures)
        whole = stream_dict(stream, files=ended.captures, capture=line.capture)
        text = json.dumps(whole, separators=(",", ":")).encode()
        if not self.analysis.json_dictionary:
            self.analysis.json_dictionary = text
        packer = zlib.compressobj(9, zdict=self.analysis.json_dictionary)
        packed = packer.compress(text) + packer.flush()
        self.analysis.json_streams.append((line.started or ended.at, line.label, packed))
        self.analysis.verdicts += line.verdicts
        self._keep_story(line, stream)
        line.stream = None  # the story goes; the line stays
        self.analysis.lines.append(line)

    def _keep_story(self, line: SessionLine, stream: Stream) -> None:
        if line.call_id in self.calls or line.label in self.calls:
            self.analysis.stories.append(_with_story(line, stream))
            return
        if self.top <= 0:
            return
        kept = _Kept(_with_story(line, stream))
        if len(self.heap) < self.top:
            heapq.heappush(self.heap, kept)
        elif kept.order < self.heap[0].order:
            heapq.heapreplace(self.heap, kept)

    def finish(self) -> None:
        worst = sorted(self.heap, key=lambda k: k.order)
        self.analysis.stories += [k.line for k in worst]


def _with_story(line: SessionLine, stream: Stream) -> SessionLine:
    copy = SessionLine(**{name: getattr(line, name) for name in SessionLine.__slots__})
    copy.stream = stream
    return copy


def analyze_streamed(
    capture: str | Path,
    *,
    calls: Sequence[str] = (),
    top: int = 0,
    json_lines: TextIO | None = None,
    idle: float = 30.0,
) -> StreamedAnalysis:
    """Read one capture once, telling each session as it ends; see the module's docstring."""
    analysis = StreamedAnalysis(sources=[str(capture)])
    collect = _SessionKeeper(analysis, calls, top, json_lines)
    # a file, not a pipe: the C skimmer counts the media, and each look takes its counts so far
    source = PacketSource([], count_relayed=True)
    tracker = CallTracker(
        source,
        Path(capture).name,
        collect,
        WatchOptions(idle=idle, tick=QUICK_TICK, full_tick=STREAM_TICK, prompt=False, ordered=False),
    )
    for packet in source.read_each([capture]):
        tracker.feed(packet)
    tracker.finish()
    collect.finish()
    relayed = sum(c.packets for c in source.so_far().relayed) + source.relayed_forgotten
    analysis.messages = tracker.records_seen + relayed
    analysis.start = tracker.start or 0.0
    analysis.captures = tracker.captures()
    analysis.verdicts = list(tracker.capture_verdicts.values()) + analysis.verdicts
    analysis.problems = [str(p) for p in source.problems] + tracker.signaling.problems
    return analysis


def streamed_document(analysis: StreamedAnalysis, out: TextIO) -> None:
    """The JSON document (docs/json-schema.md) of a streamed analysis, written stream by stream."""
    out.write(f'{{\n  "schema_version": {json.dumps(JSON_SCHEMA_VERSION)},\n')
    out.write(f'  "sources": {json.dumps(analysis.sources)},\n  "streamed": true,\n  "streams": [')
    for i, stream in enumerate(analysis.iter_stream_dicts()):
        out.write(("," if i else "") + "\n    " + json.dumps(stream))
    verdicts = [
        {
            "capture": analysis.captures.file_of(v.frames[0]) if v.frames else None,
            "code": v.code,
            "severity": v.severity,
            "message": v.message,
            "frames": v.frames,
            "call_id": v.call_id,
        }
        for v in analysis.verdicts
    ]
    out.write(f'\n  ],\n  "verdicts": {json.dumps(verdicts)},\n  "problems": {json.dumps(analysis.problems)}\n}}\n')


def write_streamed_report(analysis: StreamedAnalysis, out: TextIO, top: int, colour: bool | None = None) -> None:
    """The report of a capture analysed as a stream: the summary, then the stories kept for it."""
    paint = Painter(wanted(out) if colour is None else colour)
    out.write(f"icetrace report: {', '.join(analysis.sources)}\n")
    out.write(
        f"  {analysis.messages} STUN/TURN messages, {len(analysis.lines)} ICE session(s); read as a stream:"
        " each session analysed once it ended, then let go\n"
    )
    write_summary(analysis.lines, analysis.verdicts, out, max(top, WORST_LISTED))
    shown = {line.call_id for line in analysis.stories}
    verdicts = [v for v in analysis.verdicts if v.call_id in shown]
    stories = [line.story for line in analysis.stories]
    write_stories(stories, verdicts, analysis.problems, out, paint, Told(start=analysis.start))
