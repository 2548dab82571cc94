"""[MS-ICE] (OC 2007) calls from libnice's OC2007 mode (captures/real/libnice-oc2007): credentials
per candidate, no roles and no nomination on the wire. One call is one session, every check lands
on a pair, and the selection is the agents' own, from the final offer or from the media."""

from __future__ import annotations

import base64

import pytest

import icetrace
from icetrace.ice.matching import match_transactions
from icetrace.ice.sessions import icev6_sides
from icetrace.ice.usernames import icev6_component, split_username
from icetrace.reading import capture_records
from tests.corpus.truth import CAPTURES, load_truth

FOLDER = CAPTURES / "real" / "libnice-oc2007"
TAPS = ("left-lan", "right-lan", "public")
SDP = [FOLDER / "left.sdp", FOLDER / "right.sdp"]


def _keys(agent: dict) -> set[str]:
    return {
        base64.b64encode(base64.b64decode(c["username"])).decode().rstrip("=")
        for c in agent["streams"][0]["components"][0]["local_candidates"]
    }


def _expected(tap: str) -> set[str]:
    """The pair each tap shows: an agent's LAN shows its base, the public segment the mappings."""
    agents = load_truth(FOLDER)["agents"]
    if tap == "public":
        return {agents["left"]["streams"][0]["components"][0]["selected"]["remote"]} | {
            agents["right"]["streams"][0]["components"][0]["selected"]["remote"]
        }
    me = agents[tap.split("-")[0]]
    comp = me["streams"][0]["components"][0]
    base = {c["address"]: c["related"] or c["address"] for c in comp["local_candidates"]}
    return {base[comp["selected"]["local"]], comp["selected"]["remote"]}


def _selected(result) -> set[str]:
    streams = result.to_dict()["streams"]
    assert len(streams) == 1, [s["controlling"]["name"] for s in streams]
    component = streams[0]["components"][0]
    got = component["selected"]
    return {got["controlling"]["address"], got["controlled"]["address"]}, component, streams[0]


@pytest.mark.parametrize("tap", TAPS)
def test_one_session_per_call_without_signaling_and_selection_from_media(tap):
    result = icetrace.analyze([FOLDER / f"{tap}.pcap"])
    got, component, stream = _selected(result)
    assert got == _expected(tap)
    assert stream["nomination_style"] == "none"  # nothing on the wire nominates in [MS-ICE]
    assert component["selected_by"] == "media"
    assert component["component"] == 1  # from the USERNAME's ":1"
    assert stream["outcome"] == "connected"
    assert not any(p["nominated"] for p in component["pairs"])
    # every check found both its agents and a pair
    assert all(c.pair is not None and c.sender is not None for c in result.reconstruction.checks)


@pytest.mark.parametrize("tap", TAPS)
def test_the_final_offer_names_the_selected_pair(tap):
    result = icetrace.analyze([FOLDER / f"{tap}.pcap"], sdp=[*SDP, FOLDER / "left-final.sdp"])
    got, component, stream = _selected(result)
    assert got == _expected(tap)
    assert stream["nomination_style"] == "final-offer"
    assert component["selected_by"] == "final-offer"
    assert stream["controlling"]["name"] == "caller"


def test_signaled_agents_own_the_checks():
    result = icetrace.analyze([FOLDER / "left-lan.pcap"], sdp=SDP)
    got, component, stream = _selected(result)
    assert got == _expected("left-lan")
    assert component["selected_by"] == "media"
    senders = {c.sender for c in result.reconstruction.checks}
    assert senders == {"caller", "callee:right.sdp"}


def test_two_taps_of_one_call_are_one_session():
    result = icetrace.analyze([FOLDER / "left-lan.pcap", FOLDER / "right-lan.pcap"])
    assert len(result.to_dict()["streams"]) == 1


def test_candidate_keys_group_into_the_two_agents():
    truth = load_truth(FOLDER)["agents"]
    records = list(capture_records(FOLDER / "public.pcap"))
    transactions = match_transactions([(r, r.src, r.dst, False) for r in records], records[-1].time)
    calls = icev6_sides(transactions)
    assert set(calls.members) == {0}
    sides = [set(keys) for keys in calls.members[0].values()]
    assert len(sides) == 2
    # each side holds only one agent's candidates (and every key seen on the wire is grouped)
    for side in sides:
        assert side <= _keys(truth["left"]) or side <= _keys(truth["right"])
    assert sides[0] | sides[1] == set(calls.side)


def test_icev6_username_parts():
    check = next(r for r in capture_records(FOLDER / "left-lan.pcap") if r.username is not None)
    form, recv, send = split_username(check.username)
    assert form == "ms-icev6" and recv != send and len(base64.b64decode(recv + "=")) == 32
    assert icev6_component(check.username) == 1
    assert icev6_component(b"abcd:efgh") is None
