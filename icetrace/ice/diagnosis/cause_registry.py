"""The cause registry: one rule per cause code, with what it means, what it rests on and what to do.

A stream gets exactly one cause: the rules are tried in the order of `CauseCode`
(records/vocabulary.py) and the first whose evidence the capture holds decides. A rule reads the
stream's evidence (stream_evidence.py) and returns what it found: the sentence for the user, the
frames that show it, and, when the evidence names addresses, a next step more precise than the
rule's own. When no rule's evidence is in the capture, the stream's cause is
`unknown:partial-capture` (its rule says so). The docs' cause table is written from `CAUSES` and
tested equal to it, so code, meaning and reference cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import get_args

from icetrace.ice.diagnosis.stream_evidence import StreamEvidence
from icetrace.ice.model import Cause
from icetrace.records.vocabulary import CauseCode


@dataclass
class Found:
    """What a cause rule found: one sentence, the frames that show it, and a precise next step."""

    summary: str
    frames: list[int] = field(default_factory=list)
    next_step: str | None = None  # None: the rule's own


Decide = Callable[[StreamEvidence], Found | None]


@dataclass(frozen=True)
class CauseRule:
    code: CauseCode
    meaning: str  # one line for the docs' cause table
    evidence: str  # which frames it cites
    reference: str  # the RFC or specification section the rule rests on
    next_step: str  # what to change or check, in general
    decide: Decide


CAUSES: dict[CauseCode, CauseRule] = {}
ORDER: tuple[CauseCode, ...] = get_args(CauseCode)
FALLBACK: CauseCode = "unknown:partial-capture"


def cause(code: CauseCode, meaning: str, evidence: str, reference: str, next_step: str) -> Callable[[Decide], Decide]:
    """Register the decorated function as the rule for `code`."""

    def register(decide: Decide) -> Decide:
        if code in CAUSES:
            raise ValueError(f"cause code {code} has two rules")
        if code not in ORDER:
            raise ValueError(f"cause code {code} is not in CauseCode")
        CAUSES[code] = CauseRule(code, meaning, evidence, reference, next_step, decide)
        return decide

    return register


def in_order() -> list[CauseRule]:
    return sorted(CAUSES.values(), key=lambda r: ORDER.index(r.code))


def decide(ev: StreamEvidence) -> Cause:
    """The first rule, in `CauseCode` order, whose evidence the capture holds; else the fallback's
    `undecided` sentence (the capture holds nothing that decides)."""
    for r in in_order():
        found = r.decide(ev)
        if found is not None:
            return Cause(
                code=r.code,
                summary=found.summary,
                evidence_frames=found.frames,
                next_step=found.next_step or r.next_step,
            )
    fallback = CAUSES[FALLBACK]
    return Cause(code=FALLBACK, summary=ev.undecided(), evidence_frames=[], next_step=fallback.next_step)


def cause_table() -> str:
    """The docs' cause table (docs/causes.md), written from the registry."""
    lines = ["| code | meaning | evidence cited | rests on | next step |", "|---|---|---|---|---|"]
    for r in in_order():
        lines.append(f"| `{r.code}` | {r.meaning} | {r.evidence} | {r.reference} | {r.next_step} |")
    return "\n".join(lines)
