"""Real agents (aioice behind real NATs, coturn): icetrace's reconstruction against each agent's own report.

The recordings and truth.json files are made by captures/record/netlab.py; no namespaces are
needed here. Every copy of every tap is held to the agents' report as tests/corpus/truth_facts.py
derives what that tap shows; the taps merged and the signaling files given alone are tested here too.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import icetrace
from icetrace.corpus.companions import discover
from tests import testdata
from tests.corpus import truth_facts as tf
from tests.corpus.truth import CAPTURES, load_truth, scenario_cases, scenario_dirs, schema_problems

SCENARIOS = scenario_dirs("real")
VIEWS = [
    (folder, tap, fmt)
    for folder in SCENARIOS
    for tap in ("left-lan", "right-lan", "public")
    for fmt in ("pcap", "pcapng", "cap")
] or [testdata.missing("no */truth.json in captures/real", arity=3)]


def _component(agent: dict) -> dict:
    return agent["streams"][0]["components"][0]


def _base(agent: dict, address: str, component: int = 1) -> str:
    """A server- or peer-reflexive local candidate is sent from its base (RFC 8445 §6.1.2.4,
    §7.2.5.3.1), which is what a LAN-side capture shows; agents differ in which of the two they
    report (aioice the base, baresip and libnice the mapped address)."""
    comp = next(c for c in agent["streams"][0]["components"] if c["component"] == component)
    for cand in comp["local_candidates"]:
        if cand["address"] == address and cand["type"] in ("srflx", "prflx") and cand["related"]:
            return cand["related"]
    return address


def _on_public(truth: dict, address: str) -> str:
    """An address as the public segment shows it: one on an agent's LAN appears as its NAT mapping,
    the server-reflexive candidate the agent reports for that base, else the same port on the
    agent's public address (the lab's NATs keep the port unless they map per destination)."""
    ip, _, port = address.rpartition(":")
    for agent in truth["agents"].values():
        if ip != agent["lan_address"] or not agent["public_address"]:
            continue
        for comp in agent["streams"][0]["components"]:
            for cand in comp["local_candidates"]:
                if cand["type"] == "srflx" and cand["related"] == address:
                    return str(cand["address"])
        return f"{agent['public_address']}:{port}"
    return address


def _outcome_agrees(truth: dict, tap: str, outcome: str) -> bool:
    """The agents' outcome; where the truth says the tap cannot show how the call ended (its
    capture_facts), `unknown` too, never the other outcome."""
    facts = truth.get("capture_facts", {}).get(f"{tap}.pcap", {})
    return outcome == truth["expected_outcome"] or ("outcome" in facts.get("unobservable", []) and outcome == "unknown")


def _expected_selected(truth: dict, tap: str, component: int = 1) -> set[str] | None:
    """The selected pair's two ends as the tap shows them: on an agent's LAN its own pair (a
    reflexive local candidate by its base); on the public segment, for a pair through a relay, the
    relayed agent's own pair (its relayed address, and the peer as it reached the relay), else
    each agent's remote (the other as its NAT presents it)."""
    agents = truth["agents"]
    left, right = (
        _component(agents[n])["selected"]
        if component == 1
        else next(c for c in agents[n]["streams"][0]["components"] if c["component"] == component)["selected"]
        for n in ("left", "right")
    )
    if tap == "left-lan":
        return {_base(agents["left"], left["local"], component), left["remote"]} if left else None
    if tap == "right-lan":
        return {_base(agents["right"], right["local"], component), right["remote"]} if right else None
    if not (left and right):
        return None
    relayed = next((sel for sel in (left, right) if sel["local_type"] == "relay"), None)
    if relayed is not None:
        return {_on_public(truth, relayed["local"]), _on_public(truth, relayed["remote"])}
    return {_on_public(truth, left["remote"]), _on_public(truth, right["remote"])}


@pytest.mark.parametrize("folder, tap, fmt", VIEWS, ids=lambda v: getattr(v, "name", v))
def test_reconstruction_agrees_with_the_agents(folder, tap, fmt):
    """Each copy of each tap (pcap, pcapng, Network Monitor), with the companions `icetrace check`
    gives the pcap, against the agents' own report (tests/corpus/truth_facts.py)."""
    truth = load_truth(folder)
    assert schema_problems(truth) == [] and set(truth["agents"]) == {"left", "right"}
    (task,) = [t for t in discover([str(folder)]) if Path(t.capture).name == f"{tap}.pcap"]
    result = icetrace.analyze([folder / f"{tap}.{fmt}"], sdp=list(task.sdp), logs=list(task.logs))
    assert tf.problems(tf.answer(result), tf.expected(truth, f"{tap}.pcap")) == []


@pytest.mark.tshark
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
@pytest.mark.parametrize("folder", scenario_cases("real"), ids=lambda p: p.name)
def test_every_copy_opens_in_tshark_with_the_same_packets(folder):
    counts = {}
    for path in sorted(folder.glob("*-lan.*")) + sorted(folder.glob("public.*")):
        if path.name.endswith(".expected.json"):  # the golden file `icetrace check` compares with
            continue
        out = subprocess.run(
            ["tshark", "-n", "-r", str(path), "-Y", "stun || classicstun"], capture_output=True, text=True, check=True
        ).stdout
        counts[path.name] = len(out.splitlines())
    assert all(n > 0 for n in counts.values()), counts
    for tap in ("left-lan", "right-lan", "public"):
        assert len({counts[f"{tap}.{fmt}"] for fmt in ("pcap", "pcapng", "cap")}) == 1


def test_recordings_exist():
    assert {p.name for p in SCENARIOS} >= {"aioice-direct"}, CAPTURES


TAPS = ("left-lan", "public")


@pytest.mark.parametrize("name", ["aioice-direct", "baresip-kamailio"])
def test_two_vantage_points_merge_into_one_story(name):
    folder = CAPTURES / "real" / name
    truth = load_truth(folder)
    merged_analysis = icetrace.analyze([folder / f"{tap}.pcap" for tap in TAPS])
    merged = merged_analysis.to_dict()
    streams = [s for s in merged["streams"] if s["call_id"] or name.startswith("aioice")]
    assert len(streams) == 1
    got = streams[0]["components"][0]["selected"]
    want = _expected_selected(truth, "left-lan")
    assert {got["controlling"]["address"], got["controlled"]["address"]} == want
    # each check counted once although both taps saw most of them (the public tap also saw checks
    # that the left NAT dropped, which the left tap never could); a transaction id sent on two paths
    # (baresip 1.0 sends one both through its relay and directly) is two checks, as at one tap
    per_tap = [icetrace.analyze([folder / f"{tap}.pcap"]).checks.transaction_id.value_counts() for tap in TAPS]
    merged_counts = merged_analysis.checks.transaction_id.value_counts()
    assert set(merged_counts.index) == set().union(*(set(c.index) for c in per_tap))
    for tid, count in merged_counts.items():
        assert count == max(c.get(tid, 0) for c in per_tap), tid


SIGNALED = [
    (folder, tap)
    for folder in SCENARIOS
    if (folder / "left.sdp").exists()
    for tap in ("left-lan", "right-lan", "public")
]


@pytest.mark.parametrize("folder, tap", SIGNALED, ids=lambda v: getattr(v, "name", v))
def test_signaled_reconstruction_agrees_with_the_agents(folder, tap):
    """With what each agent signaled (left.sdp offers, right.sdp answers): the same selected pair."""
    truth = load_truth(folder)
    result = icetrace.analyze([folder / f"{tap}.pcap"], sdp=[folder / "left.sdp", folder / "right.sdp"])
    streams = result.to_dict()["streams"]
    assert len(streams) == 1 and streams[0]["call_id"] == "sdp-files"
    stream = streams[0]
    assert _outcome_agrees(truth, tap, stream["outcome"])
    left_controls = truth["agents"]["left"]["role"] == "controlling"
    assert stream["controlling"]["name"] == ("caller" if left_controls else "callee:right.sdp")  # left offered
    assert stream["controlled"]["ice_lite"] == bool(truth["agents"]["right"].get("ice_lite"))
    selected = stream["components"][0]["selected"]
    want = _expected_selected(truth, tap)
    if want is None:  # the agents selected nothing: neither may icetrace
        assert selected is None and truth["expected_outcome"] == "failed"
        return
    assert {selected["controlling"]["address"], selected["controlled"]["address"]} == want


def _counted_views() -> list:
    """(scenario, agent) for the agents that report how many application datagrams they received:
    libnice (captures/record/libnice_agent.py). In OC2007R2 mode libnice's count is not the wire's
    (10 and 21 where both LAN taps show 20 datagrams each way), so that recording is left out."""
    views = []
    for folder in SCENARIOS:
        truth = load_truth(folder)
        for name, agent in truth["agents"].items():
            if "datagrams_received" in agent and agent.get("compatibility") != "oc2007r2":
                views.append(pytest.param(folder, name, id=f"{folder.name}-{name}"))
    return views or [testdata.missing("no agent in captures/real reports datagrams_received", arity=2)]


@pytest.mark.parametrize("folder, name", _counted_views())
def test_application_datagrams_are_the_agents_own_count(folder, name):
    """On an agent's own LAN, the data icetrace sees arrive at it on the selected pair is what the
    agent says it received: at its LAN address, or at its relayed address when the pair it selected
    starts there (the TURN framing unwrapped); a call that selected nothing received nothing."""
    truth = load_truth(folder)
    agent = truth["agents"][name]
    (task,) = [t for t in discover([str(folder)]) if Path(t.capture).name == f"{name}-lan.pcap"]
    (stream,) = icetrace.analyze([task.capture], sdp=list(task.sdp)).to_dict()["streams"]
    selected = stream["components"][0]["selected"]
    own = _component(agent)["selected"]
    ends = {selected["controlling"]["address"], selected["controlled"]["address"]} if selected else set()
    mine = {a for a in ends if a.rpartition(":")[0] == agent["lan_address"] or (own and a == own["local"])}
    received = sum(f["packets"] for f in stream["media_flows"] if f["dst"] in mine and f["kind"] == "data")
    assert received == agent["datagrams_received"]


def _libnice_truth_module():
    return testdata.script(CAPTURES / "record" / "libnice_truth.py", "libnice_truth")


LOGGED_CHECKLISTS = [
    pytest.param(folder, side, id=f"{folder.name}-{side}")
    for folder in SCENARIOS
    for side in ("left", "right")
    if "*** conncheck list DUMP" in ((folder / f"{side}.log").read_text() if (folder / f"{side}.log").exists() else "")
] or [testdata.missing("no libnice debug log in captures/real", arity=2)]


@pytest.mark.parametrize("folder, side", LOGGED_CHECKLISTS)
def test_libnice_check_lists_are_its_own_logged_ones(folder, side):
    """A libnice agent's check list in the truth is the last one its debug log dumped (libnice has no API
    for it; captures/record/libnice_truth.py reads it), and its selected pair is one the list holds as
    succeeded and nominated."""
    truth = load_truth(folder)
    comp = _component(truth["agents"][side])
    listed = _libnice_truth_module().checklist((folder / f"{side}.log").read_text())
    assert comp["checklist"] == listed and listed
    sel = comp["selected"]
    assert any(
        e["local"] == sel["local"] and e["remote"] == sel["remote"] and e["state"] == "succeeded" and e["nominated"]
        for e in listed
    )
