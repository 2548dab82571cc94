"""Real browsers (headless Chromium, Firefox ESR) behind real NATs: icetrace against getStats().

The recordings and their truth are made by captures/record/browser_lab.py. test_real_recordings.py
already holds every tap to the browsers' selected pair and succeeded pairs; here the browsers'
own counters, the signaled candidates (offer.sdp/answer.sdp), the media on the selected pair and
the merging of taps are compared with what each browser reported.
"""

from __future__ import annotations

import json
from functools import cache

import pytest

import icetrace
from tests.corpus.truth import CAPTURES, load_truth
from tests.testdata import script

BROWSER_SCENARIOS = (
    "chromium-direct",
    "chromium-relay",
    "chromium-turn-tcp",
    "chromium-late-direct",
    "firefox-chromium",
    "chromium-firefox",
)
LAN_TAPS = ("left-lan", "right-lan")
# every browser recording whose pages' reports are kept, the cause scenarios and failed calls too,
# but those where browser_lab.fill_redacted_prflx took a prflx address from the peer's report
REPORTED = sorted(
    p.parent.name
    for p in (CAPTURES / "real").glob("*/left.result.json")
    if '"address_from"' not in (p.parent / "truth.json").read_text()
)


def _folder(name: str):
    return CAPTURES / "real" / name


@cache
def _analysis(name: str, taps: tuple[str, ...], signaled: bool):
    folder = _folder(name)
    sdp = [folder / "offer.sdp", folder / "answer.sdp"] if signaled else []
    return icetrace.analyze([folder / f"{t}.pcap" for t in taps], sdp=sdp, app_signaling=signaled)


def _component(agent: dict) -> dict:
    return agent["streams"][0]["components"][0]


def _base(agent: dict, address: str) -> str:
    """The local address a LAN tap shows for a candidate: a server-reflexive one is sent from its
    base (RFC 8445 §6.1.2.4); Chromium and Firefox report the pair by the srflx address."""
    for cand in _component(agent)["local_candidates"]:
        if cand["address"] == address and cand["type"] == "srflx" and cand["related"]:
            return cand["related"]
    return address


def _truth_selected_entry(agent: dict) -> dict:
    comp = _component(agent)
    sel = comp["selected"]
    return next(e for e in comp["checklist"] if e["local"] == sel["local"] and e["remote"] == sel["remote"])


def _addresses(pair: dict) -> set[str]:
    return {pair["controlling"]["address"], pair["controlled"]["address"]}


def _connected_streams(analysis: dict) -> list[dict]:
    return [s for s in analysis["streams"] if any(c["selected"] for c in s["components"])]


def _views() -> list:
    """(scenario, tap) for the LAN taps."""
    return [pytest.param(name, tap, id=f"{name}-{tap}") for name in BROWSER_SCENARIOS for tap in LAN_TAPS]


def _browser_truth_module():
    return script(CAPTURES / "record" / "browser_truth.py", "browser_truth")


@pytest.mark.parametrize("name", REPORTED)
def test_truth_is_rebuilt_from_what_the_pages_posted(name):
    """truth.json holds nothing but the browsers' own getStats() and descriptions, as converted by
    captures/record/browser_truth.py; the posted reports are kept beside it."""
    folder = _folder(name)
    truth = load_truth(folder)
    convert = _browser_truth_module().browser_truth
    for me in ("left", "right"):
        result = json.loads((folder / f"{me}.result.json").read_text())
        agent = truth["agents"][me]
        assert convert(result, agent["lan_address"], agent["public_address"]) == agent
    for me, sdp in (("left", "offer.sdp"), ("right", "answer.sdp")):
        posted = json.loads((folder / f"{me}.result.json").read_text())["localDescription"]
        assert (folder / sdp).read_bytes() == posted.encode()


@pytest.mark.parametrize("name", BROWSER_SCENARIOS)
@pytest.mark.parametrize("tap", LAN_TAPS)
def test_nomination_and_candidate_types_are_the_browsers_own(name, tap):
    """The selected pair is nominated as the tap's browser says its selected pair is, and each side's
    signaled candidates are of the types its browser gathered (host, srflx, relay; relay only when
    the page asked for relays only)."""
    truth = load_truth(_folder(name))
    me = truth["agents"][tap.split("-")[0]]
    stream = _connected_streams(_analysis(name, (tap,), True).to_dict())[0]
    assert stream["outcome"] == truth["expected_outcome"]
    assert stream["components"][0]["selected"]["nominated"] == _truth_selected_entry(me)["nominated"]
    for role, agent_name in (("controlling", "left"), ("controlled", "right")):
        got = {c["type"] for c in stream[role]["candidates"] if c["origin"] == "sdp"}
        gathered = {c["type"] for c in _component(truth["agents"][agent_name])["local_candidates"]} - {"prflx"}
        assert got == gathered, role


@pytest.mark.parametrize("name", BROWSER_SCENARIOS)
@pytest.mark.parametrize("tap", LAN_TAPS)
def test_signaled_candidates_are_the_ones_getstats_lists(name, tap):
    """offer.sdp/answer.sdp parsed by icetrace give each side the candidates its browser gathered."""
    truth = load_truth(_folder(name))
    analysis = _analysis(name, (tap,), True).to_dict()
    streams = _connected_streams(analysis)
    assert streams
    stream = streams[0]
    for role, agent_name in (("controlling", "left"), ("controlled", "right")):
        got = {
            (c["address"], c["type"], c["priority"])
            for c in stream[role]["candidates"]
            if c["origin"] == "sdp" and c["component"] == 1 and c["transport"] == "udp"
        }
        want = {
            (c["address"], c["type"], c["priority"])
            for c in _component(truth["agents"][agent_name])["local_candidates"]
            if c["transport"] == "udp" and c["type"] != "prflx"
        }
        assert want <= got, (role, want - got)


@pytest.mark.parametrize("name", BROWSER_SCENARIOS)
@pytest.mark.parametrize("tap", LAN_TAPS)
def test_selected_pair_with_signaling(name, tap):
    truth = load_truth(_folder(name))
    me = truth["agents"][tap.split("-")[0]]
    sel = _component(me)["selected"]
    analysis = _analysis(name, (tap,), True).to_dict()
    streams = _connected_streams(analysis)
    assert streams
    for stream in streams:
        assert stream["outcome"] == "connected"
        assert stream["controlling"]["role"] == "controlling"
        got = stream["components"][0]["selected"]
        assert _addresses(got) == {_base(me, sel["local"]), sel["remote"]}


@pytest.mark.parametrize("name", BROWSER_SCENARIOS)
def test_a_bundled_call_is_one_ice_session(name):
    analysis = _analysis(name, ("left-lan",), True).to_dict()
    assert [s["outcome"] for s in analysis["streams"]] == ["connected"]


@pytest.mark.parametrize("name, tap", _views())
def test_counters_are_the_vantage_agents_own(name, tap):
    """On an agent's own LAN the selected pair's counters for that agent are its own: Chromium's
    requestsSent (checks, not counting retransmissions) and responsesReceived. Firefox reports no
    requestsSent, and counts a response on the pair of the check's base: its responsesReceived on
    the selected pair and on the pair of the same base and remote together. The page closes the
    connection right after getStats(), so the capture holds no check the browser had not counted."""
    truth = load_truth(_folder(name))
    me = truth["agents"][tap.split("-")[0]]
    entry = _truth_selected_entry(me)
    stream = _connected_streams(_analysis(name, (tap,), False).to_dict())[0]
    role = "controlling" if stream["controlling"]["name"] == f"ufrag:{me['ice_ufrag']}" else "controlled"
    assert role == me["role"]
    selected = stream["components"][0]["selected"]
    if entry["requests_sent"] is None:  # Firefox
        same_base = [
            e
            for e in _component(me)["checklist"]
            if e["remote"] == entry["remote"] and _base(me, e["local"]) == _base(me, entry["local"])
        ]
        assert selected[f"answers_to_{role}"] == sum(e["responses_received"] for e in same_base)
    else:
        assert (selected[f"checks_by_{role}"], selected[f"answers_to_{role}"]) == (
            entry["requests_sent"],
            entry["responses_received"],
        )
    assert selected["rtt_of"] == role  # its checks leave from the capture's side


def _chromium_views() -> list:
    """(scenario, tap) for the LAN taps of Chromium agents (Firefox's pair stats lack the counters)."""
    return [
        pytest.param(name, tap, id=f"{name}-{tap}")
        for name in BROWSER_SCENARIOS
        for tap in LAN_TAPS
        if "Chrome/" in load_truth(_folder(name))["agents"][tap.split("-")[0]]["software"]
    ]


@pytest.mark.parametrize("name, tap", _chromium_views())
def test_each_checks_round_trip_is_the_one_the_browser_measured(name, tap):
    """The transactions icetrace matched on the agent's own LAN are the browser's own: per pair that
    succeeded, as many answered checks as Chromium's responsesReceived, and their round trips add
    up to its totalRoundTripTime. Chromium keeps whole milliseconds and takes its times in the
    browser, not on the wire (its network thread can be late, most over TURN/TCP): 1 ms per sample
    and 15 % of slack."""
    truth = load_truth(_folder(name))
    me = truth["agents"][tap.split("-")[0]]
    checks = _analysis(name, (tap,), False).checks
    answered = checks[(checks.sender == f"ufrag:{me['ice_ufrag']}") & checks.rtt_ms.notna()]
    compared = 0
    for entry in _component(me)["checklist"]:
        if entry["state"] != "succeeded":
            continue
        own = answered[
            (answered.src.astype(str) == _base(me, entry["local"])) & (answered.dst.astype(str) == entry["remote"])
        ]
        assert len(own) == entry["responses_received"], entry
        slack = len(own) * 1.0 + 0.15 * entry["total_rtt_ms"] + 0.5
        assert abs(own.rtt_ms.sum() - entry["total_rtt_ms"]) <= slack, entry
        compared += 1
    assert compared >= 1


@pytest.mark.parametrize("name, tap", _views())
def test_rtt_is_the_round_trip_of_the_vantage_agents_checks(name, tap):
    """rtt_ms of the selected pair lies within the round trips of the checks the capture's own
    agent sent on that pair (told by its ufrag from the truth), never below the fastest of them."""
    truth = load_truth(_folder(name))
    me = truth["agents"][tap.split("-")[0]]
    analysis = _analysis(name, (tap,), False)
    selected = _connected_streams(analysis.to_dict())[0]["components"][0]["selected"]
    checks = analysis.checks
    own = checks[
        (checks.sender == f"ufrag:{me['ice_ufrag']}")
        & checks.src.astype(str).isin(_addresses(selected))
        & checks.dst.astype(str).isin(_addresses(selected))
        & checks.rtt_ms.notna()
    ]
    assert len(own) >= 1
    assert own.rtt_ms.min() - 0.001 <= selected["rtt_ms"] <= own.rtt_ms.max() + 0.001


@pytest.mark.parametrize("name, tap", _views())
def test_media_on_the_selected_pair(name, tap):
    """Each browser sent DTLS, then SRTP audio and the data channel (SCTP over DTLS), on its selected
    pair (getStats bytesSent); the analysis lists DTLS and RTP both ways on that pair."""
    truth = load_truth(_folder(name))
    stream = _connected_streams(_analysis(name, (tap,), False).to_dict())[0]
    kinds_by_direction: dict[tuple[str, str], set[str]] = {}
    for flow in stream["media_flows"]:
        kinds_by_direction.setdefault((flow["src"], flow["dst"]), set()).add(flow["kind"])
    senders = [a for a in truth["agents"].values() if _truth_selected_entry(a)["bytes_sent"] > 0]
    assert len(kinds_by_direction) == len(senders), kinds_by_direction  # one direction per browser that sent
    for kinds in kinds_by_direction.values():
        assert {"dtls", "rtp"} <= kinds


def _wire_candidates(name: str, tap: str):
    """(role, what icetrace lists, what the browser itself listed) for every candidate both know."""
    truth = load_truth(_folder(name))
    stream = _connected_streams(_analysis(name, (tap,), False).to_dict())[0]
    for role, agent_name in (("controlling", "left"), ("controlled", "right")):
        own = {c["address"]: c for c in _component(truth["agents"][agent_name])["local_candidates"]}
        for cand in stream[role]["candidates"]:
            if cand["address"] in own:
                yield role, cand, own[cand["address"]]


@pytest.mark.parametrize("name, tap", _views())
def test_candidates_learned_from_the_wire_keep_their_type(name, tap):
    """Without signaling, a candidate's type is unknown, prflx, or the browser's own."""
    for role, cand, mine in _wire_candidates(name, tap):
        assert cand["type"] in ("unknown", "prflx", mine["type"]), (role, cand)


@pytest.mark.parametrize("name, tap", _views())
def test_candidates_learned_from_the_wire_carry_no_invented_priority(name, tap):
    """Without signaling, a candidate's priority is unknown or the browser's own."""
    for role, cand, mine in _wire_candidates(name, tap):
        assert cand["priority"] in (None, mine["priority"]), (role, cand, mine["priority"])


TAP_SETS = (
    ("left-lan",),
    ("right-lan",),
    ("public",),
    ("left-lan", "right-lan"),
    ("left-lan", "public"),
    ("right-lan", "public"),
    ("left-lan", "right-lan", "public"),
)


def _tap_views() -> list:
    return [pytest.param(name, taps, id=f"{name}-{'+'.join(taps)}") for name in BROWSER_SCENARIOS for taps in TAP_SETS]


@pytest.mark.parametrize("name, taps", _tap_views())
def test_one_pair_for_each_pair_the_browsers_checked(name, taps):
    """Whichever taps are given, alone or together: one pair per candidate pair that either browser
    reports succeeded, each check counted once, the selected pair as one of the taps names it."""
    truth = load_truth(_folder(name))
    left, right = truth["agents"]["left"], truth["agents"]["right"]
    # Chromium and Firefox name a pair by their candidates' own addresses (srflx, not its base), so
    # both browsers' reports of one pair have the same two addresses.
    reported = {
        frozenset((e["local"], e["remote"]))
        for agent in (left, right)
        for e in _component(agent)["checklist"]
        if e["state"] == "succeeded"
    }
    analysis = _analysis(name, taps, False)
    stream = _connected_streams(analysis.to_dict())[0]
    succeeded = [p for p in stream["components"][0]["pairs"] if p["state"] == "succeeded"]
    assert len(succeeded) == len(reported)
    assert len(analysis.checks) == analysis.checks.transaction_id.nunique()
    lsel, rsel = _component(left)["selected"], _component(right)["selected"]
    named = [
        {_base(left, lsel["local"]), lsel["remote"]},
        {_base(right, rsel["local"]), rsel["remote"]},
        {lsel["remote"], rsel["remote"]},  # the public segment: both NAT mappings
        {lsel["local"], rsel["local"]},  # or both relayed addresses
    ]
    assert _addresses(stream["components"][0]["selected"]) in named
