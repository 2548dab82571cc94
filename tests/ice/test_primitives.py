"""Formulas, username forms and transaction matching."""

from __future__ import annotations

import base64

from icetrace.ice.matching import match_transactions
from icetrace.ice.priority import component_from_priority, pair_priority
from icetrace.ice.usernames import split_username
from icetrace.records.endpoint import Endpoint
from icetrace.records.stun_record import StunRecord

A, B = Endpoint("192.0.2.1", 5000), Endpoint("198.51.100.2", 6000)


def test_priorities():
    assert component_from_priority(2130706431) == 1  # RFC 8445 host, single-homed, RTP
    assert component_from_priority(2130706430) == 2
    g, d = 2130706431, 1694498815
    assert pair_priority(g, d) == (1 << 32) * d + 2 * g + 1
    assert pair_priority(d, g) == (1 << 32) * d + 2 * g  # G < D: no tie bit


def test_username_forms():
    assert split_username(b"abcd:efgh") == ("rfc", "abcd", "efgh")
    assert split_username(b"abcd:efgh\x00\x00\x00") == ("ms-ice2", "abcd", "efgh")
    recv, send = bytes(range(32)), bytes(range(100, 132))
    form, r, s = split_username(recv + b":1:" + send + b":1\x00")
    assert form == "ms-icev6"
    assert base64.b64decode(r + "=") == recv and base64.b64decode(s + "=") == send
    assert split_username(b"\xff\xfe") is None


def rec(frame, time, src, dst, cls, tid="aa", **kw):
    return StunRecord(
        frame=frame,
        time=time,
        src=src,
        dst=dst,
        transport="udp",
        kind="stun",
        dialect="rfc5389",
        method="binding",
        cls=cls,
        type=1,
        transaction_id=tid,
        **kw,
    )


def test_retransmissions_timeouts_and_reused_ids():
    records = [
        rec(1, 0.0, A, B, "request", priority=1),
        rec(2, 0.5, A, B, "request", priority=1),  # retransmission
        rec(3, 0.6, B, A, "success"),
        rec(4, 1.0, A, B, "request", "bb", priority=1),
        rec(5, 1.2, A, B, "request", "bb", priority=1, use_candidate=True),  # reused id, other check
    ]
    txs = match_transactions([(r, r.src, r.dst, False) for r in records], capture_end=60.0)
    assert [(len(t.requests), t.outcome) for t in txs] == [(2, "success"), (1, "timeout"), (1, "timeout")]
    assert round(txs[0].rtt_ms, 3) == 100.0  # from the last transmission before the answer
    short = match_transactions([(records[3], A, B, False)], capture_end=2.0)
    assert short[0].outcome == "unanswered"  # the capture ended before the schedule ran out
