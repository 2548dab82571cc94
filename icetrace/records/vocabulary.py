"""The closed vocabulary of icetrace's values: every word a record, a model object, a table
column or a JSON field may hold where the set of words is fixed. mypy holds the code to it; the
plots' legends and the docs are tested against it (`typing.get_args(Outcome)` lists the words)."""

from __future__ import annotations

from typing import Literal, get_args

from dissectors.checks import FingerprintResult
from dissectors.constants import Dialect

MessageKind = Literal["stun", "channeldata"]
RecordDialect = Dialect | Literal[""]  # "" for ChannelData, which has no STUN header
MessageClass = Literal["request", "success", "error", "indication"]
IntegrityPresence = Literal["absent", "unknown-key"]  # as extracted: present or not, never verified
IntegrityResult = Literal["ok", "bad", "unverified", "absent"]  # once ice/integrity.py knew the key

# a transaction: answered, answered by another message type, answered with a MESSAGE-INTEGRITY that
# fails with the signaled key, refused by the network (ICMP), stopped by its sender when it nominated
# another pair, given up by its sender's schedule, or still open when the capture ended
TransactionOutcome = Literal[
    "success", "error", "nonstandard", "integrity-failure", "icmp-error", "cancelled", "timeout", "unanswered"
]

Role = Literal["controlling", "controlled"]
PairState = Literal["succeeded", "failed", "in-progress"]
NominatedBy = Literal["use-candidate", "nomination", "final-offer"]
SelectedBy = NominatedBy | Literal["media", "in-use"]
SelectedBecause = Literal["nominated+media", "nominated-latest", "final-offer", "nominated", "media-only", "in-use"]
RttSide = Literal["sender", "middle"]

StreamOutcome = Literal["connected", "failed", "unknown"]
NominationStyle = Literal["regular", "aggressive", "final-offer", "none", "not-captured"]
Connectivity = Literal["DIRECT", "RELAY", "FAILED", ""]  # MS-QoE's Ice connectivity; "" when nothing was selected
Severity = Literal["error", "warning", "info"]

# Every verdict code, in report order: the closed vocabulary of `Verdict.code`. A test holds it
# equal to the registry (ice/diagnosis/registry.py), so a rule cannot be added or renamed here alone.
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
    "LITE-CHECKS",
    "FAILED",
    "CLIENT-REPORT",
    "D26",
    "AGENT-REPORT",
    "AGENT-DISAGREES",
]

# Every cause code, in the order the rules are tried: the closed vocabulary of `Cause.code`. A test
# holds it equal to the cause registry (ice/diagnosis/cause_registry.py). The family before the
# colon says how the call ended up (direct, relayed, failed, connected, unknown), the rest why.
CauseCode = Literal[
    "unknown:partial-capture",
    "failed:network-lost",
    "failed:consent-lost",
    "connected:no-media",
    "direct",
    "relayed:agent-choice",
    "relayed:udp-blocked",
    "relayed:policy",
    "relayed:symmetric-nat",
    "relayed:no-hairpin",
    "relayed:direct-blocked",
    "relayed:no-direct-path",
    "failed:credentials",
    "failed:role-conflict",
    "failed:turn-refused",
    "failed:no-common-path",
]


def words(vocabulary: object) -> tuple[str, ...]:
    """The words of a Literal type (of a union of them too), in declaration order."""
    out: list[str] = []
    for arg in get_args(vocabulary):
        out.extend(words(arg) if get_args(arg) else [arg])
    return tuple(out)


__all__ = [
    "CauseCode",
    "Connectivity",
    "Dialect",
    "FingerprintResult",
    "IntegrityPresence",
    "IntegrityResult",
    "MessageClass",
    "MessageKind",
    "NominatedBy",
    "NominationStyle",
    "PairState",
    "RecordDialect",
    "Role",
    "RttSide",
    "SelectedBecause",
    "SelectedBy",
    "Severity",
    "StreamOutcome",
    "TransactionOutcome",
    "VerdictCode",
    "words",
]
