"""Both plots of a spread of corpus captures (Lync, browsers, libnice [MS-ICE], baresip through
TURN, no pairs at all): a lane per pair, an arrow per collapsed exchange, no text cut off."""

from __future__ import annotations

import pytest

import icetrace
from tests import testdata
from tests.plots.canvas import outside_canvas

CASES = [
    "lync/mpop/capture.pcap",
    "lync/edge-misconfigured/capture.pcap",
    "real/baresip-kamailio/public.pcap",
    "real/chromium-firefox/public.pcap",
    "real/libnice-oc2007/left-lan.pcap",
    "real/aioice-failure/public.pcap",
]


@pytest.mark.parametrize("name", CASES)
def test_plots_read_whole(name):
    analysis = icetrace.analyze([testdata.CAPTURES / name])
    timeline = analysis.plot_timeline()
    lanes = [t for t in timeline.axes[-1].get_yticklabels() if "→" in t.get_text()]
    assert len(lanes) == len(analysis.pairs)
    assert outside_canvas(timeline) == []
    ladder = analysis.plot_ladder()
    assert outside_canvas(ladder) == []
    arrows = ladder.findobj(lambda a: a.get_gid() == "arrow")
    assert (len(arrows) > 0) == (len(analysis.messages) > 0)
