"""The verdict registry: one rule per verdict code, with what it means and what it rests on.

A rule is a function that looks at the capture's facts (and one stream, for a stream rule) and
yields findings; the registry stamps each finding with the rule's code and severity. Adding a
verdict is its code in `VerdictCode` (records/vocabulary.py, in report order) and one decorated
function in the rule family it belongs to; the docs' verdict table is tested against `RULES`, so
code, meaning and reference cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal, get_args

from icetrace.ice.diagnosis.facts import Facts
from icetrace.ice.model import Stream
from icetrace.records.vocabulary import Severity, VerdictCode

Scope = Literal["capture", "stream"]


@dataclass
class Finding:
    """What a rule found: the sentence for the user and the frames that show it."""

    message: str
    frames: list[int] = field(default_factory=list)
    call_id: str | None = None  # capture-scope rules name their call; stream rules get the stream's
    severity: Severity | None = None  # when this finding hurt the call less than the rule's severity says


CaptureCheck = Callable[[Facts], Iterable[Finding]]
StreamCheck = Callable[[Facts, Stream], Iterable[Finding]]


@dataclass(frozen=True)
class VerdictRule:
    code: VerdictCode  # D1-D26 from the failure catalogue, or a descriptive name for plain observations
    severity: Severity
    meaning: str  # one line for the docs' verdict table
    reference: str  # the RFC or specification section the rule rests on
    scope: Scope
    check: CaptureCheck | StreamCheck
    # on a stream that connected anyway: severity says "this hurt the call", and it did not fail it
    connected_severity: Severity | None = None


RULES: dict[VerdictCode, VerdictRule] = {}
_REPORT_ORDER = {code: index for index, code in enumerate(get_args(VerdictCode))}


def rule(
    code: VerdictCode,
    severity: Severity,
    meaning: str,
    reference: str,
    scope: Scope = "stream",
    connected_severity: Severity | None = None,
) -> Callable[[Callable[..., Iterable[Finding]]], Callable[..., Iterable[Finding]]]:
    """Register the decorated function as the rule for `code`."""

    def register(check: Callable[..., Iterable[Finding]]) -> Callable[..., Iterable[Finding]]:
        if code in RULES:
            raise ValueError(f"verdict code {code} has two rules")
        if code not in _REPORT_ORDER:
            raise ValueError(f"verdict code {code} is not in VerdictCode")
        RULES[code] = VerdictRule(code, severity, meaning, reference, scope, check, connected_severity)
        return check

    return register


def in_report_order() -> list[VerdictRule]:
    """The registered rules in the order of `VerdictCode`, whichever family module registered first;
    a rule registered under another code (a test's probe) comes last."""
    return sorted(RULES.values(), key=lambda r: _REPORT_ORDER.get(r.code, len(_REPORT_ORDER)))
