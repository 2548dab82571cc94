"""Each cause rule on hand-built calls: the evidence it needs, and where its reach ends. Agent
habits the rules must not rest on are varied here: Chromium's one socket for STUN, TURN and checks
and its consent pings without retransmissions, beside aioice's socket per candidate and its
retransmitted checks (the recordings in captures/real/)."""

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
    server_request,
    unanswered,
)

STUN_SERVER = Endpoint("198.51.100.53", 3478)


def cause(records, media=()):
    found = one_stream(records, media).cause
    assert found is not None
    return found


def relayed_call(t=1.05, transport="udp", mapped=None):
    """The left agent's host checks the right agent's relay and the call runs there."""
    records = allocation(0.0, L_TURN_SOCKET, L_RELAY, transport)
    records += check(t, L_HOST, R_RELAY, "rc", use_candidate=True, mapped=mapped)
    return records, [flow(L_HOST, R_RELAY, t + 0.1, t + 20.0, 900), flow(R_RELAY, L_HOST, t + 0.1, t + 20.0, 901)]


def test_direct_names_the_pair():
    records = check(1.0, L_HOST, R_SRFLX, "d1", use_candidate=True)
    found = cause(records, [flow(L_HOST, R_SRFLX, 1.1, 9.0, 100)])
    assert found.code == "direct" and str(R_SRFLX) in found.summary


def test_consent_lost_with_pings_never_retransmitted():
    # Chromium's pattern: every consent ping is a new transaction, about one a second once unanswered
    records = check(1.0, L_HOST, R_SRFLX, "c0", use_candidate=True) + check(3.5, L_HOST, R_SRFLX, "c1")
    for n in range(12):
        records += check(6.0 + n, L_HOST, R_SRFLX, f"c-lost-{n}", answered=False)
    records += server_request(30.0, L_HOST, "binding", "keep", server=STUN_SERVER)  # the capture goes on
    found = cause(records, [flow(L_HOST, R_SRFLX, 1.1, 5.9, 100)])
    assert found.code == "failed:consent-lost"
    assert "12 check(s)" in found.summary


def test_one_unanswered_check_as_the_capture_ends_is_no_lost_consent():
    records = check(1.0, L_HOST, R_SRFLX, "e0", use_candidate=True) + check(3.5, L_HOST, R_SRFLX, "e1")
    records += check(6.0, L_HOST, R_SRFLX, "e2", answered=False)
    assert cause(records, [flow(L_HOST, R_SRFLX, 1.1, 6.0, 100)]).code == "direct"


def test_network_lost_when_the_turn_server_and_the_peer_fall_silent_together():
    # Chromium's pattern: one socket; the relay's permission is refreshed, then nothing comes back
    records = server_request(0.0, L_HOST, "allocate", "a1")
    records += server_request(0.5, L_HOST, "create-permission", "p1")
    records += unanswered(1.0, L_HOST, R_SRFLX, "n1")
    records += server_request(2.0, L_HOST, "create-permission", "p2", answer=None, sends=7)
    records += server_request(3.0, L_HOST, "refresh", "r1", answer=None, sends=7)
    found = cause(records)
    assert found.code == "failed:network-lost"
    assert "192.168.1.10" in found.summary and "create-permission, refresh" in found.summary


def test_a_turn_server_that_answers_while_every_pair_dies_is_no_lost_network():
    records = server_request(0.0, L_HOST, "allocate", "a2") + unanswered(1.0, L_HOST, R_SRFLX, "n2")
    records += server_request(2.0, L_HOST, "refresh", "r2")
    assert cause(records).code == "failed:no-common-path"


def test_a_turn_refresh_lost_on_a_call_still_answering_its_checks_is_no_lost_network():
    records = server_request(0.0, L_HOST, "allocate", "a3") + check(1.0, L_HOST, R_SRFLX, "k1", use_candidate=True)
    records += check(4.5, L_HOST, R_SRFLX, "k2") + server_request(5.0, L_HOST, "refresh", "r3")
    records += server_request(9.0, L_HOST, "refresh", "r4", answer=None, sends=7)  # the server went away
    records += check(10.0, L_HOST, R_SRFLX, "k3")  # the peer still answers
    assert cause(records, [flow(L_HOST, R_SRFLX, 1.1, 16.0, 100)]).code == "direct"


def test_relayed_although_a_direct_pair_worked_is_the_agents_choice():
    records, media = relayed_call()
    found = cause(records + check(1.0, L_HOST, R_SRFLX, "w1"), media)
    assert found.code == "relayed:agent-choice" and str(R_SRFLX) in found.summary


def test_udp_blocked_needs_the_udp_requests_dead_and_a_tcp_relay():
    records, media = relayed_call(transport="tcp")
    records += server_request(0.0, L_HOST, "binding", "u1", answer=None, sends=4, server=STUN_SERVER)
    found = cause(records, media)
    assert found.code == "relayed:udp-blocked", found.summary
    assert "fell back to TURN over TCP" in found.summary
    # an answered UDP request shows UDP works: not this cause
    works = records + server_request(0.5, L_HOST, "binding", "u2", server=STUN_SERVER)
    assert cause(works, media).code != "relayed:udp-blocked"
    # nor is a relay allocated over UDP a fallback
    udp, media = relayed_call()
    assert cause(udp + records[2:], media).code != "relayed:udp-blocked"


def test_policy_when_no_direct_pair_exists():
    records = allocation(0.0, L_TURN_SOCKET, L_RELAY) + check(1.0, L_RELAY, R_RELAY, "p", use_candidate=True)
    found = cause(records, [flow(L_RELAY, R_RELAY, 1.1, 9.0, 100)])
    assert found.code == "relayed:policy"


def test_symmetric_nat_from_one_socket_mapped_twice():
    # one socket (Chromium's habit): the STUN server sees it as :5000, the peer's relay as :6123
    records, media = relayed_call(mapped=Endpoint(L_SRFLX.ip, 6123))
    records += server_request(0.0, L_HOST, "binding", "m1", server=STUN_SERVER, mapped=L_SRFLX)
    records += unanswered(1.0, L_HOST, R_SRFLX, "sy-direct")
    found = cause(records, media)
    assert found.code == "relayed:symmetric-nat", found.summary
    assert "203.0.113.1:5000" in found.summary and "203.0.113.1:6123" in found.summary


def test_no_hairpin_when_the_check_goes_to_the_senders_own_public_address():
    records, media = relayed_call()
    records += server_request(0.0, L_HOST, "binding", "h1", server=STUN_SERVER, mapped=L_SRFLX)
    records += unanswered(1.0, L_HOST, Endpoint(L_SRFLX.ip, 7000), "h2")
    assert cause(records, media).code == "relayed:no-hairpin"


def test_direct_blocked_and_no_direct_path():
    records, media = relayed_call()
    blocked = cause(records + unanswered(1.0, L_HOST, R_SRFLX, "b1"), media)
    assert blocked.code == "relayed:direct-blocked" and str(R_SRFLX) in blocked.summary
    # only a pair between the two private networks was tried, and the right agent shows no public address
    never = cause(records + unanswered(1.0, L_HOST, R_HOST, "b2"), media)
    assert never.code == "relayed:no-direct-path"


def test_turn_refused_allocations_and_a_late_437_that_is_not():
    refused = server_request(0.0, L_TURN_SOCKET, "allocate", "q1", answer=486) + unanswered(1.0, L_HOST, R_SRFLX, "q")
    assert cause(refused).code == "failed:turn-refused"
    mismatch = server_request(0.0, L_TURN_SOCKET, "allocate", "q2", answer=437) + unanswered(1.0, L_HOST, R_SRFLX, "q")
    assert cause(mismatch).code == "failed:turn-refused"
    # a Refresh answered 437 at the end of a failed call is no refused relay (baresip-relay-only)
    late = server_request(0.0, L_TURN_SOCKET, "allocate", "q3") + unanswered(1.0, L_HOST, R_SRFLX, "q")
    late += server_request(40.0, L_TURN_SOCKET, "refresh", "q4", answer=437)
    assert cause(late).code == "failed:no-common-path"


def test_turn_refused_permissions_are_per_peer():
    # libnice asks a permission for every remote candidate: a server refusing the public peers (403)
    # grants the private host address it may relay to, before or after (real/libnice-turn-forbidden)
    denied = server_request(0.0, L_TURN_SOCKET, "allocate", "p0")
    denied += server_request(0.5, L_TURN_SOCKET, "create-permission", "p1", answer=403, peer=R_SRFLX)
    denied += server_request(0.6, L_TURN_SOCKET, "create-permission", "p2", peer=R_HOST)
    denied += unanswered(1.0, L_HOST, R_SRFLX, "p")
    assert cause(denied).code == "failed:turn-refused"
    # the same peer's permission granted later withdraws the refusal
    granted = denied + server_request(0.7, L_TURN_SOCKET, "create-permission", "p3", peer=R_SRFLX)
    assert cause(granted).code == "failed:no-common-path"


def test_no_media_on_a_pair_kept_alive_by_consent_checks_or_keepalives():
    nominated = check(1.0, L_HOST, R_SRFLX, "n1", use_candidate=True)
    assert cause(nominated).code == "direct"  # nothing after the nomination: the capture may just end there
    # aioice and libnice with consent freshness: answered Binding requests every ~5 s (RFC 7675)
    consent = nominated + check(6.0, L_HOST, R_SRFLX, "n2") + check(11.0, L_HOST, R_SRFLX, "n3")
    assert cause(consent).code == "connected:no-media"
    # libnice by default: a Binding indication each way after 25 s without traffic (RFC 8445 §11)
    keepalive = nominated + [msg(26.0, L_HOST, R_SRFLX, "binding", "indication", "k1")]
    keepalive += [msg(26.03, R_SRFLX, L_HOST, "binding", "indication", "k2")]
    assert cause(keepalive).code == "connected:no-media"
    # a keepalive on another pair says nothing of this one
    elsewhere = nominated + [msg(26.0, L_HOST, R_HOST, "binding", "indication", "k3")]
    assert cause(elsewhere).code == "direct"
    assert cause(keepalive, [flow(L_HOST, R_SRFLX, 1.1, 9.0, 700)]).code == "direct"


def test_a_hosts_turn_traffic_counts_for_the_calls_of_its_own_time():
    # one host, two calls ten minutes apart: the first call's refused relay is not the second's cause
    first = server_request(0.0, L_TURN_SOCKET, "allocate", "t1", answer=486) + unanswered(1.0, L_HOST, R_SRFLX, "t")
    later = server_request(600.0, L_TURN_SOCKET, "allocate", "t2") + server_request(600.5, L_HOST, "binding", "t3")
    later += unanswered(601.0, L_HOST, R_SRFLX, "u", ufrags=("lV", "rV"))
    a = icetrace.analyze([], records=first + later)
    causes = sorted(
        (min(p.first_check or 0 for c in s.components for p in c.pairs), s.cause.code) for s in a.reconstruction.streams
    )
    assert causes == [(1.0, "failed:turn-refused"), (601.0, "failed:no-common-path")]


def test_no_check_at_all_is_a_partial_capture():
    records = server_request(0.0, L_HOST, "allocate", "z1")
    a = icetrace.analyze([], records=records)
    assert a.reconstruction.streams == []  # nothing to decide about: no stream, no cause
    records += check(1.0, L_HOST, R_SRFLX, "z2", answered=False)
    assert cause(records).code == "unknown:partial-capture"  # sent as the capture ends: undecided
    assert TURN.port == 3478


def test_a_pair_the_network_refused_is_failed_with_the_icmp_frame_cited():
    from icetrace.ice.correlator import correlate
    from icetrace.ice.diagnosis import diagnose
    from icetrace.records.icmp_error import IcmpError

    records, media = relayed_call()
    refused = check(1.0, L_HOST, R_SRFLX, "i1", answered=False)
    later = check(1.3, L_HOST, R_SRFLX, "i2", answered=False)  # still open when the capture ends
    icmp = IcmpError(
        frame=777,
        time=1.01,
        reporter="192.168.1.1",
        quoted_src=L_HOST,
        quoted_dst=R_SRFLX,
        version=4,
        type=3,
        code=3,
    )
    rec = correlate(records + refused + later, media=media, capture_end=1.6, icmp_errors=[icmp])
    verdicts = diagnose(rec)
    (stream,) = rec.streams
    pair = next(p for c in stream.components for p in c.pairs if p.controlled.address == R_SRFLX)
    assert pair.outcomes == ["icmp-error", "unanswered"] and pair.state == "failed"
    assert stream.cause is not None and stream.cause.code == "relayed:direct-blocked"
    assert 777 in stream.cause.evidence_frames and "ICMP port unreachable" in stream.cause.summary
    assert any(v.code == "D8" and 777 in v.frames for v in verdicts)
