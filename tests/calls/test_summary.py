"""The report for many calls: the summary counts agree with the sessions, the worst come first,
and --call / --top / --every-story choose the stories; --json-lines writes one object per session."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

import icetrace
from icetrace.analysis import Analysis
from icetrace.cli import main
from icetrace.ice.diagnosis.cause_registry import ORDER
from icetrace.report.summary import MANY_SESSIONS, session_lines, summarize, worst_first
from icetrace.report.text import write_summary
from tests.calls.many_calls import many_calls_capture


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return many_calls_capture(tmp_path_factory.mktemp("calls"))


@pytest.fixture(scope="module")
def analysis(capture: Path) -> Analysis:
    return icetrace.analyze([capture])


def run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    assert main(list(args), stdout=out, stderr=err) == 0, err.getvalue()
    return out.getvalue()


def section(report: str, title: str) -> list[str]:
    """The indented lines under `  <title>:` in the summary."""
    lines = report.splitlines()
    start = lines.index(f"  {title}:") + 1
    out = []
    for line in lines[start:]:
        if not line.startswith("    "):
            break
        out.append(line.strip())
    return out


def test_the_capture_has_many_calls_with_both_fates(analysis: Analysis) -> None:
    outcomes = {s.outcome for s in analysis.reconstruction.streams}
    assert len(analysis.reconstruction.streams) > 4 * MANY_SESSIONS
    assert "connected" in outcomes and outcomes - {"connected"}


def test_summary_counts_add_up_to_the_sessions(capture: Path, analysis: Analysis) -> None:
    report = run("analyze", str(capture))
    sessions = len(analysis.reconstruction.streams)
    assert f"summary: {sessions} ICE session(s) in {sessions} call(s)" in report
    for title in ("by outcome and cause", "by TURN server", "by client subnet"):
        counts = [int(line.split()[0]) for line in section(report, title)]
        assert sum(counts) == sessions, title
    connected = sum(s.outcome == "connected" for s in analysis.reconstruction.streams)
    by_outcome = {" ".join(line.split()[1:3]): int(line.split()[0]) for line in section(report, "by outcome and cause")}
    assert by_outcome["CONNECTED RELAY"] == connected
    servers = {line.split()[1] for line in section(report, "by TURN server")}
    # a call whose Allocate was refused (486) counts under the server that refused it
    assert servers == {"198.51.100.9:3478", "198.51.100.10:3478"}
    assert f"({connected} sessions that connected)" in report
    # the summary replaces the stories: none is told unless asked for
    assert "component 1: pairs by priority" not in report


def test_sessions_are_counted_by_their_streams_registered_causes(capture: Path, analysis: Analysis) -> None:
    """Each session counts under the cause the diagnosis decided for its stream, a code of the
    cause registry (docs/causes.md), beside its outcome."""
    streams = analysis.reconstruction.streams
    assert all(s.cause is not None and s.cause.code in ORDER for s in streams)
    expected = Counter(
        (s.outcome.upper() + (f" {s.connectivity}" if s.connectivity not in ("", "FAILED") else ""), s.cause.code)
        for s in streams
        if s.cause is not None
    )
    listed = {
        (" ".join(row.split()[1:-2]), row.split()[-1]): int(row.split()[0])
        for row in section(run("analyze", str(capture)), "by outcome and cause")
    }
    assert listed == dict(expected)
    assert len({code for _, code in listed}) > 1  # the calls that failed and those relayed differ


def test_worst_sessions_come_first(capture: Path, analysis: Analysis) -> None:
    lines = worst_first(session_lines(analysis.reconstruction, analysis.verdict_list))
    ranks = [0 if x.state == "failed" else 1 if x.state == "unknown" else 2 for x in lines]
    assert ranks == sorted(ranks) and ranks[0] < 2
    listed = section(
        run("analyze", str(capture)),
        f"worst first (20 of {len(lines)}; --top N tells the N worst in full, --call ID one call)",
    )
    assert listed[0].startswith(lines[0].label + ":")
    assert len(listed) == min(20, len(lines))


def test_call_and_top_choose_the_stories(capture: Path, analysis: Analysis) -> None:
    lines = worst_first(session_lines(analysis.reconstruction, analysis.verdict_list))
    connected = next(x for x in lines if x.state == "connected")
    one = run("analyze", str(capture), "--call", str(connected.call_id))
    assert one.count("component 1: pairs by priority") == 1
    # the story opens with its cause, then its outcome
    assert f"\ncall {connected.call_id} stream 0 (audio): [{connected.cause}] " in one
    assert "\n  outcome CONNECTED (RELAY), nomination " in one
    top = run("analyze", str(capture), "--top", "3")
    told = [line for line in top.splitlines() if line.startswith("call ") and " stream 0 (audio): [" in line]
    assert [t.split()[1] for t in told] == [x.call_id for x in lines[:3]]
    every = run("analyze", str(capture), "--every-story")
    assert "summary:" not in every
    assert every.count("\n  outcome ") == len(analysis.reconstruction.streams)


def test_json_lines_one_object_per_session(capture: Path, analysis: Analysis, tmp_path: Path) -> None:
    out = tmp_path / "calls.jsonl"
    document = json.loads(run("analyze", str(capture), "--json", "-", "--json-lines", str(out)))
    objects = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(objects) == len(document["streams"]) == len(analysis.reconstruction.streams)
    for obj, stream in zip(objects, document["streams"], strict=True):
        assert {k: obj[k] for k in stream} == stream
    table = pd.read_json(out, lines=True)
    assert len(table) == len(objects)
    connected = table[table.outcome == "connected"]
    assert connected.connect_seconds.notna().all() and (connected.connect_seconds > 0).all()
    assert set(table.turn_server.dropna()) == {"198.51.100.9:3478", "198.51.100.10:3478"}


def test_html_opens_with_the_summary_and_tells_the_chosen_story(
    capture: Path, analysis: Analysis, tmp_path: Path
) -> None:
    page = tmp_path / "calls.html"
    call = analysis.reconstruction.streams[0].call_id
    run("analyze", str(capture), "--html", str(page), "--call", str(call))
    text = page.read_text()
    for table in ("by-outcome", "by-server", "by-subnet", "worst"):
        assert f'<table id="{table}">' in text
    assert text.count('<h2 class="stream" id="stream-') == 1
    assert f"Call {call} stream 0" in text


def test_sessions_are_grouped_by_whatever_cause_code_the_diagnosis_sets(analysis: Analysis) -> None:
    """The summary groups by the stream's cause code as it finds it, not by a list of known codes:
    codes invented here are counted and printed as they are."""
    invented = ["relayed:made-up-one", "failed:made-up-two", "relayed:made-up-one", None]
    streams = [copy.copy(s) for s in analysis.reconstruction.streams]
    for number, stream in enumerate(streams):
        code = invented[number % len(invented)]
        stream.cause = SimpleNamespace(code=code) if code else None  # type: ignore[attr-defined]
    rec = dataclasses.replace(analysis.reconstruction, streams=streams)
    lines = session_lines(rec, analysis.verdict_list)
    assert [line.cause for line in lines] == [invented[n % len(invented)] for n in range(len(streams))]
    expected = Counter((line.outcome, invented[n % len(invented)] or "-") for n, line in enumerate(lines))
    assert summarize(lines, []).by_outcome == expected
    out = io.StringIO()
    write_summary(lines, [], out, 5)
    listed = {
        (" ".join(row.split()[1:-2]), row.split()[-1]): int(row.split()[0])
        for row in section(out.getvalue(), "by outcome and cause")
    }
    assert listed == {(outcome.upper(), cause): n for (outcome, cause), n in expected.items()}
