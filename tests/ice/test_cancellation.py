"""Checks an agent stopped when it nominated another pair are cancelled, not failed (RFC 8445 §8.1.2);
an agent that went on checking, or a check whose schedule ran out first, timed out."""

from __future__ import annotations

import icetrace
from icetrace.records.endpoint import Endpoint
from tests import testdata
from tests.ice.calls import L_HOST, R_HOST, R_SRFLX, check, msg, one_stream


def _sends(times, src, dst, tid):
    """One check sent at each of `times` (retransmissions of one transaction), never answered."""
    base = check(times[0], src, dst, tid, answered=False)[0]
    fields = {"username": base.username, "ice_role": base.ice_role, "priority": base.priority}
    return [msg(t, src, dst, "binding", "request", tid, **fields) for t in times]


def _pair(stream, dst):
    (component,) = stream.components
    (pair,) = [p for p in component.pairs if p.controlled.address == dst]
    return pair


def _analyze(records):
    consent = [r for t in (5.0, 10.0, 15.0) for r in check(t, L_HOST, R_SRFLX, f"k{t}")]
    return one_stream(records + consent)


def test_a_check_stopped_by_the_nomination_is_cancelled_not_failed():
    # the host pair's check is sent twice; the srflx pair is nominated before its next retransmission
    records = _sends((1.0, 1.5), L_HOST, R_HOST, "h1") + check(1.6, L_HOST, R_SRFLX, "n1", use_candidate=True)
    stream = _analyze(records)
    host = _pair(stream, R_HOST)
    assert host.outcomes == ["cancelled"] and host.state == "in-progress"
    assert _pair(stream, R_SRFLX).state == "succeeded"


def test_a_check_whose_schedule_ran_out_before_the_nomination_timed_out():
    # three sends, then 8 s of silence before the srflx pair is nominated: it gave up on its own
    records = _sends((1.0, 1.5, 2.5), L_HOST, R_HOST, "h1") + check(12.0, L_HOST, R_SRFLX, "n1", use_candidate=True)
    host = _pair(_analyze(records), R_HOST)
    assert host.outcomes == ["timeout"] and host.state == "failed"


def test_an_agent_that_went_on_checking_other_pairs_did_not_cancel():
    # after the nomination the agent still sends a check on another pair: it does not cancel, so the
    # host pair's silence after its last send is its own schedule ending
    other = Endpoint("192.168.2.21", 6000)
    records = _sends((1.0, 1.5), L_HOST, R_HOST, "h1") + check(1.6, L_HOST, R_SRFLX, "n1", use_candidate=True)
    records += _sends((1.7,), L_HOST, other, "o1")
    host = _pair(_analyze(records), R_HOST)
    assert host.outcomes == ["timeout"] and host.state == "failed"


def test_aioice_cancels_its_other_checks_once_it_nominates():
    """aioice sends the host pair's check at 0.22 s and 0.72 s, its srflx pair succeeds with
    USE-CANDIDATE at 0.75 s, and it sends nothing more on any other pair for the 13 s the capture
    runs (aioice-no-media, left LAN): the agent's own check list keeps the host pair in progress."""
    folder = testdata.CAPTURES / "real" / "aioice-no-media"
    (stream,) = icetrace.analyze([testdata.require(folder / "left-lan.pcap")]).reconstruction.streams
    (component,) = stream.components
    host = next(p for p in component.pairs if str(p.controlled.address) == "192.168.2.10:47787")
    assert host.state == "in-progress" and "cancelled" in host.outcomes
    assert not [p for p in component.pairs if p.state == "failed"]
