"""The Lync scenarios reconstruct to what the seed articles describe, in every capture format."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import icetrace
from icetrace.corpus.companions import discover
from tests import testdata
from tests.corpus import truth_facts as tf
from tests.corpus.truth import CAPTURES, load_truth, scenario_cases, scenario_dirs, schema_problems

SCENARIOS = scenario_dirs("lync")


def _generator():
    return testdata.script(CAPTURES / "lync" / "generate.py", "lync_generate")


def test_generator_is_deterministic(tmp_path):
    _generator().write(tmp_path)
    for folder in SCENARIOS:
        assert (tmp_path / folder.name / "capture.pcap").read_bytes() == (folder / "capture.pcap").read_bytes()
        assert (tmp_path / folder.name / "truth.json").read_text() == (folder / "truth.json").read_text()


def _stream_for(analysis, truth):
    callee = truth.get("callee")
    streams = [s for s in analysis.to_dict()["streams"] if s["call_id"]]
    if callee:
        streams = [s for s in streams if callee in (s["controlled"]["name"], s["controlling"]["name"])]
    assert len(streams) == 1, [s["controlled"]["name"] for s in streams]
    return streams[0]


@pytest.mark.parametrize("fmt", ["pcap", "pcapng", "cap"])
@pytest.mark.parametrize("folder", scenario_cases("lync"), ids=lambda p: p.name)
def test_reconstruction_matches_truth(folder, fmt):
    """Each format of each scenario, with the client log `icetrace check` gives it, against the
    truth (tests/corpus/truth_facts.py): the selected pair per component as Alice (the caller,
    controlling) sees it with both candidate types, every pair that succeeded or failed, outcome,
    connectivity, nomination, the streams and the verdicts."""
    truth = load_truth(folder)
    assert schema_problems(truth) == []
    path = testdata.require(folder / f"capture.{fmt}")  # editcap writes the other formats (scripts/setup.sh)
    (task,) = [t for t in discover([str(folder)]) if Path(t.capture).name == "capture.pcap"]
    analysis = icetrace.analyze([path], sdp=list(task.sdp), logs=list(task.logs))
    assert tf.problems(tf.answer(analysis), tf.expected(truth, "capture.pcap")) == []
    stream = _stream_for(analysis, truth)
    alice = truth["agents"]["alice"]
    assert stream[alice["role"]]["name"] == "caller"  # Alice calls


def test_log_and_capture_give_the_same_candidates():
    folder = CAPTURES / "lync" / "seed-call"
    from_log = icetrace.analyze([], logs=[folder / "alice.uccapilog"])
    from_capture = icetrace.analyze([folder / "capture.pcap"])
    cands = lambda a: sorted(a.candidates[a.candidates.origin == "sdp"].address)  # noqa: E731
    assert cands(from_log) == cands(from_capture) and cands(from_log)


@pytest.mark.tshark
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_tshark_reads_the_seed_mapping():
    out = subprocess.run(
        [
            "tshark",
            "-n",
            "-o",
            "stun.stunversion:Auto",
            "-r",
            str(CAPTURES / "lync" / "seed-call" / "capture.pcap"),
            "-Y",
            "stun.type == 0x0103",
            "-T",
            "fields",
            "-e",
            "stun.att.ipv4",
            "-e",
            "stun.att.port",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "84.155.254.180" in out and "50033" in out
    sip = subprocess.run(
        [
            "tshark",
            "-n",
            "-r",
            str(CAPTURES / "lync" / "seed-call" / "capture.pcap"),
            "-Y",
            "sip.Method == INVITE",
            "-T",
            "fields",
            "-e",
            "sip.Call-ID",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "a4c2e79c1f6d4b8f9d1e2c3b4a596877" in sip
