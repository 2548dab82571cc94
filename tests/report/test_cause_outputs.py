"""The cause is the first thing said about each stream: the text report's stream line, the HTML
page's stream heading and summary, the ladder's and the timeline's titles; a move of the pair in use
is an event in each."""

from __future__ import annotations

import io
from functools import cache

import icetrace
from icetrace.analysis import Analysis
from icetrace.report.html import write_html
from icetrace.report.text import write_report
from tests import testdata

LATE_DIRECT = testdata.CAPTURES / "real" / "chromium-late-direct" / "left-lan.pcap"


@cache
def late_direct() -> Analysis:
    """Chromium: on the right browser's relay first, then the direct pair once the block was lifted."""
    return icetrace.analyze([LATE_DIRECT])


def test_the_text_report_opens_each_stream_with_its_cause():
    a = icetrace.analyze([testdata.SEED_CALL])
    out = io.StringIO()
    write_report(a, out, colour=False)
    lines = out.getvalue().splitlines()
    (stream,) = a.reconstruction.streams
    assert stream.cause is not None
    head = next(i for i, line in enumerate(lines) if line.startswith("call "))
    assert lines[head].endswith(f"[{stream.cause.code}] {stream.cause.summary}")
    assert lines[head + 1].startswith(f"  next step: {stream.cause.next_step}")
    assert lines[head + 2].startswith("  outcome CONNECTED (RELAY)")


def test_a_switch_from_the_relay_is_told_with_its_time_in_every_output():
    a = late_direct()
    (stream,) = a.reconstruction.streams
    (change,) = stream.components[0].selection_changes
    assert change.before.is_relay and not change.after.is_relay
    at = change.time - a.reconstruction.start
    assert 0.5 < at < 1.0
    assert stream.cause is not None and stream.cause.code == "direct"
    assert f"relay first, switched to direct at {at:.1f} s" in stream.cause.summary
    text = io.StringIO()
    write_report(a, text, colour=False)
    assert "selection change: relay first (192.168.1.10:45856 <-> 203.0.113.254:49173), switched to direct " in (
        text.getvalue()
    )
    doc = a.to_dict()["streams"][0]["components"][0]["selection_changes"]
    assert [(c["time"], c["frame"]) for c in doc] == [(change.time, change.frame)]
    assert doc[0]["from"]["controlled"]["type"] == "relay" and doc[0]["to"]["controlled"]["type"] == "srflx"
    page = io.StringIO()
    write_html(a, page)
    assert '<p class="switch">selection change: relay first' in page.getvalue()
    assert f"<code>{stream.cause.code}</code>" in page.getvalue()
    fig = a.plot_timeline()
    assert [x.get_text() for x in fig.findobj(lambda x: x.get_gid() == "switch-label")] == ["switched to direct"]
    assert fig.findobj(lambda x: x.get_gid() == "switch")


def test_the_plots_are_titled_with_each_streams_cause():
    a = late_direct()
    cause = a.reconstruction.streams[0].cause
    assert cause is not None
    for fig in (a.plot_timeline(), a.plot_ladder()):
        title = fig._suptitle.get_text()  # noqa: SLF001 (matplotlib keeps the suptitle there)
        # the stream named as the reports name it ("call C stream 0 (audio)"), then its cause
        assert title.startswith(f"call {a.reconstruction.streams[0].call_id} stream 0 (audio): [{cause.code}]")
        assert title.replace("\n  ", " ").count(cause.summary[:60]) == 1
