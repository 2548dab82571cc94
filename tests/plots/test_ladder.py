"""The ladder, read back from the drawn figure: role-named columns, arrows in time order, repeats
collapsed into one arrow with their count and span."""

from __future__ import annotations

import re
from functools import cache

import icetrace
from icetrace.analysis import Analysis
from icetrace.plots.ladder import ladder_figure
from tests import testdata
from tests.plots.canvas import outside_canvas, text_of

RELAY_ONLY = testdata.CAPTURES / "real" / "aioice-relay-only" / "public.pcap"


@cache
def seed() -> Analysis:
    return icetrace.analyze([testdata.SEED_CALL])


def _by_gid(fig, gid: str) -> list[str]:
    return [a.get_text() for a in fig.findobj(lambda a: a.get_gid() == gid)]


def test_columns_are_addresses_named_by_role():
    fig = seed().plot_ladder()
    columns = _by_gid(fig, "column")
    assert columns[0] == "caller host\n192.168.1.100:50033"
    assert "edge relay\n198.51.100.20:3478" in columns
    assert "callee relay\n198.51.100.20:53000" in columns and "callee host\n10.0.0.20:6000" in columns
    # caller side left of the relay, callee side right of it
    edge = columns.index("edge relay\n198.51.100.20:3478")
    assert all(c.startswith("caller") for c in columns[:edge]) and all(
        c.startswith("callee") for c in columns[edge + 1 :]
    )
    assert outside_canvas(fig) == []


def test_retransmissions_collapse_into_one_arrow_with_count_and_span():
    analysis = seed()
    fig = analysis.plot_ladder()
    labels = _by_gid(fig, "arrow-label")
    assert len(labels) == len(fig.findobj(lambda a: a.get_gid() == "arrow"))
    t = analysis.transactions
    (timed_out,) = t[(t.first_frame == 15)].itertuples()
    frames = analysis.messages[analysis.messages.transaction_id == timed_out.transaction_id]
    span = frames.time.max() - frames.time.min()
    assert timed_out.requests == 7 and timed_out.outcome == "timeout"
    assert f"binding request ×{timed_out.requests} over {span:.2f} s, no answer  udp  f15…" in labels
    # relayed checks are drawn from the sender to the peer through the relay's column, with the
    # transport of both legs, and the MS-TURN wrapper is not drawn twice
    assert "binding request (ms send request)  udp→relay→udp  f29" in labels
    assert len(fig.findobj(lambda a: a.get_gid() == "via-relay")) == 4
    assert not any(label.startswith("ms-send request") for label in labels)
    # media collapsed per flow with its packet count
    assert sum(label.startswith("rtp 400 pkts over") for label in labels) == 2


def test_arrows_are_in_time_order():
    fig = seed().plot_ladder()
    times = [float(re.match(r"\+([\d.]+) s", t).group(1)) for t in _by_gid(fig, "time")]
    assert times == sorted(times) and len(times) == len(_by_gid(fig, "arrow-label"))


def test_channeldata_carrying_checks_is_drawn_once_as_the_check():
    analysis = icetrace.analyze([RELAY_ONLY])
    fig = analysis.plot_ladder()
    labels = _by_gid(fig, "arrow-label")
    assert any(label.startswith("binding request (channeldata)") for label in labels)
    assert not any(label.startswith("ChannelData") for label in labels)
    assert any(re.match(r"channeldata \d+ pkts over", label) for label in labels)
    assert outside_canvas(fig) == []


def test_a_socket_on_an_agent_s_host_is_drawn_on_that_agent_s_side():
    # Chromium signals only its relay candidate; its STUN binding leaves from another port of its host
    folder = testdata.CAPTURES / "real" / "chromium-turn-tcp"
    analysis = icetrace.analyze([folder / "left-lan.pcap"], sdp=[folder / "offer.sdp", folder / "answer.sdp"])
    assert "192.168.1.10:34738" not in analysis.candidates.address.values
    columns = _by_gid(analysis.plot_ladder(), "column")
    assert columns[:2] == ["caller host\n192.168.1.10:34738", "caller TURN client\n192.168.1.10:43660"]
    assert columns[-1].startswith("callee")


RELAYED = [
    testdata.CAPTURES / "servers" / "turn-server-vantage" / "turn-server.pcap",  # no signaling, the server's view
    testdata.PUBLIC / "ntop_nDPI" / "teams.pcap",  # two sessions without signaling, MS-TURN
    testdata.CAPTURES / "real" / "chromium-relay" / "public.pcap",
    testdata.SEED_CALL,
]


def test_a_relayed_message_crosses_its_relay_s_column():
    for capture in RELAYED:
        fig = icetrace.analyze([capture]).plot_ladder()
        spans = {}
        for arrow in fig.findobj(lambda a: a.get_gid() == "arrow"):
            spans.setdefault(arrow.xy[1], []).append(sorted((arrow.xy[0], arrow.xyann[0])))
        dots = [
            (line.get_xdata()[0], line.get_ydata()[0]) for line in fig.findobj(lambda a: a.get_gid() == "via-relay")
        ]
        assert dots, capture.name
        for x, y in dots:
            assert any(low < x < high for low, high in spans[y]), (capture.name, x, y)


def test_a_turn_server_s_own_name_of_a_relayed_address_is_that_relay_s_column():
    analysis = icetrace.analyze([testdata.CAPTURES / "servers" / "turn-server-vantage" / "turn-server.pcap"])
    columns = _by_gid(analysis.plot_ladder(), "column")
    relays = [c for c in columns if c.endswith(":49177")]
    assert relays == ["agent O1U9 relay\n10.0.22.48:49177", "agent O1U9 relay\n203.0.113.200:49177"]
    assert columns.index(relays[1]) < columns.index("relay server\n10.0.22.48:3478") < len(columns) - 1


def test_a_forked_call_s_answering_endpoints_have_columns_of_their_own():
    analysis = icetrace.analyze([testdata.CAPTURES / "lync" / "mpop" / "capture.pcap"])
    columns = [c.split("\n")[0] for c in _by_gid(analysis.plot_ladder(), "column")]
    edge = columns.index("edge relay")
    assert all(c.startswith("caller") for c in columns[:edge])
    callees = columns[edge + 1 :]
    assert {c.rsplit(" ", 1)[0] for c in callees} == {"callee bbbb", "callee cccc"}
    # each endpoint's columns side by side, its relay nearest the edge, its host outermost
    for tag in ("bbbb", "cccc"):
        mine = [i for i, c in enumerate(callees) if c.startswith(f"callee {tag}")]
        assert mine == list(range(mine[0], mine[-1] + 1))
        assert [callees[i] for i in mine] == sorted((callees[i] for i in mine), key=lambda c: not c.endswith("relay"))


def test_long_ladders_say_what_they_left_out():
    analysis = seed()
    full = len(_by_gid(analysis.plot_ladder(), "arrow"))
    fig = ladder_figure(
        analysis.reconstruction, analysis.checks, analysis.messages, analysis.transactions, max_arrows=10
    )
    assert len(_by_gid(fig, "arrow")) == 10
    assert f"… {full - 10} more arrows not drawn" in text_of(fig)


def test_selected_pairs_are_bold():
    analysis = seed()
    fig = analysis.plot_ladder()
    labels = [a for a in fig.findobj(lambda a: a.get_gid() == "arrow-label")]
    bold = {t.get_text() for t in labels if t.get_fontweight() == "bold"}
    nominating = analysis.checks[analysis.checks.use_candidate]
    assert {f"binding request USE-CANDIDATE  udp  f{f}" for f in nominating.frame} <= bold and len(nominating) == 2
    assert sum(text.startswith(("rtp ", "rtcp ")) for text in bold) == 4  # media both ways, both components
    assert not any("no answer" in text for text in bold)  # the host pairs that timed out were not selected
