"""The timeline, read back from the drawn figure: one lane per pair, a marker per check event,
labels fully inside the canvas, for the seed call (8 pairs) and a 60-pair call."""

from __future__ import annotations

import sys
from functools import cache

import pandas as pd
import pytest

import icetrace
from icetrace.analysis import Analysis
from tests import testdata
from tests.plots.canvas import drawn_texts, marker_count, outside_canvas, text_of

MANY = testdata.CAPTURES / "synthetic" / "many_pairs"


@cache
def seed() -> Analysis:
    return icetrace.analyze([testdata.SEED_CALL])


@cache
def three() -> Analysis:
    return icetrace.analyze([testdata.CAPTURES / "real" / "chromium-direct" / "public.pcap"])


@cache
def many() -> Analysis:
    return icetrace.analyze([MANY / "capture.pcap"])


def _lane_labels(fig) -> list[str]:
    pairs_axes = fig.axes[-1]
    return [t.get_text() for t in pairs_axes.get_yticklabels()]


def _pair_labels(analysis: Analysis) -> list[str]:
    """What each lane must be called, in lane order: by component, highest pair priority first."""
    pairs = analysis.pairs.sort_values(["stream", "component", "priority"], ascending=[True, True, False])
    return [
        f"{p.controlling_type} {p.controlling} → {p.controlled_type} {p.controlled}"
        + ("  [selected]" if p.selected else ("  [nominated]" if p.nominated else ""))
        for p in pairs.itertuples()
    ]


@pytest.mark.parametrize("get", [three, seed, many], ids=["chromium-3-pairs", "seed-8-pairs", "synthetic-60-pairs"])
def test_one_lane_per_pair_in_priority_order_and_nothing_cut_off(get):
    analysis = get()
    fig = analysis.plot_timeline()
    lanes = [label for label in _lane_labels(fig) if "→" in label]
    assert len(lanes) == len(analysis.pairs) in (3, 8, 60)
    assert lanes == _pair_labels(analysis)
    assert outside_canvas(fig) == []
    # readable: no two lane labels overlap
    boxes = sorted((t.get_window_extent() for t in fig.axes[-1].get_yticklabels() if t.get_text()), key=lambda b: b.y0)
    assert all(lower.y1 <= upper.y0 + 0.5 for lower, upper in zip(boxes, boxes[1:]))


@pytest.mark.parametrize("get", [three, seed, many], ids=["chromium-3-pairs", "seed-8-pairs", "synthetic-60-pairs"])
def test_every_check_is_a_marker(get):
    analysis = get()
    fig = analysis.plot_timeline()
    drawn_texts(fig)
    checks = analysis.checks
    assert marker_count(fig, "check-retransmission") == int(checks.retransmissions.sum())
    assert marker_count(fig, "check-nominating") == int(checks.use_candidate.sum())
    assert marker_count(fig, "check-request") == int((~checks.use_candidate).sum())
    for outcome in ("success", "error", "timeout"):
        assert marker_count(fig, f"check-{outcome}") == int((checks.outcome == outcome).sum()), outcome
    bad = checks.integrity.eq("bad") | checks.response_integrity.eq("bad")
    assert marker_count(fig, "check-integrity-failure") == int(bad.sum())


def test_seed_call_story_is_all_there():
    analysis = seed()
    fig = analysis.plot_timeline()
    texts = text_of(fig)
    # the relayed checks (inside MS-TURN Send/Data) are on their relay → relay lanes
    relayed = analysis.checks[analysis.checks.relayed]
    assert len(relayed) == 2 and "relay 198.51.100.20:57309 → relay 198.51.100.20:53000" in _lane_labels(fig)
    # selected pairs highlighted, with their RTT and media packet counts
    assert len([a for a in fig.findobj(lambda a: a.get_gid() == "selected")]) == 2
    # each lane's RTT is the pairs table's (the text report's and the HTML's), labelled whose checks it times
    states = [t for t in texts if t.startswith(("succeeded", "failed"))]
    expected = [
        p.state + ("" if pd.isna(p.rtt_ms) else f", rtt {p.rtt_ms:.1f} ms ({p.rtt_of}'s checks)")
        for p in analysis.pairs.sort_values(
            ["stream", "component", "priority"], ascending=[True, True, False]
        ).itertuples()
    ]
    assert sorted(states) == sorted(expected) and "succeeded, rtt 58.0 ms (controlling's checks)" in states
    rtp = analysis.media[analysis.media.kind.eq("rtp")].packets.sum()
    assert f"rtp {rtp} pkts" in texts and rtp == 800
    # SIP events as marks, the updated offer named; gathering lanes above with the 401 challenge
    sip = [t for t in texts if "INVITE" in t or "final offer" in t]
    assert sip == ["INVITE, 183", "final offer, 200"]
    assert "caller host 192.168.1.100:50033 → edge relay 198.51.100.20:3478" in [
        t.get_text() for t in fig.axes[0].get_yticklabels()
    ]
    assert texts.count("allocate ×2 (401 challenge)") == 2  # the normal challenge, drawn orange, not red


def test_sixty_pairs_show_their_failures():
    analysis = many()
    fig = analysis.plot_timeline()
    assert len(analysis.pairs) == 60
    texts = text_of(fig)
    assert sum(t.startswith("failed") for t in texts) == int((analysis.pairs.state == "failed").sum()) > 40
    assert sum(t.startswith("succeeded, rtt") for t in texts) == int((analysis.pairs.state == "succeeded").sum())
    assert marker_count(fig, "check-integrity-failure") == 2 and marker_count(fig, "check-error") == 2
    assert "INVITE" in texts and "BYE, 200 (BYE)" in texts


def test_the_title_counts_pairs_in_words():
    one = icetrace.analyze([testdata.PUBLIC / "ntop_nDPI" / "skype-conference-call.pcap"])
    assert len(one.pairs) == 1
    last = one.plot_timeline().get_suptitle().splitlines()[-1]  # after each stream's cause
    assert last.startswith("ICE checks per candidate pair: 1 pair, 1 selected")
    last = seed().plot_timeline().get_suptitle().splitlines()[-1]
    assert last.startswith(f"ICE checks per candidate pair: {len(seed().pairs)} pairs,")


def test_no_pairs_draws_an_empty_timeline():
    analysis = icetrace.analyze([], records=[])
    fig = analysis.plot_timeline()
    assert "no candidate pairs" in text_of(fig) and outside_canvas(fig) == []
    assert fig.get_suptitle().endswith("ICE checks per candidate pair: the capture holds no connectivity check")
    # a capture of gathering alone: its title counts nothing and explains no lane colour
    gathering = icetrace.analyze([testdata.CAPTURES / "real" / "aioice-failure" / "public.pcap"])
    assert gathering.checks.empty and len(gathering.transactions)
    assert gathering.plot_timeline().get_suptitle().endswith("holds no connectivity check")


def test_many_pairs_analysis_tells_the_packets_story():
    from tests.corpus.truth import load_truth, pair_addresses, schema_problems

    truth = load_truth(MANY)
    assert schema_problems(truth) == []
    doc = many().to_dict()
    (stream,) = doc["streams"]
    assert stream["outcome"] == truth["expected_outcome"] == "connected"
    for comp, want in zip(stream["components"], truth["agents"]["caller"]["streams"][0]["components"], strict=True):
        assert len(comp["pairs"]) == len(want["checklist"]) == 30
        assert pair_addresses(comp["selected"]) == {want["selected"]["local"], want["selected"]["remote"]}
        assert comp["selected"]["nominated_by"] == "use-candidate"
    codes = [v["code"] for v in doc["verdicts"]]
    # the 487 Role Conflict, one per component, each named by its check's frame
    errors = many().checks[many().checks.outcome == "error"]
    assert len(errors) == 2
    role_conflict = {f for v in doc["verdicts"] if v["code"] == "D12" for f in v["frames"]}
    assert set(errors.frame) <= role_conflict
    assert any(code.startswith("D11") for code in codes)  # the answer signed with the wrong password


def test_checks_on_no_known_pair_get_a_lane_of_their_own(tmp_path):
    """A check whose USERNAME names no agent (no colon) is still drawn, by its addresses."""
    sys.path.insert(0, str(MANY.parent))
    from builder import Capture, tid

    from dissectors.codec import encode_stun

    check = encode_stun(
        0x0001,
        tid("odd"),
        [("USERNAME", b"nocolonhere"), ("PRIORITY", 1862270975), ("ICE-CONTROLLING", 1)],
        integrity_key=b"whatever",
        fingerprint=True,
    )
    cap = Capture()
    for t in (0.0, 0.5):
        cap.udp(t, ("192.168.1.1", 1000), ("192.168.1.2", 2000), check)
    path = cap.write(tmp_path, {})
    analysis = icetrace.analyze([path])
    assert len(analysis.checks) == 1 and analysis.pairs.empty
    fig = analysis.plot_timeline()
    labels = _lane_labels(fig)
    assert labels == ["checks on no known pair", "192.168.1.1:1000 → 192.168.1.2:2000"]
    assert marker_count(fig, "check-request") == 1 and marker_count(fig, "check-retransmission") == 1


def test_gathering_from_sockets_of_an_agent_s_host_is_named_for_that_agent():
    # Telegram gathers from many ports of one host; only some of them are candidates the checks show
    analysis = icetrace.analyze([testdata.PUBLIC / "ntop_nDPI" / "telegram_videocall.pcapng"])
    fig = analysis.plot_timeline()
    gathering = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    host = "192.168.12.169:"
    sources = {label.split(" → ")[0].rsplit(" ", 1)[-1] for label in gathering}
    assert len(sources) > len(set(analysis.candidates.address) & sources)  # sockets no candidate names
    assert gathering and all(label.startswith("agent SuU3 ") and host in label for label in gathering)


def test_each_session_s_cause_in_the_title_names_the_session_apart():
    analysis = icetrace.analyze([testdata.PUBLIC / "ntop_nDPI" / "stun_signal.pcapng"])
    title = analysis.plot_timeline().get_suptitle()
    assert "session 1 (no signaling; ufrags mNwq/WJsu): [" in title
    assert "session 2 (no signaling; ufrags 7kss/1EZs): [" in title


def test_pauses_read_in_the_unit_that_fits_them():
    from icetrace.plots.time_axis import duration_text

    assert [duration_text(s) for s in (5.24, 119.0, 750.0, 9000.0, 9783876.2)] == [
        "5.2 s",
        "119.0 s",
        "12.5 min",
        "2.5 h",
        "113.2 days",
    ]


def test_a_late_media_band_keeps_its_count_inside_the_plot():
    # Google Meet's IPv6 session comes 113 days after the first: its band ends the plot
    from tests.plots.canvas import outside_axes

    analysis = icetrace.analyze([testdata.require(testdata.PUBLIC / "ntop_nDPI" / "stun_google_meet.pcapng")])
    fig = analysis.plot_timeline()
    assert [t.get_text() for t in fig.findobj(lambda a: a.get_gid() == "idle")] == ["113.2 days idle"]
    assert outside_axes(fig, "media-label") == []
    assert any(
        label.endswith("142 pkts")
        for label in [t.get_text() for t in fig.findobj(lambda a: a.get_gid() == "media-label")]
    )
