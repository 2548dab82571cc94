"""The analysis does not depend on the order the SDP files are given in.

Every capture of the corpus that `icetrace check` gives two or more SDP files is analysed with them
in every order; the story (the golden summary: streams, outcomes, nomination, pairs, verdicts) is
the same each time, and with three or more files (an updated offer among them) so is the whole
analysis document but for its list of sources, which keeps the order given.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

import icetrace
from icetrace.corpus.companions import discover
from icetrace.report.golden import summary
from tests import testdata
from tests.corpus.truth import CAPTURES


def _signaled_tasks() -> list:
    tasks = [t for t in discover([str(CAPTURES)]) if len(t.sdp) >= 2]
    return [pytest.param(t, id=testdata.shown(Path(t.capture))) for t in tasks] or [
        testdata.missing("no capture in captures/ with two or more SDP companions")
    ]


@pytest.mark.parametrize("task", _signaled_tasks())
def test_every_order_of_the_sdp_files_tells_one_story(task):
    results: dict[str, list[tuple[str, ...]]] = {}
    documents = set()
    for order in itertools.permutations(task.sdp):
        analysis = icetrace.analyze([task.capture], sdp=list(order), logs=list(task.logs))
        text = json.dumps(summary(analysis), sort_keys=True)
        results.setdefault(text, []).append(tuple(Path(p).name for p in order))
        document = analysis.to_dict()
        assert sorted(document.pop("sources")) == sorted([task.capture, *task.sdp, *task.logs])  # as given
        documents.add(json.dumps(document, sort_keys=True, default=str))
    assert len(results) == 1, [orders[0] for orders in results.values()]
    if len(task.sdp) >= 3:
        assert len(documents) == 1


def test_the_updated_offer_is_read_as_one_whatever_its_place():
    """libnice OC2007: the controlling agent's final offer (a=remote-candidate) first, as `check`
    orders the companions, gives one stream nominated by that offer, not an extra empty one."""
    folder = testdata.require(CAPTURES / "real" / "libnice-oc2007" / "truth.json").parent
    task = next(t for t in discover([str(folder)]) if t.capture.endswith("left-lan.pcap"))
    assert [Path(p).name for p in task.sdp][0] == "left-final.sdp"
    streams = icetrace.analyze([task.capture], sdp=list(task.sdp)).to_dict()["streams"]
    assert [(s["outcome"], s["nomination_style"]) for s in streams] == [("connected", "final-offer")]
    assert streams[0]["components"][0]["selected_by"] == "final-offer"
