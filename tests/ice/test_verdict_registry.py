"""The verdict registry: one rule per code, documented, each rule reachable from diagnose()."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

import icetrace
from icetrace.ice.diagnosis import diagnose, verdict_table
from icetrace.ice.diagnosis.registry import RULES, Finding, in_report_order, rule
from icetrace.records.vocabulary import VerdictCode

DOCS = Path(__file__).resolve().parents[2] / "docs" / "correlator.md"
SEED = Path(__file__).resolve().parents[2] / "captures" / "lync"


def test_docs_table_is_the_registry():
    text = DOCS.read_text()
    begin, end = "<!-- verdict-table:begin -->\n", "\n<!-- verdict-table:end -->"
    documented = text[text.index(begin) + len(begin) : text.index(end)]
    assert documented == verdict_table()


def test_every_rule_says_what_it_means_and_what_it_rests_on():
    assert len(RULES) >= 19
    for code, r in RULES.items():
        assert r.code == code
        assert r.severity in ("error", "warning", "info")
        assert r.meaning and r.reference
        assert r.scope in ("capture", "stream")


def test_the_closed_vocabulary_is_the_registry():
    assert set(get_args(VerdictCode)) == set(RULES)
    assert list(get_args(VerdictCode)) == [r.code for r in in_report_order()]


def test_a_code_outside_the_vocabulary_has_no_rule():
    with pytest.raises(ValueError, match="D99"):
        rule("D99", "warning", "unknown", "nowhere")(lambda rec, stream: [])  # type: ignore[arg-type]
    assert "D99" not in RULES


def test_a_code_cannot_have_two_rules():
    with pytest.raises(ValueError, match="D8"):
        rule("D8", "warning", "again", "nowhere")(lambda rec, stream: [])


def test_verdicts_carry_the_rule_code_severity_and_stream_call():
    a = icetrace.analyze([SEED / "failed-call" / "capture.pcap"])
    codes = {v.code for v in a.verdict_list}
    assert {"D8", "FAILED"} <= codes
    for v in a.verdict_list:
        if v.code == "D8" and "could never work" in v.message:
            assert v.severity == "info"  # between private addresses of two networks: not what failed the call
        else:
            assert v.severity == RULES[v.code].severity
    assert any(v.code == "D8" and v.severity == "warning" for v in a.verdict_list)
    failed = next(v for v in a.verdict_list if v.code == "FAILED")
    stream = next(s for s in a.reconstruction.streams if s.outcome == "failed")
    assert failed.call_id == stream.call_id
    assert failed.frames


def test_a_registered_rule_runs_per_stream(monkeypatch):
    a = icetrace.analyze([SEED / "mpop" / "capture.pcap"])
    seen = []

    def probe(rec, stream):
        seen.append(stream)
        yield Finding(f"probe {stream.index}", [1])

    monkeypatch.setitem(RULES, "PROBE", RULES["D8"].__class__("PROBE", "info", "probe", "none", "stream", probe))
    verdicts = diagnose(a.reconstruction)
    assert seen == a.reconstruction.streams
    assert [v.message for v in verdicts if v.code == "PROBE"] == [f"probe {s.index}" for s in a.reconstruction.streams]


def test_per_stream_rules_read_only_their_streams_checks(monkeypatch):
    """A busy capture holds thousands of streams: a per-stream rule that walked every check of the
    capture for each stream made diagnosis quadratic (34 s of a 1 GB capture's analysis)."""
    import icetrace.ice.diagnosis.checks as diagnosis

    analysis = icetrace.analyze([SEED / "mpop" / "capture.pcap"], logs=[SEED / "mpop" / "alice.uccapilog"])
    rec = analysis.reconstruction
    assert len(rec.streams) >= 2 and rec.integrity
    looked_up = []
    original = diagnosis.transaction_key
    monkeypatch.setattr(diagnosis, "transaction_key", lambda t: looked_up.append(t) or original(t))
    diagnose(rec)
    assert 0 < len(looked_up) <= len(rec.checks)
