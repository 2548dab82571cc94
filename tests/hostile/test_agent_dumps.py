"""getStats() exports and webrtc-internals dumps with values of the wrong type: absent, never a crash,
and what is well-formed around them still read."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest

import icetrace
from icetrace.cli import main
from icetrace.signaling.agent_dump import read_agent_dump
from icetrace.signaling.model import SignalingModel
from tests.testdata import CAPTURES

FOLDER = CAPTURES / "real" / "chromium-direct"
HUGE = "9" * 5000


def _export() -> dict:
    return json.loads((FOLDER / "left.result.json").read_text())


def _selected(doc: dict) -> dict:
    transport = next(s for s in doc["stats"] if s["type"] == "transport")
    return next(s for s in doc["stats"] if s["id"] == transport["selectedCandidatePairId"])


def _candidate(doc: dict, which: str) -> dict:
    pair = _selected(doc)
    return next(s for s in doc["stats"] if s["id"] == pair[which])


def _damage(doc: dict, where: str, key: str, value: object) -> None:
    target = {
        "pair": _selected(doc),
        "transport": next(s for s in doc["stats"] if s["type"] == "transport"),
        "local": _candidate(doc, "localCandidateId"),
    }[where]
    target[key] = value


WRONG = [
    ("pair", "id", ["a", "list"]),
    ("pair", "id", {"an": "object"}),
    ("transport", "selectedCandidatePairId", ["a", "list"]),
    ("local", "port", float("nan")),
    ("local", "port", float("inf")),
    ("local", "port", -1),
    ("local", "address", ["10.0.0.1"]),
    ("pair", "requestsSent", float("nan")),
    ("pair", "requestsSent", float("inf")),
    ("pair", "currentRoundTripTime", float("nan")),
    ("pair", "state", {"nested": [1, 2]}),
    ("transport", "iceState", ["connected"]),
    ("pair", "localCandidateId", ["x"]),
]


@pytest.mark.parametrize("where, key, value", WRONG, ids=[f"{w}-{k}-{v}" for w, k, v in WRONG])
def test_a_value_of_the_wrong_type_counts_as_absent(tmp_path, where, key, value):
    doc = _export()
    _damage(doc, where, key, value)
    path = tmp_path / "left.result.json"
    path.write_text(json.dumps(doc))  # NaN and Infinity as Python's json writes them (and browsers read)
    model = SignalingModel()
    read_agent_dump(path.read_text(), "left.result.json", model)
    (report,) = model.agent_reports
    assert report.pairs  # the other pairs are still read
    for pair in report.pairs:
        assert pair.requests_sent is None or isinstance(pair.requests_sent, int)
        assert pair.current_rtt_ms is None or pair.current_rtt_ms == pair.current_rtt_ms  # not NaN
        for side in (pair.local, pair.remote):
            assert side is None or side.address is None or 0 <= side.address.port <= 65535
    out, err = io.StringIO(), io.StringIO()
    status = main(["analyze", str(FOLDER / "public.pcap"), "--log", str(path)], stdout=out, stderr=err)
    assert status == 0, err.getvalue()


def test_1e999_as_written_by_hand_and_a_5000_digit_number(tmp_path):
    """json reads 1e999 as infinity and refuses a 5,000-digit integer (Python's int-string limit):
    the first is absent, the second read as infinity, and the rest of the export kept."""
    text = json.dumps(_export())
    pair = _selected(_export())
    text = text.replace(f'"requestsSent": {pair["requestsSent"]}', '"requestsSent": 1e999', 1)
    text = text.replace(f'"responsesSent": {pair["responsesSent"]}', f'"responsesSent": {HUGE}', 1)
    model = SignalingModel()
    read_agent_dump(text, "left.result.json", model)
    (report,) = model.agent_reports
    assert not model.problems and report.selected is not None
    assert report.selected.requests_sent is None and report.selected.responses_sent is None


def _dump() -> dict:
    return json.loads((CAPTURES / "real" / "chromium-dump" / "left.webrtc-internals.json").read_text())


@pytest.mark.parametrize("index", [HUGE, "\u00b2", "-1", "65536000"])
def test_an_sdp_mline_index_that_is_no_number_is_absent(index):
    doc = _dump()
    (pc,) = doc["PeerConnections"].values()
    events = [e for e in pc["updateLog"] if e["type"].lower().startswith(("icecandidate", "onicecandidate"))]
    events = [e for e in events if "sdpMLineIndex: " in e["value"]]
    assert len(events) > 3
    for entry in events:
        entry["value"] = entry["value"].replace("sdpMLineIndex: 0", f"sdpMLineIndex: {index}")
    model = SignalingModel()
    read_agent_dump(json.dumps(doc), "left.webrtc-internals.json", model)
    clean = SignalingModel()
    read_agent_dump(json.dumps(_dump()), "left.webrtc-internals.json", clean)
    assert not model.problems
    found = [len(m.candidates) for c in model.calls for e in c.exchanges for b in e.bodies for m in b.media]
    assert found == [len(m.candidates) for c in clean.calls for e in c.exchanges for b in e.bodies for m in b.media]


def test_a_dump_of_values_of_every_wrong_type_is_analysed(tmp_path):
    """Every stats value and log entry of a real dump replaced in turn by a list, an object, NaN and
    a 5,000-digit string: no crash."""
    base = _dump()
    (pc_id,) = base["PeerConnections"]
    keys = list(base["PeerConnections"][pc_id]["stats"])[:40]
    for value in (["x"], {"y": 1}, float("nan"), HUGE, None):
        doc = copy.deepcopy(base)
        pc = doc["PeerConnections"][pc_id]
        for key in keys:
            pc["stats"][key]["values"] = json.dumps([value])
            pc["stats"][key]["statsType"] = value
        for entry in pc["updateLog"][::3]:
            entry["time"] = value
            entry["type"] = value
        model = SignalingModel()
        read_agent_dump(json.dumps(doc), "dump", model)
    analysis = icetrace.analyze([CAPTURES / "real" / "chromium-dump" / "left-lan.pcap"], logs=[_write(tmp_path, doc)])
    assert len(analysis.streams)


def _write(folder: Path, doc: dict) -> Path:
    path = folder / "damaged.webrtc-internals.json"
    path.write_text(json.dumps(doc))
    return path


def test_a_stats_series_nested_past_the_recursion_limit_is_skipped():
    """A series' values (JSON inside a JSON string, as the agent-dumps fuzz target drew them) nested
    past Python's recursion limit: read within the dump's own bounds, and skipped."""
    doc = _dump()
    (pc,) = doc["PeerConnections"].values()
    first = next(iter(pc["stats"]))
    pc["stats"][first]["values"] = "[" * 100_000 + "]" * 100_000
    model = SignalingModel()
    read_agent_dump(json.dumps(doc), "dump", model)
    assert model.agent_reports and model.agent_reports[0].pairs


@pytest.mark.parametrize("index", [-100, -1, 1 << 40, 2.5, "0", True])
def test_an_sdp_mline_index_of_the_wrong_type_in_a_message_is_absent(index):
    """RTCIceCandidateInit's sdpMLineIndex is an unsigned short: a negative one (Python would count
    it from the end) or any other type names no m-line, and the candidate joins the first."""
    from icetrace.signaling.app_model import build_app_model
    from icetrace.signaling.app_payload import signals_in
    from icetrace.signaling.app_signaling import AppSignal
    from icetrace.signaling.model import SourceRef
    from tests.hostile import hostile_call

    sdp = hostile_call.sdp("idxA", "x" * 24, "actpass", []) + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n"
    message = json.dumps(
        [
            {"type": "offer", "sdp": sdp},
            {"candidate": hostile_call.candidate(("10.0.0.9", 5000)), "sdpMLineIndex": index},
        ]
    )
    signals, problems = signals_in(message)
    ref = SourceRef(kind="frame", name="t", position=1, time=1.0)
    model = build_app_model(
        [AppSignal(ref=ref, client="c", upstream=True, signal=s) for s in signals], SignalingModel()
    )
    (call,) = model.calls
    assert [len(m.candidates) for m in call.exchanges[0].bodies[0].media] == [1, 0] and not problems
