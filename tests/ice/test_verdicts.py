"""Each verdict with records that trigger it, and with records that must not."""

from __future__ import annotations

import pytest

import icetrace
from icetrace.records.endpoint import Endpoint
from icetrace.records.media_flow import MediaFlow
from tests.ice.records import msg

CLIENT, SERVER = Endpoint("192.168.1.10", 5000), Endpoint("198.51.100.1", 3478)
L_HOST, R_SRFLX = Endpoint("192.168.1.10", 5000), Endpoint("203.0.113.2", 6000)
R_HOST = Endpoint("192.168.2.10", 6000)


def check(t, src, dst, tid, controlling=True, username=b"R:L", **kw):
    role = "controlling" if controlling else "controlled"
    return msg(t, src, dst, "binding", "request", tid, username=username, ice_role=role, priority=1, **kw)


def answer(t, req, cls="success", code=None):
    return msg(t, req.dst, req.src, "binding", cls, req.transaction_id, error_code=code)


def codes(records, media=None):
    return {v.code for v in icetrace.analyze([], records=records, media=media or []).verdict_list}


def retransmitted(src, dst, tid, method="binding", **kw):
    return [msg(t, src, dst, method, "request", tid, **kw) for t in (0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5)]


def test_d1_server_unreachable_and_not():
    assert "D1" in codes(retransmitted(CLIENT, SERVER, "t1") + [msg(45, CLIENT, SERVER, "binding", "request", "x")])
    req = msg(0, CLIENT, SERVER, "binding", "request", "t2")
    ok = msg(0.05, SERVER, CLIENT, "binding", "success", "t2", addresses={"XOR-MAPPED-ADDRESS": R_SRFLX})
    assert "D1" not in codes([req, ok])


def test_d2_no_mapping_for_private_client():
    assert "D2" in codes(retransmitted(CLIENT, SERVER, "t3"))
    req = msg(0, CLIENT, SERVER, "binding", "request", "t4")
    ok = msg(0.05, SERVER, CLIENT, "binding", "success", "t4", addresses={"XOR-MAPPED-ADDRESS": R_SRFLX})
    assert "D2" not in codes([req, ok])


def allocate(tid, code, integrity, nonce="6e6f6e6365"):
    req = msg(0, CLIENT, SERVER, "allocate", "request", tid, integrity=integrity, nonce=nonce)
    resp = msg(0.05, SERVER, CLIENT, "allocate", "error", tid, error_code=code)
    return [req, resp]


@pytest.mark.parametrize(
    "code, integrity, verdict, expected",
    [
        (401, "unknown-key", "D4", True),
        (401, "absent", "D4", False),  # the normal first challenge
        (437, "unknown-key", "D6", True),
        (438, "unknown-key", "D5", True),
    ],
)
def test_turn_errors(code, integrity, verdict, expected):
    assert (verdict in codes(allocate(f"a{code}{integrity}", code, integrity))) is expected


def test_d4_not_raised_for_the_challenge_of_a_signed_request_without_nonce():
    """RFC 8489 §9.2.4: a request without NONCE is challenged with 401 (and the NONCE to use)."""
    assert "D4" not in codes(allocate("a401-first", 401, "unknown-key", nonce=None))
    assert "D4" in codes(allocate("a441-first", 441, "unknown-key", nonce=None))


def test_d5_not_raised_when_retried():
    records = allocate("s1", 438, "unknown-key") + [
        msg(0.1, CLIENT, SERVER, "allocate", "request", "s2", integrity="unknown-key")
    ]
    assert "D5" not in codes(records)


def test_d19_private_relayed_address():
    ok = msg(
        0.05,
        SERVER,
        CLIENT,
        "allocate",
        "success",
        "r1",
        addresses={"XOR-RELAYED-ADDRESS": Endpoint("10.0.0.5", 50000), "XOR-MAPPED-ADDRESS": R_SRFLX},
    )
    assert "D19" in codes([msg(0, CLIENT, SERVER, "allocate", "request", "r1"), ok])
    ok2 = msg(
        0.05,
        SERVER,
        CLIENT,
        "allocate",
        "success",
        "r2",
        addresses={"XOR-RELAYED-ADDRESS": Endpoint("198.51.100.1", 50000)},
    )
    assert "D19" not in codes([msg(0, CLIENT, SERVER, "allocate", "request", "r2"), ok2])


def test_d8_d9_and_failed():
    reqs = [check(t, L_HOST, R_HOST, "c1") for t in (0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5)]
    found = codes(reqs + [msg(45, CLIENT, SERVER, "binding", "request", "end")])
    assert {"D8", "FAILED"} <= found
    # one-way: our checks time out, theirs succeed
    ours = [check(t, L_HOST, R_SRFLX, "c2") for t in (0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5)]
    theirs = check(1.0, R_SRFLX, L_HOST, "c3", controlling=False, username=b"L:R")
    records = ours + [theirs, answer(1.01, theirs), msg(45, CLIENT, SERVER, "binding", "request", "end2")]
    assert "D9" in codes(records)
    assert "D9" not in codes([theirs, answer(1.01, theirs)])


def test_d11_d12_credentials_and_role_conflict():
    req = check(0, L_HOST, R_SRFLX, "e1")
    assert "D11" in codes([req, answer(0.02, req, "error", 401)])
    req2 = check(0, L_HOST, R_SRFLX, "e2")
    assert "D12" in codes([req2, answer(0.02, req2, "error", 487)])
    req3 = check(0, L_HOST, R_SRFLX, "e3")
    assert not {"D11", "D12"} & codes([req3, answer(0.02, req3)])
    # who switched: the agent that got the 487 sends its next check as controlled
    req4 = check(0, L_HOST, R_SRFLX, "e4")
    again = check(0.1, L_HOST, R_SRFLX, "e5", controlling=False)
    verdicts = icetrace.analyze([], records=[req4, answer(0.02, req4, "error", 487), again, answer(0.12, again)])
    d12 = [v.message for v in verdicts.verdict_list if v.code == "D12"]
    assert d12 and "switched from controlling to controlled" in d12[0]


def test_d13_no_nomination_and_d25_media():
    req = check(0, L_HOST, R_SRFLX, "n1")
    later = msg(20, CLIENT, SERVER, "binding", "request", "n1-later")  # the capture goes on for 20 s
    assert "D13" in codes([req, answer(0.02, req), later])
    # the capture stops right after the success: a vantage note, not an error
    ended = icetrace.analyze([], records=[req, answer(0.02, req)])
    assert "D13" not in {v.code for v in ended.verdict_list}
    assert any("a nomination sent later is not in it" in note for note in ended.reconstruction.vantage)
    nominated = check(0, L_HOST, R_SRFLX, "n2", use_candidate=True)
    records = [nominated, answer(0.02, nominated)]
    assert "D13" not in codes(records)
    other = MediaFlow(  # from the checking agent's host, to an address no pair of it names
        src=L_HOST,
        dst=Endpoint("192.0.2.8", 2),
        transport="udp",
        kind="rtp",
        first_frame=1,
        first_time=0,
        last_frame=9,
        last_time=1,
        packets=9,
        bytes=900,
    )
    assert "D25" in codes(records, [other])  # media elsewhere, none on the selected pair
    both = [
        MediaFlow(
            src=L_HOST,
            dst=R_SRFLX,
            transport="udp",
            kind="rtp",
            first_frame=5,
            first_time=1,
            last_frame=9,
            last_time=2,
            packets=50,
            bytes=9000,
        ),
        MediaFlow(
            src=R_SRFLX,
            dst=L_HOST,
            transport="udp",
            kind="rtp",
            first_frame=6,
            first_time=1,
            last_frame=9,
            last_time=2,
            packets=50,
            bytes=9000,
        ),
    ]
    assert "D25" not in codes(records, both)
    assert "D25" in codes(records, both[:1])  # one direction only


def test_d14_relay_selected_although_direct_worked():
    relay = Endpoint("198.51.100.1", 50000)
    alloc = [
        msg(0, CLIENT, SERVER, "allocate", "request", "al"),
        msg(0.01, SERVER, CLIENT, "allocate", "success", "al", addresses={"XOR-RELAYED-ADDRESS": relay}),
    ]
    direct = check(1, L_HOST, R_SRFLX, "d1")
    relayed = check(1.1, relay, R_SRFLX, "d2", use_candidate=True)
    records = alloc + [direct, answer(1.02, direct), relayed, answer(1.12, relayed)]
    assert "D14" in codes(records)
    direct_nominated = check(1, L_HOST, R_SRFLX, "d3", use_candidate=True)
    assert "D14" not in codes(alloc + [direct_nominated, answer(1.02, direct_nominated)])


def test_a_role_switch_keeps_one_pair_per_candidate_pair():
    """L checks as controlling and gets a 487; R, the controlling agent, checks back; L checks again
    as controlled. Before and after the switch the checks land on one pair, named by the final roles."""
    first = check(0, L_HOST, R_SRFLX, "r1")
    theirs = check(0.05, R_SRFLX, L_HOST, "r2", username=b"L:R")
    later = check(0.1, L_HOST, R_SRFLX, "r3", controlling=False)
    records = [first, answer(0.02, first, "error", 487), theirs, answer(0.06, theirs), later, answer(0.12, later)]
    doc = icetrace.analyze([], records=records).to_dict()
    (stream,) = doc["streams"]
    pairs = [p for c in stream["components"] for p in c["pairs"]]
    assert len(pairs) == 1
    (pair,) = pairs
    assert (pair["controlling"]["address"], pair["controlled"]["address"]) == (str(R_SRFLX), str(L_HOST))
    # each agent's checks stay with it: L's two (one before, one after the switch), R's one
    assert (pair["checks_by_controlled"], pair["checks_by_controlling"]) == (2, 1) and pair["state"] == "succeeded"
    assert stream["controlling"]["ufrag"] == "R"  # USERNAME is receiver:sender, so R's checks say "L:R"
