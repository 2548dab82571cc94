"""The CLI's outputs: analyze JSON on stdout, plots, corpus regression exit codes, empty frames."""

from __future__ import annotations

import io
import json
import shutil

import pytest

import icetrace
from icetrace.cli import main
from icetrace.tables.schema import SCHEMAS
from tests import testdata

SEED = testdata.SEED_CALL


def test_analyze_json_on_stdout_alone():
    out = io.StringIO()
    assert main(["analyze", str(SEED), "--json", "-"], stdout=out, stderr=io.StringIO()) == 0
    doc = json.loads(out.getvalue())  # nothing but JSON
    assert doc["schema_version"] == "1.6"
    stream = doc["streams"][0]
    assert stream["outcome"] == "connected"
    pair = stream["components"][0]["selected"]
    assert pair["selected_because"] == "nominated+media"  # USE-CANDIDATE, then 40 s of RTP on it
    assert all(p["selected_because"] is None for p in stream["components"][0]["pairs"] if p != pair)
    assert set(pair) >= {
        "controlling",
        "controlled",
        "state",
        "nominated",
        "checks_by_controlling",
        "answers_to_controlling",
        "rtt_ms",
        "rtt_of",
    }
    assert pair["controlling"]["address"] == "192.168.1.100:50036" and pair["controlled"]["type"] == "relay"


def test_analyze_report_and_bad_input(tmp_path):
    out = io.StringIO()
    assert main(["analyze", str(SEED)], stdout=out, stderr=io.StringIO()) == 0
    assert "outcome CONNECTED" in out.getvalue() and "selected: 192.168.1.100:50036 (host)" in out.getvalue()
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"not a capture")
    err = io.StringIO()
    assert main(["analyze", str(junk)], stdout=io.StringIO(), stderr=err) == 2
    assert "junk.pcap: not a capture file" in err.getvalue()


def test_empty_input_gives_empty_frames_with_columns():
    analysis = icetrace.analyze([], records=[])
    for name, schema in SCHEMAS.items():
        frame = getattr(analysis, name)
        assert frame.empty and list(frame.columns) == list(schema)


def test_plots_are_written(tmp_path):
    for kind in ("ladder", "timeline"):
        target = tmp_path / f"{kind}.png"
        assert main(["plot", "--kind", kind, str(SEED), "--out", str(target)], stdout=io.StringIO()) == 0
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and target.stat().st_size > 10_000


def test_check_corpus_mode(tmp_path):
    shutil.copy(SEED, tmp_path / "call.pcap")
    out = io.StringIO()
    assert main(["check", str(tmp_path)], stdout=out) == 0 and "NEW" in out.getvalue()
    assert main(["check", str(tmp_path), "--update"], stdout=io.StringIO()) == 0
    assert main(["check", str(tmp_path)], stdout=io.StringIO()) == 0
    golden = tmp_path / "call.pcap.expected.json"
    doc = json.loads(golden.read_text())
    (call,) = doc["calls"]
    doc["calls"][call]["streams"]["0"]["outcome"] = "failed"
    golden.write_text(json.dumps(doc))
    out = io.StringIO()
    assert main(["check", str(tmp_path)], stdout=out) == 1
    assert f"call {call} stream 0: outcome: was failed -> now connected" in out.getvalue()
    assert main(["check", str(tmp_path / "nope")], stdout=io.StringIO(), stderr=io.StringIO()) == 2


def _truth_connectivity(truth: dict) -> str:
    if truth["expected_outcome"] == "failed":
        return "FAILED"
    for agent in truth["agents"].values():
        for stream in agent.get("streams", []):
            for component in stream.get("components", []):
                selected = component.get("selected")
                if selected:
                    types = (selected.get("local_type"), selected.get("remote_type"))
                    return "RELAY" if "relay" in types else "DIRECT"
    raise AssertionError("truth names no selected pair")


@pytest.mark.parametrize(
    "capture",
    testdata.cases(testdata.CAPTURES, "real/*/left-lan.pcap")
    + testdata.cases(testdata.CAPTURES, "lync/*/capture.pcap"),
    ids=lambda p: p.parent.name,
)
def test_connectivity_matches_what_the_agents_selected(capture):
    truth = json.loads((capture.parent / "truth.json").read_text())
    doc = icetrace.analyze([capture]).to_dict()
    decided = {s["connectivity"] for s in doc["streams"] if s["outcome"] != "unknown"}
    facts = truth.get("capture_facts", {}).get(capture.name, {})
    if "outcome" in facts.get("unobservable", []):
        # the capture cannot show how the call ended: undecided, never another connectivity
        assert decided in (set(), {_truth_connectivity(truth)})
    else:
        assert decided == {_truth_connectivity(truth)}
