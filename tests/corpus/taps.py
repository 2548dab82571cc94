"""The real recordings' three taps (captures/real/<call>/<tap>.pcap), read alone or given together."""

from __future__ import annotations

from functools import cache

import icetrace
from icetrace.analysis import Analysis
from tests.corpus.truth import CAPTURES

TAPS = ("left-lan", "public", "right-lan")  # nearest the controlling agent first


@cache
def tap_analysis(name: str, taps: tuple[str, ...]) -> Analysis:
    """The recording `name` as the taps named show it, read once per test process."""
    return icetrace.analyze([CAPTURES / "real" / name / f"{tap}.pcap" for tap in taps])


def media_on_selected(a: Analysis) -> dict[tuple[str, str], int]:
    """Packets per direction (from the controlling agent or to it) and kind on the selected pairs."""
    out = {}
    for s in a.reconstruction.streams:
        controlling = {c.address for c in s.controlling.candidates} if s.controlling else set()
        for f in s.media_flows:
            out[("from controlling" if f.src in controlling else "to controlling", f.kind)] = f.packets
    return out
