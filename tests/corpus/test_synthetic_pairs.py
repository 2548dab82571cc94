"""Pair accounting on the synthetic scenarios: each direction's figures, components from PRIORITY,
learned candidates, and one pair from two taps behind two NATs (captures/synthetic/*.py)."""

from __future__ import annotations

import io
import math

import pytest

import icetrace
from icetrace.analysis import Analysis
from icetrace.ice.priority import component_from_priority
from icetrace.report.text import write_report
from tests.corpus.truth import SYNTHETIC, synthetic_scenario

SCENARIOS = [
    "pair_directions",
    "pair_directions_public",
    "component_priority",
    "learned_candidates",
    "two_nats_two_taps",
]


def only_pairs(analysis: Analysis) -> list[dict]:
    (stream,) = analysis.to_dict()["streams"]
    return [p for c in stream["components"] for p in c["pairs"]]


def names(pair: dict) -> tuple[str, str]:
    return pair["controlling"]["address"], pair["controlled"]["address"]


def close(value: float | None, seconds: float) -> bool:
    return value is not None and math.isclose(value, seconds * 1000, abs_tol=0.002)


# -- each direction apart -----------------------------------------------------------------------------


# the same exchange captured beside the local agent: behind its NAT (the addresses tell which side),
# and on a host with a public address (only the timing tells)
DIRECTIONS = {"pair_directions": "192.168.10.20:50000", "pair_directions_public": "198.51.100.10:50000"}


@pytest.mark.parametrize("name", DIRECTIONS)
def test_each_agents_checks_answers_and_round_trip_apart(name):
    s = synthetic_scenario("pair_directions")
    analysis = icetrace.analyze([SYNTHETIC / name / "capture.pcap"])
    (pair,) = only_pairs(analysis)
    assert names(pair) == ("203.0.113.50:40000", DIRECTIONS[name])
    assert pair["state"] == "succeeded" and pair["nominated"]
    # the remote (controlling) agent: three checks; the local agent: two, one sent twice
    assert (pair["checks_by_controlling"], pair["requests_by_controlling"], pair["answers_to_controlling"]) == (3, 3, 3)
    assert (pair["checks_by_controlled"], pair["requests_by_controlled"], pair["answers_to_controlled"]) == (2, 3, 2)
    assert pair["errors_to_controlling"] == pair["errors_to_controlled"] == 0
    # the capture is on the controlled agent's LAN: its checks leave from there
    assert pair["rtt_of"] == "controlled"
    assert close(pair["rtt_ms"], min(s.ROUND_TRIPS)) and close(pair["rtt_ms_controlled"], min(s.ROUND_TRIPS))
    assert pair["rtt_ms_controlling"] is None  # its checks were seen only where they arrived
    assert close(pair["answer_ms_controlled"], s.ANSWER) and pair["answer_ms_controlling"] is None


@pytest.mark.parametrize("name", DIRECTIONS)
def test_checks_tables_never_call_an_answering_time_a_round_trip(name):
    s = synthetic_scenario("pair_directions")
    analysis = icetrace.analyze([SYNTHETIC / name / "capture.pcap"])
    checks = analysis.checks
    theirs = checks[checks.src == "203.0.113.50:40000"]
    mine = checks[checks.src == DIRECTIONS[name]]
    assert len(theirs) == 3 and theirs.rtt_ms.isna().all()
    assert all(close(v, s.ANSWER) for v in theirs.answer_ms)
    assert [round(v, 1) for v in mine.rtt_ms] == [round(t * 1000, 1) for t in s.ROUND_TRIPS]
    assert mine.answer_ms.isna().all()
    transactions = analysis.transactions
    answered_here = transactions[transactions.src == "203.0.113.50:40000"]
    assert len(answered_here) == 3 and answered_here.rtt_ms.isna().all() and answered_here.answer_ms.notna().all()


def test_report_shows_each_direction_and_whose_round_trip():
    analysis = icetrace.analyze([SYNTHETIC / "pair_directions" / "capture.pcap"])
    out = io.StringIO()
    write_report(analysis, out)
    line = next(x for x in out.getvalue().splitlines() if x.startswith("    *"))
    assert line.split()[-4:] == ["3/3", "2/2+1", "6.3", "ctd"]


# -- components from PRIORITY ----------------------------------------------------------------------------


def test_component_two_checks_land_on_component_two():
    s = synthetic_scenario("component_priority")
    analysis = icetrace.analyze([SYNTHETIC / "component_priority" / "capture.pcap"])
    (stream,) = analysis.reconstruction.streams
    by_component = {c.component: c for c in stream.components}
    assert set(by_component) == {1, 2}
    for component, remote in s.REMOTE.items():
        (pair,) = by_component[component].pairs
        assert str(pair.controlled.address) == f"{remote[0]}:{remote[1]}"
        assert by_component[component].selected is pair
        assert (pair.checks_from_controlling, pair.checks_from_controlled) == (2, 1)
    for check in analysis.reconstruction.checks:
        assert check.pair is not None
        assert component_from_priority(check.transaction.request.priority) == check.pair.component


# -- learned candidates -----------------------------------------------------------------------------------


def candidate(analysis: Analysis, address: str) -> dict:
    (stream,) = analysis.to_dict()["streams"]
    found = [c for a in ("controlling", "controlled") for c in stream[a]["candidates"] if c["address"] == address]
    assert len(found) == 1, found
    return found[0]


def test_a_candidate_learned_from_the_wire_is_not_server_reflexive():
    s = synthetic_scenario("learned_candidates")
    folder = SYNTHETIC / "learned_candidates"
    bare = icetrace.analyze([folder / "capture.pcap"])
    learned = candidate(bare, "203.0.113.77:61000")
    assert learned["type"] == "unknown" and learned["origin"] == "wire"  # nothing signaled: type not known
    assert learned["priority"] is None and learned["check_priority"] == s.PRFLX_PRIORITY
    # the only STUN server mapping is the local agent's; the check answers are not server mappings
    assert {str(m.mapped) for m in bare.reconstruction.mappings} == {"198.51.100.10:50000"}

    signaled = icetrace.analyze([folder / "capture.pcap"], sdp=[folder / "offer.sdp", folder / "answer.sdp"])
    learned = candidate(signaled, "203.0.113.77:61000")
    assert (learned["type"], learned["origin"]) == ("prflx", "learned")
    assert learned["priority"] is None and learned["check_priority"] == s.PRFLX_PRIORITY
    host = candidate(signaled, "192.168.10.20:50000")  # signaled: its own priority, its checks' apart
    assert (host["priority"], host["check_priority"]) == (s.HOST_PRIORITY, s.PRFLX_PRIORITY)
    row = signaled.candidates.set_index("address").loc["203.0.113.77:61000"]
    assert row["type"] == "prflx" and row["check_priority"] == s.PRFLX_PRIORITY


# -- two LAN taps behind two NATs ---------------------------------------------------------------------------

TAPS = SYNTHETIC / "two_nats_two_taps"


@pytest.mark.parametrize("clock", ["callee 1.5 s behind", "same clock"])
@pytest.mark.parametrize("order", [("capture.pcap", "callee-lan.pcap"), ("callee-lan.pcap", "capture.pcap")])
def test_two_lan_taps_tell_of_one_pair(order, clock, tmp_path):
    s = synthetic_scenario("two_nats_two_taps")
    folder = TAPS
    if clock == "same clock":
        folder = tmp_path / "aligned"
        s.write(folder, callee_clock=0.0)
    analysis = icetrace.analyze([folder / f for f in order])
    doc = analysis.to_dict()
    pairs = {names(p): p for p in only_pairs(analysis)}
    works, host = ("203.0.113.254:49200", "203.0.113.20:59253"), ("203.0.113.254:49200", "10.20.0.10:59253")
    assert set(pairs) == {works, host}
    pair = pairs[works]
    assert pair["state"] == "succeeded" and pair["nominated"]
    assert doc["streams"][0]["components"][0]["selected"]["controlled"]["address"] == "203.0.113.20:59253"
    assert (pair["checks_by_controlling"], pair["answers_to_controlling"]) == (2, 2)
    assert (pair["checks_by_controlled"], pair["requests_by_controlled"], pair["answers_to_controlled"]) == (2, 3, 2)
    # each agent's round trip from its own LAN, each agent's answering time on its own LAN
    assert close(pair["rtt_ms_controlling"], 2 * s.HOP + s.ANSWER)
    assert close(pair["rtt_ms_controlled"], 2 * s.HOP + s.CALLER_ANSWER)
    assert close(pair["answer_ms_controlled"], s.ANSWER) and close(pair["answer_ms_controlling"], s.CALLER_ANSWER)
    # the caller's checks to the callee's host address: a pair of its own, never answered
    other = pairs[host]
    assert (other["checks_by_controlling"], other["requests_by_controlling"]) == (1, 3)
    assert other["checks_by_controlled"] == 0
    assert other["state"] != "succeeded"
    assert {"inside": "10.20.0.10:59253", "outside": "203.0.113.20:59253"}.items() <= doc["nat_mappings"][0].items()
    assert len(doc["nat_mappings"]) == 1
    assert "D9" not in {v["code"] for v in doc["verdicts"]}
    checks = analysis.checks
    assert len(checks) == checks.transaction_id.nunique() == 5


def test_each_lan_tap_alone_names_the_pair_as_it_sees_it():
    caller = icetrace.analyze([TAPS / "capture.pcap"])
    callee = icetrace.analyze([TAPS / "callee-lan.pcap"])
    caller_pair = next(p for p in only_pairs(caller) if p["state"] == "succeeded")
    (callee_pair,) = only_pairs(callee)  # the caller's check to the host address never got there
    assert names(caller_pair) == ("203.0.113.254:49200", "203.0.113.20:59253")
    assert names(callee_pair) == ("203.0.113.254:49200", "10.20.0.10:59253")
    for key in ("checks_by_controlling", "checks_by_controlled", "answers_to_controlling", "answers_to_controlled"):
        assert caller_pair[key] == callee_pair[key] == 2, key
    # the callee's second check lost its first transmission before the relay: only its LAN saw it
    assert (caller_pair["requests_by_controlled"], callee_pair["requests_by_controlled"]) == (2, 3)
    assert (caller_pair["rtt_of"], callee_pair["rtt_of"]) == ("controlling", "controlled")
    assert caller.to_dict()["nat_mappings"] == callee.to_dict()["nat_mappings"] == []


def test_pair_columns_exist_even_without_pairs():
    empty = icetrace.analyze([], records=[])
    for column in ("checks_by_controlling", "answers_to_controlled", "rtt_of", "answer_ms_controlling"):
        assert column in empty.pairs.columns
    assert "check_priority" in empty.candidates.columns and "answer_ms" in empty.checks.columns
