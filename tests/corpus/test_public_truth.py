"""The public captures against their hand-verified truth: icetrace's fresh answer and the golden file.

Each `captures/public/<project>/<capture>.truth.json` was written once from the packets with tshark
(frame numbers in it), never from icetrace's output: which pair carried the media (`in_use`, with
the controlling side where the checks name it), which addresses are STUN/TURN servers (never an
end of a candidate pair), which directions the capture lacks (`missing_directions`; lacking the
requests' direction leaves responses without requests, ORPHAN-RESPONSES), pairs whose checks were
answered with errors (`not_succeeded`), and, where the packets show no check, no ICE stream.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from icetrace.corpus.companions import GOLDEN_SUFFIX, discover
from icetrace.corpus.worker import summarise
from tests import testdata
from tests.corpus.truth_facts import Label

TRUTH_SUFFIX = ".truth.json"
KEYS = {
    "capture",
    "written_from",
    "servers",
    "in_use",
    "not_succeeded",
    "missing_directions",
    "ice_streams",
    "why_ice_streams",
    "no_checks",
    "why_no_checks",
    "no_selection",
    "expected_verdicts",
    "forbidden_verdicts",
    "why_verdicts",
}


def _truth_files() -> list:
    found = testdata.files(testdata.PUBLIC, f"**/*{TRUTH_SUFFIX}")
    return [pytest.param(p, id=testdata.shown(p)) for p in found] or [testdata.missing("no public truth files")]


def _capture(truth_file: Path) -> Path:
    return truth_file.with_name(truth_file.name[: -len(TRUTH_SUFFIX)])


UNKNOWN_RELAYED = re.compile(r"(?P<server>.+):\? \(relayed for .+; Allocate not in capture\)")


def _matches(address: str, alternatives: list[str]) -> bool:
    return any(_matches_one(address, alt) for alt in alternatives)


def _matches_one(address: str, alternative: str) -> bool:
    """`IP:*`, any port of a relay, is also icetrace's words for a relayed address on that IP whose
    Allocate the capture lacks."""
    if not alternative.endswith(":*"):
        return address == alternative
    unknown = UNKNOWN_RELAYED.fullmatch(address)
    return (unknown["server"] if unknown else address.rpartition(":")[0]) == alternative[:-2]


def _labels(stream: dict, *, kinds: tuple[str, ...] = ("selected", "succeeded", "failed")) -> list[Label]:
    out = []
    for comp in stream["components"].values():
        for kind in kinds:
            texts = [comp[kind]] if kind == "selected" else comp[kind]
            out += [Label.parse(t) for t in texts if t]
    return out


def _pair_matches(label: Label, fact: dict) -> bool:
    if "controlling" in fact:
        return _matches(label.controlling, fact["controlling"]) and _matches(label.controlled, fact["controlled"])
    a, b = fact["ends"]
    return (_matches(label.controlling, a) and _matches(label.controlled, b)) or (
        _matches(label.controlling, b) and _matches(label.controlled, a)
    )


def problems(summary: dict, truth: dict) -> list[str]:
    """Every way a summary (fresh or golden) departs from the packets' facts."""
    streams = [s for call in summary["calls"].values() for s in call["streams"].values()]
    verdicts = set(summary["verdicts"])
    out = []
    if "ice_streams" in truth and len(streams) != truth["ice_streams"]:
        out.append(f"{len(streams)} ICE streams, the packets show {truth['ice_streams']}")
    servers = {s["address"] for s in truth.get("servers", [])}
    for label in (label for s in streams for label in _labels(s)):
        for end in (label.controlling, label.controlled):
            if end in servers:
                out.append(f"server {end} taken for a candidate in {label}")
    selected = [label for s in streams for label in _labels(s, kinds=("selected",))]
    for fact in truth.get("in_use", []):
        if not any(_pair_matches(label, fact) for label in selected):
            out.append(f"no selected pair for the pair in use (frames {fact['frames']}): {fact}")
    succeeded = [label for s in streams for label in _labels(s, kinds=("selected", "succeeded"))]
    for fact in truth.get("not_succeeded", []):
        out += [
            f"{label} succeeded, its check was answered with an error"
            for label in succeeded
            if _pair_matches(label, fact)
        ]
    if truth.get("no_selection") and selected:
        out.append(f"selected {selected}, no pair was nominated or carried media")
    if truth.get("no_checks") and any(_labels(s) for s in streams):
        out.append("pairs reported, the capture holds no check")
    if any(d["carries"] == "requests" for d in truth.get("missing_directions", [])):
        if "ORPHAN-RESPONSES" not in verdicts:
            out.append("ORPHAN-RESPONSES missing: the capture lacks the direction of some requests")
    out += [f"verdict {v} missing" for v in sorted(set(truth.get("expected_verdicts", [])) - verdicts)]
    out += [
        f"verdict {v} reported, the packets rule it out"
        for v in sorted(set(truth.get("forbidden_verdicts", [])) & verdicts)
    ]
    return out


def schema_problems(truth: dict, capture: Path) -> list[str]:
    out = [f"unknown key {k}" for k in sorted(set(truth) - KEYS)]
    if truth.get("capture") != capture.name or not capture.is_file():
        out.append(f"capture {truth.get('capture')!r} is not {capture.name}")
    for group in ("servers", "in_use", "not_succeeded", "missing_directions"):
        out += [
            f"{group}: {f} without frames and why"
            for f in truth.get(group, [])
            if not (f.get("frames") and f.get("why"))
        ]
    for key, why in (("ice_streams", "why_ice_streams"), ("no_checks", "why_no_checks")):
        if key in truth and why not in truth and not truth.get("in_use"):
            out.append(f"{key} without {why}")
    if (truth.get("expected_verdicts") or truth.get("forbidden_verdicts")) and not truth.get("why_verdicts"):
        out.append("verdicts without why_verdicts")
    if not truth.get("written_from"):
        out.append("no written_from")
    return out


@pytest.mark.parametrize("truth_file", _truth_files())
def test_golden_file_agrees_with_the_packets(truth_file):
    truth = json.loads(truth_file.read_text())
    capture = _capture(truth_file)
    assert schema_problems(truth, capture) == []
    golden = json.loads(testdata.require(capture.with_name(capture.name + GOLDEN_SUFFIX)).read_text())
    assert problems(golden, truth) == []


@pytest.mark.parametrize("truth_file", _truth_files())
def test_fresh_answer_agrees_with_the_packets(truth_file):
    truth = json.loads(truth_file.read_text())
    capture = _capture(truth_file)
    (task,) = [t for t in discover([str(capture.parent)]) if Path(t.capture).name == capture.name]
    outcome = summarise(task)
    assert outcome.summary is not None, outcome.error or outcome.crash
    assert problems(outcome.summary, truth) == []


def test_every_public_capture_has_its_truth():
    captures = testdata.require_files(testdata.PUBLIC, skip_suffixes=(".md", ".json"))
    missing = [testdata.shown(c) for c in captures if not c.with_name(c.name + TRUTH_SUFFIX).is_file()]
    assert missing == []


def test_the_comparison_catches_a_selection_moved_off_the_pair_in_use():
    truth_file = testdata.require(
        testdata.PUBLIC / "corelight_zeek-spicy-stun" / f"stun-ice-testcall.pcap{TRUTH_SUFFIX}"
    )
    truth = json.loads(truth_file.read_text())
    golden = json.loads(_capture(truth_file).with_name(f"stun-ice-testcall.pcap{GOLDEN_SUFFIX}").read_text())
    assert problems(golden, truth) == []
    (stream,) = [s for call in golden["calls"].values() for s in call["streams"].values()]
    stream["components"]["1"]["selected"] = stream["components"]["1"]["selected"].replace(":59977", ":60020")
    assert [p for p in problems(golden, truth) if p.startswith("no selected pair for the pair in use")]


def test_any_port_of_a_relay_is_held_to_that_relay():
    """unidir's pair in use leaves by a relayed address whose Allocate is not in the capture: icetrace's
    words for it must name the relay the truth names."""
    truth_file = testdata.require(testdata.PUBLIC / "ntop_nDPI" / f"stun_dtls_rtp_unidir.pcapng{TRUTH_SUFFIX}")
    truth = json.loads(truth_file.read_text())
    golden = json.loads(_capture(truth_file).with_name(f"stun_dtls_rtp_unidir.pcapng{GOLDEN_SUFFIX}").read_text())
    assert problems(golden, truth) == []
    (stream,) = [s for call in golden["calls"].values() for s in call["streams"].values()]
    selected = stream["components"]["1"]["selected"]
    assert selected.startswith("10.1.0.3:? (relayed for ")
    stream["components"]["1"]["selected"] = selected.replace("10.1.0.3:?", "10.1.0.9:?", 1)
    assert [p for p in problems(golden, truth) if p.startswith("no selected pair for the pair in use")]
