"""Both plots of every capture in the corpus, read back from the drawn figure: every text and the
legend inside the canvas, no two labels on top of each other, bold arrows only on the selected
path (and present on it), a lane per pair, time labels counted from the first message drawn.

Drawn at a low resolution (what is checked are positions relative to the canvas, which do not
depend on it) and split into chunks that pytest-xdist runs in parallel."""

from __future__ import annotations

import re

import pytest

import icetrace
from icetrace.corpus.companions import CaptureTask, discover
from icetrace.plots.story import WRAPPING_METHODS
from tests import testdata
from tests.plots.canvas import outside_axes, outside_canvas, overlapping, text_of

TASKS = discover([str(testdata.CAPTURES)])
CHUNKS = 8
LOW_DPI = 30
MAX_ARROWS = 160  # ladder_figure's default


def _analyze(task: CaptureTask) -> icetrace.Analysis:
    return icetrace.analyze([task.capture], sdp=list(task.sdp), logs=list(task.logs), tls_keylog=task.tls_keylog)


def _by_gid(fig, gid: str) -> list:
    return fig.findobj(lambda a: a.get_gid() == gid)


def _selected_checks(analysis) -> set[str]:
    """Transaction ids of the checks on a selected pair (the checks table keyed by pair)."""
    key = ["call_id", "stream", "component", "controlling", "controlled"]
    selected = analysis.pairs.loc[analysis.pairs.selected, key]
    on = analysis.checks.merge(selected, on=key, how="inner")
    return set(on.transaction_id.astype(str))


def check_ladder(analysis) -> None:
    fig = analysis.plot_ladder()
    fig.set_dpi(LOW_DPI)
    assert not (cut := outside_canvas(fig)), cut
    assert not (over := overlapping(fig, ("arrow-label", "time", "column", "idle"))), over
    assert (len(_by_gid(fig, "arrow")) > 0) == (len(analysis.messages) > 0), "arrows"
    times = [float(re.fullmatch(r"\+(-?[\d.]+) s", t).group(1)) for t in text_of(fig) if re.fullmatch(r"\+.* s", t)]
    assert times == sorted(times) and all(t >= 0 for t in times), times
    starts = [*analysis.messages.time, *analysis.media.first_time]
    assert max(times, default=0) <= max(starts, default=0) - min(starts, default=0) + 1e-3, times
    m = analysis.messages
    inner = m[m.kind.eq("stun") & ~m.method.isin(WRAPPING_METHODS)]
    first_frames = inner.drop_duplicates("frame").set_index("frame").transaction_id
    on_selected = _selected_checks(analysis)
    checked = set(analysis.checks.transaction_id.astype(str))
    chosen = analysis.pairs[analysis.pairs.selected]
    selected_ends = [{p.controlling, p.controlled} for p in chosen.itertuples()]
    bold = [t for t in _by_gid(fig, "arrow-label") if t.get_fontweight() == "bold"]
    for label in bold:
        text = label.get_text()
        assert "no answer" not in text and label.get_color() not in ("tab:red", "tab:orange"), text
        if re.search(r" pkts? ", text):
            continue  # media on a selected pair
        frame = int(re.search(r" f(\d+)…?$", text).group(1))
        transaction = str(first_frames.get(frame))
        if transaction in checked:
            assert transaction in on_selected, f"{text}: not a check on a selected pair"
        else:  # an answer whose request the capture missed: between a selected pair's own addresses
            row = inner[inner.frame.eq(frame)].iloc[0]
            if isinstance(row.relay_via, str):
                continue  # relayed (a capture that starts after the Allocate): its wire ends are the TURN leg's
            assert {row.src, row.dst} in selected_ends, f"{text}: not between a selected pair's addresses"
    answered = analysis.checks[analysis.checks.outcome.eq("success")]
    if len(_by_gid(fig, "arrow")) < MAX_ARROWS and set(answered.transaction_id.astype(str)) & on_selected:
        assert bold, "the selected pair's answered checks are drawn, but none bold"


def check_timeline(analysis) -> None:
    fig = analysis.plot_timeline()
    fig.set_dpi(LOW_DPI)
    assert not (cut := outside_canvas(fig)), cut
    assert not (over := overlapping(fig, ("tick", "state", "sip-label", "gathering-label", "idle", "media-label"))), (
        over
    )
    assert not (out := outside_axes(fig, "media-label")), out
    texts = text_of(fig)
    lanes = [t for t in fig.axes[-1].get_yticklabels() if "→" in t.get_text()]
    assert len(lanes) >= len(analysis.pairs), (len(lanes), len(analysis.pairs))
    assert len(_by_gid(fig, "selected")) == int(analysis.pairs.selected.sum()), "selected lanes"
    empty = "no candidate pairs" in texts
    assert empty == (len(analysis.pairs) == 0 and len(analysis.checks) == 0), f"empty timeline: {empty}"
    assert not any(re.search(r"\bunknown \d|ufrag:\S+ unknown", t) for t in texts), texts


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_every_capture_plots_read_whole(chunk):
    assert len(TASKS) > 100
    failures = []
    for task in TASKS[chunk::CHUNKS]:
        analysis = _analyze(task)
        for check in (check_ladder, check_timeline):
            try:
                check(analysis)
            except AssertionError as exc:
                failures.append(f"{task.capture} {check.__name__}: {exc}"[:600])
    assert failures == []
