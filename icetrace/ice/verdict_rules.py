"""The verdict registry: one rule per verdict code, with what it means and what it rests on.

A rule is a function that looks at the reconstruction (the whole capture, or one stream) and yields
findings; the registry stamps each finding with the rule's code and severity. Adding a verdict is
one decorated function in `icetrace.ice.diagnosis`; the docs' verdict table is tested against
`RULES`, so code, meaning and reference cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, get_args

from icetrace.records.vocabulary import Severity

if TYPE_CHECKING:
    from icetrace.ice.model import Stream
    from icetrace.ice.reconstruction import Reconstruction

Scope = Literal["capture", "stream"]

# Every verdict code, in report order: the closed vocabulary of `Verdict.code`. A test holds it
# equal to the registry (`RULES`), so a rule cannot be added or renamed here alone.
VerdictCode = Literal[
    "D1",
    "D2",
    "D4",
    "D5",
    "D6",
    "D19",
    "NONSTANDARD-ANSWER",
    "PEER-PROBES",
    "ORPHAN-RESPONSES",
    "D8",
    "D9",
    "D11",
    "D11-INTEGRITY",
    "D12",
    "CHECK-ERROR",
    "D13",
    "MID-CALL",
    "SHOULD-HAVE-WON",
    "D14",
    "D16",
    "D25",
    "SDP-REMOTE-CANDIDATES",
    "FAILED",
    "CLIENT-REPORT",
    "D26",
    "AGENT-REPORT",
    "AGENT-DISAGREES",
]


@dataclass
class Finding:
    """What a rule found: the sentence for the user and the frames that show it."""

    message: str
    frames: list[int] = field(default_factory=list)
    call_id: str | None = None  # capture-scope rules name their call; stream rules get the stream's


CaptureCheck = Callable[["Reconstruction"], Iterable[Finding]]
StreamCheck = Callable[["Reconstruction", "Stream"], Iterable[Finding]]


@dataclass(frozen=True)
class VerdictRule:
    code: VerdictCode  # D1-D26 from the failure catalogue, or a descriptive name for plain observations
    severity: Severity
    meaning: str  # one line for the docs' verdict table
    reference: str  # the RFC or specification section the rule rests on
    scope: Scope
    check: CaptureCheck | StreamCheck


RULES: dict[VerdictCode, VerdictRule] = {}


def rule(
    code: VerdictCode, severity: Severity, meaning: str, reference: str, scope: Scope = "stream"
) -> Callable[[Callable[..., Iterable[Finding]]], Callable[..., Iterable[Finding]]]:
    """Register the decorated function as the rule for `code`; registration order is report order."""

    def register(check: Callable[..., Iterable[Finding]]) -> Callable[..., Iterable[Finding]]:
        if code in RULES:
            raise ValueError(f"verdict code {code} has two rules")
        if code not in get_args(VerdictCode):
            raise ValueError(f"verdict code {code} is not in VerdictCode")
        RULES[code] = VerdictRule(code, severity, meaning, reference, scope, check)
        return check

    return register


def verdict_table() -> str:
    """The docs' verdict table (docs/correlator.md), written from the registry."""
    import icetrace.ice.diagnosis  # noqa: F401  (registers the rules)

    lines = ["| code | severity | when | rests on |", "|---|---|---|---|"]
    for r in RULES.values():
        lines.append(f"| {r.code} | {r.severity} | {r.meaning} | {r.reference} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(verdict_table())  # noqa: T201
