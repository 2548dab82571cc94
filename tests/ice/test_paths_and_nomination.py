"""Connectivity by the path a pair runs through, nomination style and final-offer matching, and the
moves of the pair in use."""

from __future__ import annotations

import icetrace
from icetrace.records.endpoint import Endpoint
from tests.ice.calls import (
    L_HOST,
    L_RELAY,
    L_SRFLX,
    L_TURN_SOCKET,
    R_HOST,
    R_RELAY,
    R_SRFLX,
    TURN,
    allocation,
    check,
    flow,
    msg,
    one_stream,
    unanswered,
)

# -- connectivity: a pair through either side's relay is RELAY ---------------------------------


def test_a_pair_ending_on_an_address_of_a_host_that_answers_allocates_is_relayed():
    # seen from the left LAN without signaling: the right agent's relay is typed from the wire only
    records = allocation(0.0, L_TURN_SOCKET, L_RELAY) + check(1.0, L_HOST, R_RELAY, "c1", use_candidate=True)
    media = [flow(L_HOST, R_RELAY, 1.1, 3.0, 100), flow(R_RELAY, L_HOST, 1.1, 3.0, 101)]
    stream = one_stream(records, media)
    (component,) = stream.components
    assert component.selected is not None and component.selected.controlled.type != "relay"
    assert "answers TURN Allocate requests" in (component.selected.through_relay or "")
    assert stream.connectivity == "RELAY"


def test_the_allocated_relayed_address_itself_is_relayed():
    records = allocation(0.0, L_TURN_SOCKET, L_RELAY) + check(1.0, L_RELAY, R_SRFLX, "c1", use_candidate=True)
    stream = one_stream(records)
    assert stream.connectivity == "RELAY"


def test_a_candidate_signaled_as_host_on_a_turn_servers_host_stays_direct(tmp_path):
    # a media server beside a TURN server on one host (a videobridge next to coturn): the signaling wins
    offer, answer = tmp_path / "offer.sdp", tmp_path / "answer.sdp"
    offer.write_text(_sdp("lU", [f"1 1 UDP 2130706431 {L_HOST.ip} {L_HOST.port} typ host"]))
    answer.write_text(_sdp("rU", [f"1 1 UDP 2130706431 {R_RELAY.ip} {R_RELAY.port} typ host"]))
    records = allocation(0.0, L_TURN_SOCKET, L_RELAY) + check(1.0, L_HOST, R_RELAY, "c1", use_candidate=True)
    media = [flow(L_HOST, R_RELAY, 1.1, 3.0, 100)]
    analysis = icetrace.analyze([], sdp=[offer, answer], records=records, media=media)
    (stream,) = [s for s in analysis.reconstruction.streams if s.call_id]
    assert stream.connectivity == "DIRECT"


def test_a_server_address_that_only_answers_bindings_makes_nothing_relayed():
    records = [
        msg(0.0, L_HOST, TURN, "binding", "request", "b1"),
        msg(0.01, TURN, L_HOST, "binding", "success", "b1", addresses={"XOR-MAPPED-ADDRESS": L_SRFLX}),
    ]
    records += check(1.0, L_HOST, Endpoint(TURN.ip, 49160), "c1", use_candidate=True)
    stream = one_stream(records)
    assert stream.connectivity == "DIRECT"


# -- nomination style -------------------------------------------------------------------------------


def test_aggressive_nomination_stays_aggressive_when_consent_checks_follow():
    # every check nominates until the pair is up; RFC 7675 consent checks afterwards carry no flag
    records = check(1.0, L_HOST, R_SRFLX, "a1", use_candidate=True)
    records += unanswered(1.01, L_HOST, R_HOST, "a2", use_candidate=True)
    records += check(6.0, L_HOST, R_SRFLX, "a3") + check(11.0, L_HOST, R_SRFLX, "a4")
    stream = one_stream(records)
    assert stream.nomination_style == "aggressive"


def test_regular_nomination_validates_first_then_nominates():
    records = check(1.0, L_HOST, R_SRFLX, "r1") + check(1.5, L_HOST, R_SRFLX, "r2", use_candidate=True)
    records += check(6.0, L_HOST, R_SRFLX, "r3")
    stream = one_stream(records)
    assert stream.nomination_style == "regular"


# -- the controlling agent's updated offer ------------------------------------------------------------


def _sdp(ufrag, candidates, connection="0.0.0.0", port=9, remote=None):
    lines = ["v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", f"c=IN IP4 {connection}", "t=0 0", f"m=audio {port} RTP/AVP 0"]
    lines += [f"a=ice-ufrag:{ufrag}", "a=ice-pwd:passwordpasswordpassword"]
    lines += [f"a=candidate:{c}" for c in candidates]
    if remote:
        lines.append(f"a=remote-candidates:{remote}")
    return "\r\n".join(lines) + "\r\n"


def test_a_final_offer_naming_the_srflx_pair_does_not_nominate_the_failed_host_pair(tmp_path):
    left = [
        f"1 1 UDP 2130706431 {L_HOST.ip} {L_HOST.port} typ host",
        f"2 1 UDP 1694498815 {L_SRFLX.ip} {L_SRFLX.port} typ srflx raddr {L_HOST.ip} rport {L_HOST.port}",
    ]
    right = [
        f"1 1 UDP 2130706431 {R_HOST.ip} {R_HOST.port} typ host",
        f"2 1 UDP 1694498815 {R_SRFLX.ip} {R_SRFLX.port} typ srflx raddr {R_HOST.ip} rport {R_HOST.port}",
    ]
    files = [tmp_path / "offer.sdp", tmp_path / "answer.sdp", tmp_path / "final.sdp"]
    files[0].write_text(_sdp("lU", left))
    files[1].write_text(_sdp("rU", right))
    final = _sdp("lU", left[1:], L_SRFLX.ip, L_SRFLX.port, remote=f"1 {R_SRFLX.ip} {R_SRFLX.port}")
    files[2].write_text(final)
    # on the left LAN: the check to the right host dies, the one to its srflx address is answered
    records = unanswered(1.0, L_HOST, R_HOST, "h1") + check(1.02, L_HOST, R_SRFLX, "s1")
    analysis = icetrace.analyze([], sdp=files, records=records)
    (stream,) = [s for s in analysis.reconstruction.streams if s.call_id]
    pairs = {(p.controlling.address, p.controlled.address): p for c in stream.components for p in c.pairs}
    assert pairs[(L_HOST, R_HOST)].state == "failed" and not pairs[(L_HOST, R_HOST)].nominated
    assert pairs[(L_HOST, R_SRFLX)].nominated_by == "final-offer"
    assert stream.components[0].selected is pairs[(L_HOST, R_SRFLX)]


# -- moves of the pair in use -------------------------------------------------------------------------


def test_a_move_from_the_relay_to_a_direct_pair_is_one_change_with_its_time():
    records = allocation(0.0, L_TURN_SOCKET, L_RELAY)
    records += check(1.0, L_HOST, R_RELAY, "v1", use_candidate=True)
    records += check(1.7, L_HOST, R_SRFLX, "v2", use_candidate=True)
    media = [flow(L_HOST, R_RELAY, 1.05, 1.8, 100), flow(L_HOST, R_SRFLX, 1.75, 9.0, 200)]
    stream = one_stream(records, media)
    (component,) = stream.components
    (change,) = component.selection_changes
    assert (change.before.controlled.address, change.after.controlled.address) == (R_RELAY, R_SRFLX)
    assert change.time == 1.75 and change.frame == 200
    assert change.before.is_relay and not change.after.is_relay
    assert component.selected is change.after


def test_one_pair_in_use_throughout_is_no_change():
    records = check(1.0, L_HOST, R_SRFLX, "w1", use_candidate=True)
    records += check(1.1, L_HOST, R_HOST, "w2", use_candidate=True)  # nominated too, never used
    media = [flow(L_HOST, R_SRFLX, 1.05, 9.0, 100)]
    stream = one_stream(records, media)
    assert stream.components[0].selection_changes == []
