"""`analyze` of a long server capture in bounded memory: the capture is read as `watch` reads it, each
session analysed once it has ended and then let go, keeping only what the report needs (its
summary line, its verdicts, its JSON compressed, and the stories the report will tell in full).

Memory then follows the calls open at once, not the calls in the file: a 10 GB capture of a busy
server's morning fits where its 100,000 calls' whole reconstruction would not.
"""

from __future__ import annotations

import heapq
import io
import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from icetrace.capture.packet_source import PacketSource
from icetrace.collector_pace import fewer_collections
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
    # (start, label, zlib JSON, the index of its preset dictionary); none unless the JSON document is asked for
    json_streams: list[tuple[float, str, bytes, int]] = field(default_factory=list)
    # zlib preset dictionaries the ICE sessions' JSON is compressed with: the first ICE session's JSON each
    # process that prepared sessions met (their keys and much of their values repeat, which shrinks
    # each to a fraction); one, or two when looks are decided in a forked child too
    json_dictionaries: list[bytes] = field(default_factory=list)
    stories: list[SessionLine] = field(default_factory=list)  # the lines whose stories are told in full
    messages: int = 0
    start: float = 0.0  # the first STUN/TURN message's time: the stories count from it
    captures: CaptureSet = CaptureSet()  # the file read, as frames name it

    def iter_stream_dicts(self) -> Iterator[dict[str, Any]]:
        for _, _, packed, index in sorted(self.json_streams, key=lambda item: (item[0], item[1])):
            yield json.loads(zlib.decompressobj(zdict=self.json_dictionaries[index]).decompress(packed))


class _SessionKeeper:
    """Takes each ended session: compresses its JSON, keeps its line and verdicts, keeps its story
    when --call names it or while it is among the --top worst, writes its JSON line at once."""

    def __init__(
        self, analysis: StreamedAnalysis, calls: Sequence[str], top: int, json_lines: TextIO | None, keep_json: bool
    ) -> None:
        self.analysis = analysis
        self.keep_json = keep_json
        self.calls = set(calls)
        self.top = top
        self.heap: list[_Kept] = []
        self.json_lines = json_lines
        self.seen_capture_verdicts: set[tuple[str, str]] = set()
        self.dictionary: bytes | None = None  # preset dictionary: this process's first ICE session's JSON

    def prepare(self, ended: Ended) -> None:
        """Where the session was analysed (a forked child): its JSON line and its JSON compressed,
        with the preset dictionary they used; its story let go unless it may be told in full."""
        line = ended.line
        stream = line.story
        json_line = None
        if self.json_lines is not None:
            text = io.StringIO()
            write_session(line, self.analysis.sources, text, files=ended.captures)
            json_line = text.getvalue()
        ended.prepared = (json_line, *self._packed(stream, ended, line))
        if not self._may_tell(line):
            line.stream = None  # the story goes; the line stays

    def _packed(self, stream: Stream, ended: Ended, line: SessionLine) -> tuple[bytes | None, bytes | None]:
        """Its JSON compressed with this process's preset dictionary, and that dictionary; nothing
        when no JSON document is asked for."""
        if not self.keep_json:
            return None, None
        whole = stream_dict(stream, files=ended.captures, capture=line.capture)
        text = json.dumps(whole, separators=(",", ":")).encode()
        if self.dictionary is None:
            self.dictionary = text
        packer = zlib.compressobj(9, zdict=self.dictionary)
        return packer.compress(text) + packer.flush(), self.dictionary

    def __call__(self, ended: Ended) -> None:
        """In the order told: write its JSON line, keep its JSON, line, verdicts and story if chosen."""
        line = ended.line
        json_line, packed, dictionary = ended.prepared
        if json_line is not None and self.json_lines is not None:
            self.json_lines.write(json_line)
        if packed is not None and dictionary is not None:
            dictionaries = self.analysis.json_dictionaries  # one or two
            if dictionary not in dictionaries:
                dictionaries.append(dictionary)
            if self.dictionary is None:
                self.dictionary = dictionary  # the children forked from now on use it too
            entry = (line.started or ended.at, line.label, packed, dictionaries.index(dictionary))
            self.analysis.json_streams.append(entry)
        self.analysis.verdicts += line.verdicts
        if line.stream is not None:
            self._keep_story(line, line.stream)
        line.stream = None
        self.analysis.lines.append(line)

    def _may_tell(self, line: SessionLine) -> bool:
        """Whether --call names the session, or it would be among the --top worst kept so far
        (the heap only gets worse sessions, so a story let go here is never wanted later)."""
        if line.call_id in self.calls or line.label in self.calls:
            return True
        if self.top <= 0:
            return False
        return len(self.heap) < self.top or worst_order(line) < self.heap[0].order

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


@fewer_collections()
def analyze_streamed(
    capture: str | Path,
    *,
    calls: Sequence[str] = (),
    top: int = 0,
    json_lines: TextIO | None = None,
    idle: float = 30.0,
    parallel: bool = False,
    keep_json: bool = True,
) -> StreamedAnalysis:
    """Read one capture once, telling each session as it ends; see the module's docstring.
    `parallel`: each look but the last decided in a forked child while reading goes on (forked.py);
    `keep_json`: keep each session's JSON for the document (streamed_document)."""
    analysis = StreamedAnalysis(sources=[str(capture)])
    collect = _SessionKeeper(analysis, calls, top, json_lines, keep_json)
    # a file, not a pipe: the C skimmer counts the media, and each look takes its counts so far
    source = PacketSource([], count_relayed=True)
    options = WatchOptions(
        idle=idle, tick=QUICK_TICK, full_tick=STREAM_TICK, prompt=False, ordered=False, parallel=parallel
    )
    tracker = CallTracker(source, Path(capture).name, collect, options, prepare=collect.prepare)
    try:
        for packet in source.read_each([capture]):
            tracker.feed(packet)
        tracker.finish()
    finally:
        tracker.close()
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
