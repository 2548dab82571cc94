"""Servers told from peers by evidence; directions a capture lacks; requests and their answers."""

from __future__ import annotations

import icetrace
from icetrace.ice.matching import match_transactions, merge_views, orphan_responses
from icetrace.records.endpoint import Endpoint
from icetrace.records.media_flow import MediaFlow
from tests.ice.test_verdicts import answer, check, msg, retransmitted

CLIENT = Endpoint("192.168.1.10", 5000)
PEER = Endpoint("203.0.113.9", 6000)
SERVER = Endpoint("198.51.100.1", 3478)


def _verdicts(records, media=()):
    return icetrace.analyze([], records=records, media=list(media)).verdict_list


def test_a_silent_server_is_still_d1_but_a_silent_peer_is_peer_probes():
    silent_server = retransmitted(CLIENT, SERVER, "s1")
    assert "D1" in {v.code for v in _verdicts(silent_server)}
    # the same requests to an address that sends Binding requests of its own: a peer
    theirs = msg(0.2, PEER, CLIENT, "binding", "request", "p0")
    probes = retransmitted(CLIENT, PEER, "p1") + [theirs]
    verdicts = _verdicts(probes)
    assert "D1" not in {v.code for v in verdicts}
    (probe,) = [v for v in verdicts if v.code == "PEER-PROBES" and v.message.startswith(f"Peer probes: {CLIENT}")]
    assert "sent Binding requests of its own" in probe.message and "7 transmissions" in probe.message
    # and the peer's own request to the client is a probe the other way
    assert any(v.message.startswith(f"Peer probes: {PEER}") for v in verdicts if v.code == "PEER-PROBES")


def test_media_and_ice_attributes_make_a_peer():
    rtp = MediaFlow(
        src=CLIENT,
        dst=PEER,
        transport="udp",
        kind="rtp",
        first_frame=10,
        first_time=1.0,
        last_frame=50,
        last_time=5.0,
        packets=100,
        bytes=17200,
    )
    verdicts = _verdicts(retransmitted(CLIENT, PEER, "m1"), [rtp])
    assert {v.code for v in verdicts} >= {"PEER-PROBES"} and "D1" not in {v.code for v in verdicts}
    with_priority = retransmitted(CLIENT, PEER, "m2", priority=1234)
    assert "PEER-PROBES" in {v.code for v in _verdicts(with_priority)}


def test_probe_series_split_on_silence():
    early = [msg(t, CLIENT, PEER, "binding", "request", f"e{t}", priority=1) for t in (0, 1, 2)]
    late = [msg(t, CLIENT, PEER, "binding", "request", f"l{t}", priority=1) for t in (20, 21)]
    texts = [v.message for v in _verdicts(early + late) if v.code == "PEER-PROBES"]
    assert len(texts) == 2
    assert "3 Binding request(s)" in texts[0] and "2 Binding request(s)" in texts[1]


def test_one_id_to_three_servers_is_three_requests_and_nat_views_of_a_check_stay_one():
    servers = [Endpoint(f"198.51.100.{n}", 3478) for n in (1, 2, 3)]
    records = [msg(0.001 * n, CLIENT, s, "binding", "request", "same") for n, s in enumerate(servers)]
    flat = [(r, r.src, r.dst, False) for r in records]
    assert len(merge_views(match_transactions(flat, 50.0))) == 3
    # a check seen before and after the receiver's NAT: one check (its USERNAME names the receiver)
    private = Endpoint("192.168.2.10", 6000)
    seen_outside = check(0.0, CLIENT, PEER, "c1")
    seen_inside = check(0.0001, CLIENT, private, "c1")
    flat = [(r, r.src, r.dst, False) for r in (seen_outside, seen_inside)]
    assert len(merge_views(match_transactions(flat, 50.0))) == 1


def test_an_answer_of_another_type_from_the_destination_is_nonstandard_not_a_new_request():
    req = msg(0, CLIENT, SERVER, "binding", "request", "n1")
    vendor = msg(0.03, SERVER, CLIENT, "shared-secret", "request", "n1")
    elsewhere = msg(0.04, PEER, CLIENT, "shared-secret", "request", "n1")  # not from the destination
    flat = [(r, r.src, r.dst, False) for r in (req, vendor, elsewhere)]
    txs = match_transactions(flat, 50.0)
    assert [t.outcome for t in txs] == ["nonstandard", "timeout"]
    assert txs[0].responses == [vendor]


def test_orphans_and_a_one_way_ice_capture_is_not_d8():
    """Only B -> A is captured: B's checks to A (never answered here) and B's answers to A's checks."""
    b_checks = [check(t, PEER, CLIENT, f"b{t}", controlling=False, username=b"L:R") for t in (0, 0.5, 1.5, 3.5)]
    a_check = check(0.1, CLIENT, PEER, "a1")
    b_answers = [answer(0.12, a_check)]
    records = b_checks + b_answers + [msg(45, PEER, CLIENT, "binding", "indication", "k")]
    a = icetrace.analyze([], records=records)
    assert orphan_responses(a.reconstruction.records, a.reconstruction.transactions) == b_answers
    codes = {v.code for v in a.verdict_list}
    assert "D8" not in codes and "ORPHAN-RESPONSES" in codes
    assert any(f"{CLIENT} -> {PEER} is missing" in n for n in a.reconstruction.vantage)
    # with the other direction captured (A's check itself), the answers are not orphans
    whole = icetrace.analyze([], records=records + [a_check])
    assert "ORPHAN-RESPONSES" not in {v.code for v in whole.verdict_list}


def test_a_repeat_before_the_answer_could_arrive_is_a_retransmission():
    req = msg(0, CLIENT, SERVER, "binding", "request", "r1")
    resp = msg(0.2, SERVER, CLIENT, "binding", "success", "r1")
    crossing = msg(0.25, CLIENT, SERVER, "binding", "request", "r1")  # sent before the answer could be read
    again = msg(5.0, CLIENT, SERVER, "binding", "request", "r1")
    flat = [(r, r.src, r.dst, False) for r in (req, resp, crossing, again)]
    txs = match_transactions(flat, 50.0)
    assert [len(t.requests) for t in txs] == [2, 1]


def test_integrity_without_username_is_for_a_peer():
    """RFC 8489 §9: a server needs USERNAME (or USERHASH) to find the key; a MESSAGE-INTEGRITY-only
    Binding is checked by a peer sharing the key (a messenger's probes)."""
    signed = retransmitted(CLIENT, PEER, "mi", integrity="unknown-key")
    (probe,) = [v for v in _verdicts(signed) if v.code == "PEER-PROBES"]
    assert "MESSAGE-INTEGRITY without USERNAME" in probe.message
    plain = retransmitted(CLIENT, SERVER, "plain")
    assert "D1" in {v.code for v in _verdicts(plain)}


def test_d1_says_when_nothing_came_back_to_the_client_at_all():
    silent = retransmitted(CLIENT, SERVER, "deaf")
    (d1,) = [v for v in _verdicts(silent) if v.code == "D1"]
    assert f"nothing addressed to {CLIENT.ip}" in d1.message
    other = MediaFlow(
        src=PEER,
        dst=CLIENT,
        transport="udp",
        kind="rtp",
        first_frame=100,
        first_time=1.0,
        last_frame=120,
        last_time=2.0,
        packets=20,
        bytes=3440,
    )
    (d1,) = [v for v in _verdicts(silent, [other]) if v.code == "D1"]
    assert "nothing addressed" not in d1.message


def test_d8_says_when_nothing_came_back_to_the_checking_agent_at_all():
    checks = [check(t, CLIENT, PEER, "u") for t in (0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5)]
    (d8,) = [v for v in _verdicts(checks) if v.code == "D8"]
    assert f"nothing addressed to {CLIENT.ip}" in d8.message
    back = MediaFlow(
        src=Endpoint("198.51.100.7", 9),
        dst=CLIENT,
        transport="udp",
        kind="rtp",
        first_frame=100,
        first_time=1.0,
        last_frame=120,
        last_time=2.0,
        packets=20,
        bytes=3440,
    )
    (d8,) = [v for v in _verdicts(checks, [back]) if v.code == "D8"]
    assert "nothing addressed" not in d8.message
