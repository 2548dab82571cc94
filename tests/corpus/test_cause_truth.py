"""Each recording's truth names why the call went the way it did (expected_cause) and how it was
carried (expected_connectivity), and those agree with the agents' own reports: the lab's recordings
(real/), the ones taken at servers' own interfaces (servers/) and the captures cut from them
(derived/, which keep their recording's truth).

expected_cause comes from the rules the lab set (captures/record/netlab.py, browser_lab.py,
libnice_lab.py, vantage_lab.py), expected_connectivity from the agents' selected pairs; this holds
the two to each other and to what the agents said, so a scenario whose agents did not do what its
rules meant cannot be committed unnoticed.
"""

from __future__ import annotations

import pytest

from tests.corpus.truth import load_truth, scenario_cases

# the cause codes the lab's scenarios are built to show (captures/README.md, "Causes")
CODES = {
    "direct",
    "relayed:direct-blocked",
    "relayed:udp-blocked",
    "relayed:symmetric-nat",
    "relayed:policy",
    "relayed:no-hairpin",
    "relayed:agent-choice",
    "failed:network-lost",
    "failed:no-common-path",
    "failed:credentials",
    "failed:turn-refused",
    "failed:consent-lost",
    "connected:no-media",
}


def _components(agent: dict) -> list[dict]:
    return [c for s in agent["streams"] for c in s["components"]]


def _agents_connectivity(truth: dict) -> str:
    if truth["expected_outcome"] == "failed":
        return "FAILED"
    for agent in truth["agents"].values():
        for comp in _components(agent):
            sel = comp["selected"]
            if sel and "relay" in (sel["local_type"], sel["remote_type"]):
                return "RELAY"
    return "DIRECT"


def _sides(truth: dict) -> list[str]:
    side = truth["expected_cause"]["side"]
    return list(truth["agents"]) if side == "both" else [side]


RECORDINGS = [*scenario_cases("real"), *scenario_cases("servers"), *scenario_cases("derived")]


@pytest.mark.parametrize("folder", RECORDINGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_cause_and_connectivity_are_written_down(folder):
    truth = load_truth(folder)
    cause = truth["expected_cause"]
    assert set(cause) == {"code", "side", "stream", "why"}, cause
    assert cause["code"] in CODES
    assert cause["side"] in (*truth["agents"], "both")
    assert cause["stream"] == 0 and cause["why"]
    assert truth["expected_connectivity"] == _agents_connectivity(truth)


@pytest.mark.parametrize("folder", RECORDINGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_cause_agrees_with_the_agents(folder):
    truth = load_truth(folder)
    code, connectivity = truth["expected_cause"]["code"], truth["expected_connectivity"]
    if code.startswith("relayed:"):
        assert connectivity == "RELAY"
    elif code == "direct":
        assert connectivity == "DIRECT"
    elif code == "failed:consent-lost":
        # ICE connected, then every agent gave the call up when consent expired (RFC 7675 §5.1)
        assert truth["expected_outcome"] == "connected"
        assert all(a.get("consent_expired") for a in truth["agents"].values())
    elif code.startswith("failed:"):
        assert connectivity == "FAILED"
    else:
        assert truth["expected_outcome"] == "connected"
    if code == "relayed:policy":
        for side in _sides(truth):
            types = {c["type"] for comp in _components(truth["agents"][side]) for c in comp["local_candidates"]}
            assert types == {"relay"}, (side, types)
    if code in ("relayed:udp-blocked", "relayed:symmetric-nat"):
        # the side the cause lies with carried the call on a relay, its own or its peer's
        for side in _sides(truth):
            sel = _components(truth["agents"][side])[0]["selected"]
            assert "relay" in (sel["local_type"], sel["remote_type"]), (side, sel)
    if code == "relayed:agent-choice":
        # some agent lists a pair with no relay as succeeded, and the controlling one nominated a relayed pair
        direct = [
            e
            for agent in truth["agents"].values()
            for comp in _components(agent)
            for e in comp["checklist"]
            if e["state"] == "succeeded" and "relay" not in (e["local_type"], e["remote_type"])
        ]
        controlling = next(a for a in truth["agents"].values() if a["role"] == "controlling")
        nominated = [e for comp in _components(controlling) for e in comp["checklist"] if e["nominated"]]
        assert direct and nominated
        assert all("relay" in (e["local_type"], e["remote_type"]) for e in nominated)
    if code == "failed:credentials" and any("signaled_pwd" in a for a in truth["agents"].values()):
        for agent in truth["agents"].values():
            assert agent["signaled_pwd"] != agent["ice_pwd"]
