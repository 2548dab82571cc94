"""The pairs table's timeline columns (first_success, nominated_at, media_first/last, media_packets),
held to what the other tables show of the same packets, on a real call where the relay answered first
and the call moved to the direct pair later (captures/real/chromium-late-direct)."""

from __future__ import annotations

from functools import cache

import numpy as np

import icetrace
from icetrace.analysis import Analysis
from tests.testdata import CAPTURES, SEED_CALL, require

LATE = CAPTURES / "real" / "chromium-late-direct"


@cache
def late_direct() -> Analysis:
    return icetrace.analyze(
        [require(LATE / "right-lan.pcap")], sdp=[require(LATE / "offer.sdp"), require(LATE / "answer.sdp")]
    )


def _is_relay(row) -> bool:
    return "relay" in (row.controlling_type, row.controlled_type)


def test_first_success_is_the_first_answer_the_messages_show():
    for a in (late_direct(), icetrace.analyze([require(SEED_CALL)])):
        time_of = dict(zip(a.messages.frame, a.messages.time, strict=True))
        answered = a.transactions.set_index("transaction_id").response_frame
        for pair in a.pairs.itertuples():
            key = (a.checks.controlling == pair.controlling) & (a.checks.controlled == pair.controlled)
            mine = a.checks[key & (a.checks.component == pair.component) & (a.checks.outcome == "success")]
            times = [time_of[int(answered[tid])] for tid in mine.transaction_id]
            if times:
                assert pair.first_success == min(times)
            else:
                assert np.isnan(pair.first_success)
            nominating = mine[mine.use_candidate]
            if pair.nominated and pair.nominated_by == "use-candidate":
                assert pair.nominated_at == min(time_of[int(answered[t])] for t in nominating.transaction_id)


def test_media_times_are_those_of_the_media_rows_on_the_pair():
    a = late_direct()
    for pair in a.pairs.itertuples():
        ends = {pair.controlling, pair.controlled}
        rows = a.media[[{s, d} == ends for s, d in zip(a.media.src, a.media.dst, strict=True)]]
        assert pair.media_packets == int(rows.packets.sum())
        if len(rows):
            assert (pair.media_first, pair.media_last) == (rows.first_time.min(), rows.last_time.max())
        else:
            assert np.isnan(pair.media_first) and np.isnan(pair.media_last)


def test_the_relay_answered_first_and_the_media_moved_to_the_direct_pair():
    a = late_direct()
    pairs = a.pairs[a.pairs.state == "succeeded"]
    relay = pairs[np.array([_is_relay(p) for p in pairs.itertuples()]) & (pairs.media_packets > 0)].iloc[0]
    direct = pairs[pairs.selected].iloc[0]
    assert not _is_relay(direct) and direct.priority > relay.priority  # RFC 8445: direct outranks relay
    assert relay.first_success < direct.first_success  # the NATs dropped the direct checks at first
    assert relay.media_first < direct.media_first  # the call started on the relay
    assert relay.media_last <= direct.media_first + 0.05  # and left it when media started on the direct pair
    assert direct.nominated_at < direct.media_first and direct.media_packets > relay.media_packets


def test_the_selection_change_is_the_move_the_pairs_timeline_shows():
    a = late_direct()
    (move,) = a.selection_changes.itertuples()
    pairs = a.pairs.set_index(["controlling", "controlled"])
    before = pairs.loc[(move.from_controlling, move.from_controlled)]
    after = pairs.loc[(move.to_controlling, move.to_controlled)]
    assert move.from_relayed and not move.to_relayed and after.selected
    assert before.media_first < move.time == after.media_first  # the call moved when media started on it
    assert move.summary.startswith("relay first (") and f"(frame {move.frame})" in move.summary
    # the JSON document's selection change is the same move
    (change,) = [ch for s in a.to_dict()["streams"] for c in s["components"] for ch in c["selection_changes"]]
    assert (change["time"], change["frame"]) == (move.time, move.frame)
    assert change["from"]["controlled"]["address"] == move.from_controlled
    assert change["to"]["controlled"]["address"] == move.to_controlled
