"""Ground-truth files (captures/*/*/truth.json): schema check and comparison with an Analysis."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from icetrace.records.endpoint import Endpoint
from icetrace.records.vocabulary import CauseCode, Connectivity, NominationStyle, words
from tests import testdata

CAPTURES = testdata.CAPTURES
TOP_KEYS = {"scenario", "description", "expected_outcome", "vantage_points", "agents"}
AGENT_KEYS = {"software", "role", "ice_ufrag", "ice_pwd", "lan_address", "public_address", "streams"}
CANDIDATE_KEYS = {"foundation", "component", "transport", "priority", "address", "type", "related"}
UNOBSERVABLE = {
    "connectivity": "any connectivity: a relayed address may look like any peer's",
    "nomination_style": "any nomination style: the controlling agent's checks are not all in it",
    "types": "any candidate type",
    "succeeded": "not every succeeded pair: the answers travel where the capture is not",
    "relayed_address": "a relayed address as 'SERVER-IP:? (relayed for CLIENT; Allocate not in capture)'",
    "peer_address": "the peer behind a channel as 'peer behind channel 0x4000 of CLIENT (binding not in capture)'",
    "outcome": "outcome unknown, never the other outcome",
    "selected": "nothing selected, never another pair",
    "cause": "any cause: what would decide it is not in the capture, and it may read as another",
}  # what a capture may not show (capture_facts' `unobservable`), and what it may show instead


def scenario_dirs(group: str) -> list[Path]:
    return [p.parent for p in testdata.files(CAPTURES / group, "*/truth.json")]


def scenario_cases(group: str) -> list[Any]:
    """`scenario_dirs()` as parametrisation cases: none gives one failing case."""
    return list(scenario_dirs(group)) or [testdata.missing(f"no */truth.json in captures/{group}")]


def load_truth(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text())


def schema_problems(truth: dict) -> list[str]:
    """Every way a truth file departs from the documented schema (captures/README.md)."""
    problems = [f"missing key {k}" for k in TOP_KEYS - truth.keys()]
    if truth.get("expected_outcome") not in ("connected", "failed"):
        problems.append(f"expected_outcome {truth.get('expected_outcome')!r}")
    problems += _fact_problems(truth)
    for name, agent in truth.get("agents", {}).items():
        problems += [f"agent {name}: missing {k}" for k in AGENT_KEYS - agent.keys()]
        if agent.get("role") not in ("controlling", "controlled"):
            problems.append(f"agent {name}: role {agent.get('role')!r}")
        for stream in agent.get("streams", []):
            for comp in stream["components"]:
                for cand in comp["local_candidates"] + comp["remote_candidates"]:
                    problems += [f"agent {name}: candidate missing {k}" for k in CANDIDATE_KEYS - cand.keys()]
                    Endpoint.parse(cand["address"])
                for entry in comp["checklist"]:
                    Endpoint.parse(entry["local"])
                    Endpoint.parse(entry["remote"])
                    if entry["state"] not in ("succeeded", "failed", "in-progress", "waiting", "frozen"):
                        problems.append(f"agent {name}: checklist state {entry['state']!r}")
                if comp["selected"] is not None:
                    Endpoint.parse(comp["selected"]["local"])
                    Endpoint.parse(comp["selected"]["remote"])
    return problems


def _fact_problems(truth: dict) -> list[str]:
    """The facts added beside the agents' reports: each with its word from the vocabulary and its source."""
    problems = []
    style = truth.get("nomination_style")
    if style is not None:
        if style not in words(NominationStyle):
            problems.append(f"nomination_style {style!r}")
        if not truth.get("nomination_style_source"):
            problems.append("nomination_style without nomination_style_source")
    if truth.get("expected_connectivity", "FAILED") not in words(Connectivity):
        problems.append(f"expected_connectivity {truth['expected_connectivity']!r}")
    for capture, segment in truth.get("segments", {}).items():
        if capture not in truth.get("vantage_points", {}):
            problems.append(f"segments for {capture}, which vantage_points does not name")
        kind, _, whose = segment.partition(":")
        if not (
            segment == "public" or (kind == "lan" and whose in truth.get("agents", {})) or (kind == "server" and whose)
        ):
            problems.append(f"segment {segment!r} for {capture}: lan:<agent>, public or server:<name>")
    for entry in truth.get("refused", []):
        if set(entry) != {"from", "to", "rule"} or not entry["rule"]:
            problems.append(f"refused {entry!r}: from, to and the rule that refuses")
    for capture, facts in truth.get("capture_facts", {}).items():
        if capture not in truth.get("vantage_points", {}):
            problems.append(f"capture_facts for {capture}, which vantage_points does not name")
        if not facts.get("why"):
            problems.append(f"capture_facts for {capture} without why")
        unknown = set(facts) - {"why", "ice_streams", "nomination_style", "connectivity", "cause", "unobservable"}
        if "cause" in facts and facts["cause"] not in words(CauseCode):
            problems.append(f"capture_facts for {capture}: cause {facts['cause']!r}")
        problems += [f"capture_facts for {capture}: unknown key {k}" for k in sorted(unknown)]
        problems += [
            f"capture_facts for {capture}: {u!r} is not observable-or-not"
            for u in facts.get("unobservable", [])
            if u not in UNOBSERVABLE
        ]
    return problems


def pair_addresses(pair_dict: dict) -> set[str]:
    return {pair_dict["controlling"]["address"], pair_dict["controlled"]["address"]}


SYNTHETIC = CAPTURES / "synthetic"
SYNTHETIC_TOOLKIT = {"builder", "truth_agents"}  # the modules the scenarios import, not scenarios


def synthetic_scenario(name: str) -> ModuleType:
    """The scenario module captures/synthetic/<name>.py, loaded once (its `write(folder)` rebuilds it)."""
    module_name = f"synthetic_{name}"
    return sys.modules.get(module_name) or testdata.script(SYNTHETIC / f"{name}.py", module_name)


def synthetic_cases() -> list[Any]:
    """Every scenario module in captures/synthetic (builder.py and truth_agents.py are their toolkit)."""
    cases = testdata.cases(SYNTHETIC, "*.py")
    return [p.stem for p in cases if isinstance(p, Path) and p.stem not in SYNTHETIC_TOOLKIT] or [
        testdata.missing("no scenario modules in captures/synthetic")
    ]
