"""`analyze --stream`: each session analysed once it ends and then let go gives the same sessions,
verdicts, counts and summary as the analysis that holds the whole capture."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from icetrace.capture.packet_source import CaptureSummary, PacketSource
from icetrace.cli import main
from icetrace.live.streamed import analyze_streamed
from icetrace.records.relayed import RelayedCounter
from tests.calls.many_calls import many_calls_capture


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return many_calls_capture(tmp_path_factory.mktemp("calls"), 1_000_000, 4)


def run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    assert main(list(args), stdout=out, stderr=err) == 0, err.getvalue()
    return out.getvalue()


def test_streamed_document_holds_what_the_whole_analysis_holds(capture: Path) -> None:
    whole = json.loads(run("analyze", str(capture), "--json", "-"))
    streamed = json.loads(run("analyze", str(capture), "--json", "-", "--stream", "yes"))
    assert streamed["streamed"] is True and "streamed" not in whole
    key = lambda s: (s["call_id"], s["index"])  # noqa: E731
    assert sorted(streamed["streams"], key=key) == sorted(whole["streams"], key=key)
    assert len(whole["streams"]) > 30
    as_text = lambda vs: sorted(json.dumps(v, sort_keys=True) for v in vs)  # noqa: E731
    assert as_text(streamed["verdicts"]) == as_text(whole["verdicts"])
    assert any(v["call_id"] is None for v in whole["verdicts"]), "a capture-wide verdict is among them"


def test_streamed_summary_and_stories_match(capture: Path) -> None:
    whole = run("analyze", str(capture), "--top", "3").splitlines()
    streamed = run("analyze", str(capture), "--top", "3", "--stream", "yes").splitlines()
    assert whole[1].split(",")[0] == streamed[1].split(",")[0]  # the STUN/TURN messages
    start = whole.index(next(line for line in whole if line.startswith("summary:")))
    assert whole[start:] == streamed[streamed.index(whole[start]) :]


def test_streamed_keeps_no_story_it_will_not_tell(capture: Path) -> None:
    analysis = analyze_streamed(capture, top=2)
    assert len(analysis.lines) > 30 and all(line.stream is None for line in analysis.lines)
    assert [line.stream is not None for line in analysis.stories] == [True, True]
    assert len(analysis.json_streams) == len(analysis.lines)


def _flows(summary: CaptureSummary) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    media = sorted((f.src, f.dst, f.kind, f.first_frame, f.last_frame, f.packets, f.bytes) for f in summary.media_flows)
    counter = RelayedCounter()
    for count in summary.relayed:
        counter.include(count)
    relayed = sorted((str(key), c.first_frame, c.last_frame, c.packets, c.bytes) for key, c in counter.flows.items())
    return media, relayed


def test_counts_taken_while_reading_add_up_to_the_counts_at_the_end(capture: Path) -> None:
    at_end = PacketSource([capture], count_relayed=True)
    assert sum(1 for _ in at_end) > 500
    media, relayed = _flows(at_end.summary())
    assert media and relayed, "the skimmer counted media and relayed media"
    as_read = PacketSource([capture], count_relayed=True)
    for number, _ in enumerate(as_read):
        if number % 37 == 0:
            as_read.so_far()  # takes what the skimmer counted so far and lets it count afresh
    assert _flows(as_read.summary()) == (media, relayed)
