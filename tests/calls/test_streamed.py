"""`analyze --stream`: each session analysed once it ends and then let go gives the same sessions,
verdicts, counts and summary as the analysis that holds the whole capture."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from icetrace.capture.packet_source import CaptureSummary, PacketSource
from icetrace.cli import main
from icetrace.live import tracker
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


def test_looks_decided_in_a_forked_child_tell_what_looks_in_place_tell(capture: Path, monkeypatch) -> None:
    """Each look but the last decided in a forked copy while reading goes on, applied at the next
    look: the same sessions, JSON, verdicts and kept stories as every look decided in place."""
    forks: list[int] = []

    class Counted(tracker.ForkedLook):
        def __init__(self, decide) -> None:  # type: ignore[no-untyped-def]
            super().__init__(decide)
            forks.append(self.pid)

    monkeypatch.setattr(tracker, "ForkedLook", Counted)
    monkeypatch.setattr(tracker, "forked_looks_available", lambda: True)
    forked_lines, in_place_lines = io.StringIO(), io.StringIO()
    forked = analyze_streamed(capture, top=3, json_lines=forked_lines, parallel=True)
    assert len(forks) > 5, "looks were decided in forked children"
    in_place = analyze_streamed(capture, top=3, json_lines=in_place_lines, parallel=False)
    assert len(forks) > 5 and forked_lines.getvalue() == in_place_lines.getvalue()
    assert [line.text() for line in forked.lines] == [line.text() for line in in_place.lines]
    assert list(forked.iter_stream_dicts()) == list(in_place.iter_stream_dicts())
    assert forked.verdicts == in_place.verdicts and forked.messages == in_place.messages
    assert [line.label for line in forked.stories] == [line.label for line in in_place.stories]
    assert all(line.stream is not None for line in forked.stories)


def test_a_failing_forked_look_names_what_failed(capture: Path, monkeypatch) -> None:
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("a correlation that went wrong")

    monkeypatch.setattr(tracker, "forked_looks_available", lambda: True)
    monkeypatch.setattr(tracker, "correlate", broken)
    with pytest.raises(RuntimeError, match="a look in the forked process failed:(?s:.*)a correlation that went wrong"):
        analyze_streamed(capture, parallel=True)


def test_jobs_2_reports_what_one_process_reports(capture: Path) -> None:
    for output in (["--top", "2"], ["--json", "-"]):
        one = run("analyze", str(capture), "--stream", "yes", "--jobs", "1", *output)
        assert run("analyze", str(capture), "--stream", "yes", "--jobs", "2", *output) == one


def test_without_a_json_document_no_session_json_is_kept(capture: Path) -> None:
    lines = io.StringIO()
    analysis = analyze_streamed(capture, json_lines=lines, keep_json=False)
    assert len(analysis.lines) > 30 and not analysis.json_streams and not analysis.json_dictionaries
    kept = analyze_streamed(capture, json_lines=io.StringIO(), keep_json=True)
    assert [line.text() for line in analysis.lines] == [line.text() for line in kept.lines]
    assert len(lines.getvalue().splitlines()) == len(kept.json_streams) == len(kept.lines)
