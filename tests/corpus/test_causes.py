"""Every recording whose truth names why its call went the way it did: each capture's cause, fresh
and in its golden file, agrees with the truth.

The truth's `expected_cause` comes from the network policy the scenario set and the agents' own
evidence (captures/README.md), never from icetrace. A cause is what a capture shows, so the tap
that holds the decisive evidence must name the code: a recording's only capture, and the taps of
the side(s) the cause is about (an agent's LAN tap, or a server's own interface). Another tap may see only the consequence: there the code's
family (before the colon) must agree, or the capture may say `unknown:partial-capture`. A truth's
`capture_facts` may name a tap's code (`cause`) or declare it unobservable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from icetrace.corpus.companions import discover
from icetrace.corpus.worker import run_task
from icetrace.report.golden import stream_keys, summary
from tests.corpus.truth import CAPTURES, load_truth

PARTIAL = "unknown:partial-capture"


def _recordings() -> list[Path]:
    return sorted(p.parent for p in CAPTURES.rglob("truth.json") if "expected_cause" in json.loads(p.read_text()))


def _cases() -> list[Any]:
    out = []
    for folder in _recordings():
        for capture in load_truth(folder)["vantage_points"]:
            if (folder / capture).suffix in (".pcap", ".gz") or not (folder / capture).with_suffix(".pcap").exists():
                out.append(pytest.param(folder, capture, id=f"{folder.name}/{capture}"))
    return out


def _family(code: str) -> str:
    return code.split(":", 1)[0]


def _decisive(truth: dict, capture: str) -> bool:
    """Whether this tap must show the cause itself: the recording's only tap, or a LAN tap of the
    side the cause is about."""
    taps = [t for t in truth["vantage_points"] if not t.endswith((".pcapng", ".cap"))]
    if len(taps) == 1:
        return True
    side = truth["expected_cause"]["side"]
    sides = [name for name in truth.get("agents", {})] if side == "both" else [side]
    stem = capture.rsplit(".", 1)[0]
    return any(stem == s or stem.startswith(f"{s}-") for s in sides)


def _chosen_stream(analysis: Any, truth: dict) -> int | None:
    """The stream the truth is about: the named callee's (MPOP), else the one with the numbered media
    line (any, without signaling) where the agents checked pairs, else the first of those."""
    callee = truth.get("callee")
    number = truth["expected_cause"]["stream"]
    for i, s in enumerate(analysis.reconstruction.streams):
        if callee and callee in {a.name for a in (s.controlling, s.controlled) if a is not None}:
            return i
    numbered = [i for i, s in enumerate(analysis.reconstruction.streams) if s.index in (number, None)]
    checked = [i for i in numbered if any(c.pairs for c in analysis.reconstruction.streams[i].components)]
    return (checked or numbered or [None])[0]


@pytest.mark.parametrize(("folder", "capture"), _cases())
def test_the_cause_agrees_with_the_truth(folder, capture):
    truth = load_truth(folder)
    facts = truth.get("capture_facts", {}).get(capture, {})
    unobservable = set(facts.get("unobservable", []))
    (task,) = [t for t in discover([str(folder)]) if Path(t.capture).name == capture]

    def what(analysis: Any) -> tuple[dict, tuple[str, str] | None, dict | None]:
        doc = analysis.to_dict()
        i = _chosen_stream(analysis, truth)
        if i is None:
            return summary(analysis), None, None
        return summary(analysis), stream_keys(doc["streams"])[i], doc["streams"][i]

    outcome = run_task(task, what, "summary")
    assert outcome.summary is not None, outcome.error or outcome.crash
    fresh, key, stream = outcome.summary
    if key is None or stream is None:
        # no ICE stream: nothing to name a cause for; the tap that shows the cause must hold one
        assert not _decisive(truth, capture) and "cause" not in facts, f"{capture}: no ICE stream"
        return
    golden = json.loads(Path(task.golden).read_text())
    for doc, what_ in ((fresh, "fresh analysis"), (golden, "golden file")):
        found = doc["calls"][key[0]]["streams"][key[1]]
        if "cause" not in unobservable:
            _agrees(found["cause"], truth, capture, facts, f"{capture} ({what_}): {stream['cause']['summary']}")


def _agrees(code: str, truth: dict, capture: str, facts: dict, context: str) -> None:
    want = facts.get("cause", truth["expected_cause"]["code"])
    if "cause" in facts or _decisive(truth, capture):
        assert code == want, context
    else:
        assert code == PARTIAL or _family(code) == _family(want), context


def test_the_recordings_name_causes():
    assert len(_recordings()) >= 10
