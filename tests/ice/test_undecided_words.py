"""A stream neither connected nor failed says how far it got: on Teams' capture one of its two
components has a selected pair, so its cause must not say that none was selected."""

from __future__ import annotations

import icetrace
from tests import testdata


def test_an_undecided_stream_counts_its_selected_components():
    analysis = icetrace.analyze([testdata.require(testdata.PUBLIC / "ntop_nDPI" / "teams.pcap")])
    for s in analysis.reconstruction.streams:
        if s.cause is None or s.cause.code != "unknown:partial-capture" or "pair(s)" not in s.cause.summary:
            continue
        chosen = sum(c.selected is not None for c in s.components)
        words = "none selected" if not chosen else f"a selected pair in {chosen} of {len(s.components)} components"
        assert words in s.cause.summary, s.cause.summary
    summaries = [s.cause.summary for s in analysis.reconstruction.streams if s.cause]
    assert any("a selected pair in 1 of 2 components" in text for text in summaries), summaries
