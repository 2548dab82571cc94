"""Severity says whether a finding hurt the call: unanswered pairs that could never work, or that a
call connected directly without, are info; errors on checks of a call that connected are no errors."""

from __future__ import annotations

import icetrace
from icetrace.records.endpoint import Endpoint
from tests.ice.calls import (
    L_HOST,
    L_RELAY,
    L_TURN_SOCKET,
    R_HOST,
    R_RELAY,
    R_SRFLX,
    allocation,
    check,
    flow,
    msg,
    unanswered,
)

R_PUBLIC_HOST = Endpoint("198.51.100.9", 7000)


def test_an_unanswered_pair_between_private_addresses_of_two_networks_is_info_even_when_the_call_failed():
    records = unanswered(1.0, L_HOST, R_HOST, "p1") + unanswered(1.02, L_HOST, R_SRFLX, "p2")
    a = icetrace.analyze([], records=records)
    (stream,) = a.reconstruction.streams
    assert stream.outcome == "failed"
    d8 = {v.message.split(" <-> ")[1].split(" ")[0]: v for v in a.verdict_list if v.code == "D8"}
    assert d8[str(R_HOST)].severity == "info" and "could never work" in d8[str(R_HOST)].message
    assert d8[str(R_SRFLX)].severity == "warning"  # it could have worked, and the call failed


def test_an_unanswered_direct_pair_is_a_warning_on_a_relayed_call_and_info_on_a_direct_one():
    relayed = allocation(0.0, L_TURN_SOCKET, L_RELAY) + unanswered(1.0, L_HOST, R_SRFLX, "q1")
    relayed += check(1.05, L_HOST, R_RELAY, "q2", use_candidate=True)
    media = [flow(L_HOST, R_RELAY, 1.1, 9.0, 900)]
    a = icetrace.analyze([], records=relayed, media=media)
    assert a.reconstruction.streams[0].connectivity == "RELAY"
    assert [v.severity for v in a.verdict_list if v.code == "D8"] == ["warning"]  # the call relayed for it
    direct = unanswered(1.0, L_HOST, R_SRFLX, "q3") + check(1.05, L_HOST, R_PUBLIC_HOST, "q4", use_candidate=True)
    a = icetrace.analyze([], records=direct, media=[flow(L_HOST, R_PUBLIC_HOST, 1.1, 9.0, 901)])
    assert a.reconstruction.streams[0].connectivity == "DIRECT"
    assert [v.severity for v in a.verdict_list if v.code == "D8"] == ["info"]


def _refused(t, tid):
    """A check answered 401 Unauthenticated."""
    req = check(t, L_HOST, R_SRFLX, tid, answered=False)[0]
    return [
        req,
        msg(t + 0.02, R_SRFLX, L_HOST, "binding", "error", tid, error_code=401, error_reason="Unauthenticated"),
    ]


def test_credential_errors_are_errors_only_on_a_call_they_failed():
    failed = icetrace.analyze([], records=_refused(1.0, "e1") + _refused(2.0, "e2"))
    assert failed.reconstruction.streams[0].outcome == "failed"
    assert {v.severity for v in failed.verdict_list if v.code == "D11"} == {"error"}
    assert failed.reconstruction.streams[0].cause.code == "failed:credentials"
    connected = _refused(1.0, "e3") + check(1.5, L_HOST, R_SRFLX, "e4", use_candidate=True)
    a = icetrace.analyze([], records=connected, media=[flow(L_HOST, R_SRFLX, 1.6, 9.0, 902)])
    assert a.reconstruction.streams[0].outcome == "connected"
    assert {v.severity for v in a.verdict_list if v.code == "D11"} == {"warning"}
