"""`analyze --stream`: each session analysed once it ends and then let go gives the same sessions,
verdicts, counts and summary as the analysis that holds the whole capture."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from icetrace.cli import main
from icetrace.live.streamed import analyze_streamed
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
