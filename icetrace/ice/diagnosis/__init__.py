"""Plain-words verdicts with evidence, from the failure catalogue (research §4, D1-D26).

Each verdict code is one rule (registry.py), kept with its family: the STUN/TURN servers
(servers.py), checks and pairs (checks.py), nomination and selection (selection.py), what the agents
said about themselves (agent_claims.py), and why a failure happened (causes.py). `diagnose` runs
them in the vocabulary's report order: capture rules once, consecutive stream rules stream by
stream, every rule reading the facts it shares with the others from one `Facts`.
"""

from __future__ import annotations

from icetrace.ice.diagnosis import agent_claims, causes, checks, selection, servers
from icetrace.ice.diagnosis.facts import Facts
from icetrace.ice.diagnosis.registry import VerdictRule, in_report_order
from icetrace.ice.model import Stream, Verdict
from icetrace.ice.reconstruction import Reconstruction

FAMILIES = (servers, checks, selection, agent_claims, causes)  # imported for the rules they register


def diagnose(rec: Reconstruction) -> list[Verdict]:
    facts = Facts(rec)
    verdicts: list[Verdict] = []
    rules = in_report_order()
    i = 0
    while i < len(rules):
        if rules[i].scope == "capture":
            verdicts += _run(rules[i], facts, None)
            i += 1
            continue
        j = i
        while j < len(rules) and rules[j].scope == "stream":
            j += 1
        for stream in rec.streams:
            for r in rules[i:j]:
                verdicts += _run(r, facts, stream)
        i = j
    return verdicts


def _run(r: VerdictRule, facts: Facts, stream: Stream | None) -> list[Verdict]:
    found = r.check(facts) if stream is None else r.check(facts, stream)  # type: ignore[call-arg]
    call = stream.call_id if stream is not None else None
    return [
        Verdict(code=r.code, severity=r.severity, message=f.message, frames=f.frames, call_id=f.call_id or call)
        for f in found
    ]


def verdict_table() -> str:
    """The docs' verdict table (docs/correlator.md), written from the registry."""
    lines = ["| code | severity | when | rests on |", "|---|---|---|---|"]
    for r in in_report_order():
        lines.append(f"| {r.code} | {r.severity} | {r.meaning} | {r.reference} |")
    return "\n".join(lines)
