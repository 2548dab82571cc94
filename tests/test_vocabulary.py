"""The closed vocabulary (icetrace/records/vocabulary.py) is the one the code, the plots and the
docs use: every word of an outcome has a mark and a legend line, and every value the corpus
produces is a declared word."""

from __future__ import annotations

import json
from functools import cache

import pytest

import icetrace
from icetrace.ice.model import SELECTED_BECAUSE
from icetrace.plots import ladder, timeline
from icetrace.records import vocabulary as v
from tests.testdata import CAPTURES, ROOT


def test_words_of_a_union_of_literals():
    assert v.words(v.SelectedBy) == ("use-candidate", "nomination", "final-offer", "media", "in-use")


def test_the_timeline_marks_every_transaction_outcome():
    assert set(v.words(v.TransactionOutcome)) <= timeline.MARKS.keys()


def test_the_ladder_knows_whether_each_outcome_was_answered():
    assert list(ladder.ANSWERED) == list(v.words(v.TransactionOutcome))


def test_every_selection_reason_is_explained():
    assert list(SELECTED_BECAUSE) == list(v.words(v.SelectedBecause))


def test_the_docs_list_every_transaction_outcome():
    text = (ROOT / "docs" / "correlator.md").read_text(encoding="utf-8")
    assert "| outcome | string |  | " + "/".join(v.words(v.TransactionOutcome)) + " (TransactionOutcome) |" in text


@cache
def _seed_call():
    return icetrace.analyze([CAPTURES / "lync" / "seed-call" / "capture.pcap"])


@pytest.mark.parametrize(
    ("table", "column", "vocabulary"),
    [
        ("messages", "kind", v.MessageKind),
        ("messages", "dialect", v.RecordDialect),
        ("messages", "class", v.MessageClass),
        ("messages", "ice_role", v.Role),
        ("messages", "fingerprint", v.FingerprintResult),
        ("transactions", "outcome", v.TransactionOutcome),
        ("transactions", "integrity", v.IntegrityResult),
        ("pairs", "state", v.PairState),
        ("pairs", "nominated_by", v.NominatedBy),
        ("pairs", "selected_because", v.SelectedBecause),
        ("pairs", "rtt_of", v.Role),
        ("checks", "outcome", v.TransactionOutcome),
        ("verdicts", "severity", v.Severity),
    ],
)
def test_the_tables_hold_declared_words(table, column, vocabulary):
    values = set(getattr(_seed_call(), table)[column].dropna())
    assert values, f"{table}.{column} is empty on the seed call: the test would prove nothing"
    assert values <= set(v.words(vocabulary))


def test_the_json_streams_hold_declared_words():
    doc = json.loads(json.dumps(_seed_call().to_dict(), default=str))
    streams = doc["streams"]
    assert streams
    for s in streams:
        assert s["outcome"] in v.words(v.StreamOutcome)
        assert s["nomination_style"] in (*v.words(v.NominationStyle), None)
        assert s["connectivity"] in v.words(v.Connectivity)
