"""Plain-words verdicts with evidence, from the failure catalogue (research §4, D1-D26), and why each
stream went direct, relayed or dead.

Each verdict code is one rule (registry.py), kept with its family: the STUN/TURN servers
(servers.py), checks and pairs (checks.py), nomination and selection (selection.py), what the agents
said about themselves (agent_claims.py). `diagnose` runs them in the vocabulary's report order:
capture rules once, consecutive stream rules stream by stream, every rule reading the facts it
shares with the others from one `Facts`. Each stream also gets one cause (cause_registry.py): the
first cause rule, in `CauseCode` order, whose evidence the capture holds (causes.py for connected
calls, relay_causes.py for relayed ones, failure_causes.py for failed ones).
"""

from __future__ import annotations

from icetrace.ice.diagnosis import agent_claims, causes, checks, failure_causes, relay_causes, selection, servers
from icetrace.ice.diagnosis.cause_registry import cause_table, decide
from icetrace.ice.diagnosis.facts import Facts
from icetrace.ice.diagnosis.registry import VerdictRule, in_report_order
from icetrace.ice.diagnosis.stream_evidence import StreamEvidence
from icetrace.ice.model import Stream, Verdict
from icetrace.ice.reconstruction import Reconstruction

__all__ = ["cause_table", "diagnose", "verdict_table"]

FAMILIES = (servers, checks, selection, agent_claims)  # imported for the verdict rules they register
CAUSE_FAMILIES = (causes, relay_causes, failure_causes)  # and for the cause rules


def diagnose(rec: Reconstruction) -> list[Verdict]:
    """The verdicts, in report order; each stream's cause is set on it (`Stream.cause`)."""
    facts = Facts(rec)
    for stream in rec.streams:
        stream.cause = decide(StreamEvidence(facts, stream))
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
    severity = r.severity
    if stream is not None and stream.outcome == "connected" and r.connected_severity is not None:
        severity = r.connected_severity
    return [
        Verdict(
            code=r.code,
            severity=f.severity or severity,
            message=f.message,
            frames=f.frames,
            call_id=f.call_id or call,
        )
        for f in found
    ]


def verdict_table() -> str:
    """The docs' verdict table (docs/correlator.md), written from the registry."""
    lines = ["| code | severity | when | rests on |", "|---|---|---|---|"]
    for r in in_report_order():
        severity = r.severity + (f" ({r.connected_severity} on a connected stream)" if r.connected_severity else "")
        lines.append(f"| {r.code} | {severity} | {r.meaning} | {r.reference} |")
    return "\n".join(lines)
