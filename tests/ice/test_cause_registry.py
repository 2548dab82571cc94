"""The cause registry: one rule per cause code, documented, every code shown by a capture, and one
cause on every stream."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import pytest

import icetrace
from icetrace.ice.diagnosis import cause_table
from icetrace.ice.diagnosis.cause_registry import CAUSES, FALLBACK, cause, in_order
from icetrace.records.vocabulary import CauseCode

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "causes.md"
CAPTURES = ROOT / "captures"


def test_docs_table_is_the_registry():
    text = DOCS.read_text()
    begin, end = "<!-- cause-table:begin -->\n", "\n<!-- cause-table:end -->"
    assert text[text.index(begin) + len(begin) : text.index(end)] == cause_table()


def test_every_rule_says_what_it_means_what_it_cites_what_it_rests_on_and_what_to_do():
    for code, r in CAUSES.items():
        assert r.code == code
        assert r.meaning and r.evidence and r.reference and r.next_step, code
        assert "RFC" in r.reference or "W3C" in r.reference, code


def test_the_closed_vocabulary_is_the_registry_in_the_order_tried():
    assert set(get_args(CauseCode)) == set(CAUSES)
    assert [r.code for r in in_order()] == list(get_args(CauseCode))
    assert FALLBACK in CAUSES


def test_a_code_outside_the_vocabulary_or_twice_has_no_rule():
    with pytest.raises(ValueError, match="failed:gremlins"):
        cause("failed:gremlins", "m", "e", "RFC 0", "n")(lambda ev: None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="direct"):
        cause("direct", "m", "e", "RFC 0", "n")(lambda ev: None)


def _golden_causes() -> dict[str, set[str]]:
    shown: dict[str, set[str]] = {}
    for golden in CAPTURES.rglob("*.expected.json"):
        doc = json.loads(golden.read_text())
        for call in doc["calls"].values():
            for stream in call["streams"].values():
                shown.setdefault(stream["cause"], set()).add(str(golden.relative_to(CAPTURES)))
    return shown


def test_every_cause_code_is_shown_by_a_capture_in_the_corpus():
    shown = _golden_causes()
    missing = [code for code in get_args(CauseCode) if code not in shown]
    assert missing == []


def test_every_stream_gets_one_cause_with_its_evidence():
    a = icetrace.analyze([CAPTURES / "lync" / "failed-call" / "capture.pcap"])
    (stream,) = a.reconstruction.streams
    assert stream.cause is not None and stream.cause.code == "failed:no-common-path"
    assert stream.cause.evidence_frames and stream.cause.next_step
    frames = {r.frame for r in a.reconstruction.records}
    assert set(stream.cause.evidence_frames) <= frames
    doc = a.to_dict()["streams"][0]["cause"]
    assert doc == {
        "code": "failed:no-common-path",
        "summary": stream.cause.summary,
        "evidence_frames": stream.cause.evidence_frames,
        "next_step": stream.cause.next_step,
    }
