"""Rules about checks and pairs: unanswered and one-way pairs, and the errors and bad signatures
agents answered each other's checks with (RFC 8445 §7.2.5, §7.3)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from icetrace.ice.diagnosis.facts import Facts
from icetrace.ice.diagnosis.registry import Finding, rule
from icetrace.ice.diagnosis.stream_evidence import StreamEvidence
from icetrace.ice.diagnosis.wording import cite, pair_text, stream_pairs
from icetrace.ice.integrity import transaction_key
from icetrace.ice.model import Stream
from icetrace.ice.reconstruction import Reconstruction
from icetrace.ice.transactions import Transaction
from icetrace.records.endpoint import Endpoint
from icetrace.records.stun_record import StunRecord


@rule(
    "D8",
    "warning",
    "a pair's checks all went unanswered; info where that could not hurt the call: a pair between private "
    "addresses of different networks (it could never work), or any pair of a call that connected directly",
    "RFC 8445 §7.2.5.2 (check failures), §14.3 (RTO)",
)
def _unanswered_pair(facts: Facts, stream: Stream) -> Iterator[Finding]:
    missing = facts.lacking
    wire: dict[int, set[tuple[Endpoint, Endpoint]]] = {}  # each pair's checks as the wire carried them
    for check in facts.checks_by_stream.get(id(stream), ()) if missing else ():
        if check.pair is not None:
            wire.setdefault(id(check.pair), set()).update((r.src, r.dst) for r in check.transaction.requests)
    for p in stream_pairs(stream):
        checks = p.checks_from_controlling + p.checks_from_controlled
        ends = (p.controlling.address, p.controlled.address)
        if ends in missing or ends[::-1] in missing:
            continue  # the answers would travel a direction the capture lacks: ORPHAN-RESPONSES says so
        if any((dst, src) in missing for src, dst in wire.get(id(p), ())):
            continue  # relayed: the answers come back on the client's leg in the direction the capture lacks
        if p.state == "failed" and checks and not p.errors:
            if p.checks_from_controlling and p.checks_from_controlled:
                text = f"Checks on {pair_text(p)} went unanswered in both directions: the path is filtered."
            else:
                text = f"Checks on {pair_text(p)} were never answered (no check came back the other way either)."
                sender = p.controlling if p.checks_from_controlling else p.controlled
                if not p.relayed and not {a.ip for a in sender.wire_addresses} & facts.addressed:
                    text += (
                        f" The capture holds nothing addressed to {sender.address.ip} at all: if it was taken on one "
                        "direction of the link, the answers are not in it."
                    )
            if p.icmp:
                text += (
                    f" The network said why: {p.icmp[0].text} (frame {facts.rec.captures.frame_text(p.icmp[0].frame)})."
                )
            harmless = not StreamEvidence.workable(p) or _connected_directly(stream)
            if not StreamEvidence.workable(p):
                text += " Both ends are private addresses of different networks: this pair could never work."
            yield Finding(text, cite(p.frames, [e.frame for e in p.icmp]), severity="info" if harmless else None)


def _connected_directly(stream: Stream) -> bool:
    return stream.outcome == "connected" and stream.connectivity == "DIRECT"


@rule(
    "D9",
    "warning",
    "checks on a pair succeeded in one direction only",
    "RFC 8445 §7.2.5.3 (a pair is valid once both directions work)",
    connected_severity="info",
)
def _one_way(facts: Facts, stream: Stream) -> Iterator[Finding]:
    for p in stream_pairs(stream):
        if p.succeeded_from_controlling != p.succeeded_from_controlled and (
            p.checks_from_controlling and p.checks_from_controlled
        ):
            works = "controlling -> controlled" if p.succeeded_from_controlling else "controlled -> controlling"
            yield Finding(f"One-way connectivity on {pair_text(p)}: only {works} checks succeeded.", cite(p.frames))


@rule(
    "D11",
    "error",
    "an agent answered checks with 400/401/431: the checks' credentials are not the ones it expects; who sent "
    "the errors to whom",
    "RFC 8445 §7.3, RFC 8489 §9.1.3 (short-term credential checks)",
    connected_severity="warning",
)
def _bad_credentials(facts: Facts, stream: Stream) -> Iterator[Finding]:
    for refusal in _refusals(facts, stream, lambda code: code in (400, 401, 431)):
        yield Finding(
            f"{refusal.text()}: the checks' USERNAME or MESSAGE-INTEGRITY do not match the credentials "
            "the answering agent expects (stale or mismatched ICE ufrag/password).",
            refusal.frames(),
        )


@rule(
    "D11-INTEGRITY",
    "error",
    "a check's or its answer's MESSAGE-INTEGRITY does not verify with the signaled ice-pwd (credentials)",
    "RFC 8445 §7.2.2, §7.3 (short-term credentials), RFC 8489 §14.5 (MESSAGE-INTEGRITY)",
    connected_severity="warning",
)
def _integrity_fails(facts: Facts, stream: Stream) -> Iterator[Finding]:
    """Checks and answers are signed with the password of the agent receiving the check: a MAC that
    fails with that agent's signaled password means the two agents hold different credentials."""
    groups: dict[tuple[str, str | None, str], list[int]] = {}
    for check in facts.checks_by_stream.get(id(stream), ()):
        t, sender = check.transaction, check.sender
        found = facts.rec.integrity.get(transaction_key(t))
        if found is None:
            continue
        receiver = next((a.name for a in (stream.controlling, stream.controlled) if a and a.name != sender), "?")
        if found.request == "bad":
            groups.setdefault(("request", sender, receiver), []).append(t.request.frame)
        if found.response == "bad" and t.response is not None:
            groups.setdefault(("response", sender, receiver), []).append(t.response.frame)
    for (part, sender, receiver), frames in groups.items():
        if part == "request":
            text = (
                f"{len(frames)} check(s) from {sender} to {receiver} carry a MESSAGE-INTEGRITY that does not "
                f"verify with {receiver}'s signaled ice-pwd: {sender} signs with other credentials "
                "(a stale or rewritten offer, or an ICE restart the signaling does not show)."
            )
        else:
            text = (
                f"{len(frames)} answer(s) from {receiver} to {sender}'s checks are not signed with "
                f"{receiver}'s signaled ice-pwd: {receiver} answers with other credentials."
            )
        yield Finding(text, cite(frames))


@rule(
    "D12",
    "warning",
    "an agent answered checks with 487: a role conflict; who sent it to whom and whether the other switched",
    "RFC 8445 §7.3.1.1, §7.2.5.1 (role conflict)",
    connected_severity="info",
)
def _role_conflict(facts: Facts, stream: Stream) -> Iterator[Finding]:
    for refusal in _refusals(facts, stream, lambda code: code == 487):
        yield Finding(f"Role conflict: {refusal.text()}; {_who_switched(facts.rec, refusal)}", refusal.frames())


@rule(
    "CHECK-ERROR",
    "warning",
    "an agent answered checks with another error response (500 Server Error and the like); who sent it to whom",
    "RFC 8445 §7.2.5.2.4, §7.3.1 (an error response fails the pair); RFC 8489 §14.8 (error codes)",
    connected_severity="info",
)
def _check_error(facts: Facts, stream: Stream) -> Iterator[Finding]:
    for refusal in _refusals(facts, stream, lambda code: code not in (400, 401, 431, 487)):
        yield Finding(f"{refusal.text()}: an error response fails the check.", refusal.frames())


@dataclass
class _Refusal:
    """Error responses one agent sent to the other's checks, one error code, one direction."""

    responder: str
    sender: str
    code: int
    reason: str
    transactions: list[Transaction] = field(default_factory=list)
    responses: list[StunRecord] = field(default_factory=list)  # the error responses, one per transaction

    def text(self) -> str:
        flows = list(dict.fromkeys(f"{t.src} -> {t.dst}" for t in self.transactions))
        where = flows[0] if len(flows) == 1 else f"{len(flows)} address pairs: " + ", ".join(flows[:3])
        if len(flows) > 3:
            where += ", ..."
        also = sum(1 for t in self.transactions if any(r.cls == "success" for r in t.responses))
        after = f"; {also} of them it also answered with success" if also else ""
        return (
            f"{self.responder} answered {len(self.transactions)} check(s) from {self.sender} "
            f"with {self.code}{' ' + self.reason if self.reason else ''} ({where}{after})"
        )

    def frames(self) -> list[int]:
        requests = [t.request.frame for t in self.transactions]
        return cite([r.frame for r in self.responses], requests)


def _refusals(facts: Facts, stream: Stream, wanted: Callable[[int], bool]) -> list[_Refusal]:
    """Errors sent to checks of this stream, grouped by who sent them to whom and code (RFC 8445
    §7.3.1.1: a 487 comes from the agent that keeps its role; 401 from the one that cannot verify)."""
    out: dict[tuple[str, str, int], _Refusal] = {}
    for t, sender in facts.errors_by_stream.get(id(stream), []):
        # every error it sent counts, also one sent after a success to the same request
        for resp in t.responses:
            if resp.error_code is None or not wanted(resp.error_code):
                continue
            agents = [a for a in (stream.controlling, stream.controlled) if a is not None]
            others = [a.name for a in agents if a.name != sender]
            sender_name = sender if sender is not None else f"the agent at {t.src}"
            responder = others[0] if sender is not None and others else f"the agent at {t.dst}"
            key = (responder, sender_name, resp.error_code)
            if key not in out:
                out[key] = _Refusal(responder, sender_name, resp.error_code, resp.error_reason or "")
            out[key].transactions.append(t)
            out[key].responses.append(resp)
    return list(out.values())


def _who_switched(rec: Reconstruction, refusal: _Refusal) -> str:
    """RFC 8445 §7.2.5.1: the agent that got the 487 switches role; say whether its later checks did."""
    for t, resp in zip(refusal.transactions, refusal.responses):
        frame = rec.captures.frame_text(resp.frame)
        before = t.request.ice_role
        later = [
            u.request.ice_role
            for u in rec.transactions
            if u.src == t.src and u.request.time > resp.time and u.request.ice_role
        ]
        if later and later[-1] != before:
            return f"the agent at {t.src} got the 487 (frame {frame}) and switched from {before} to {later[-1]}."
        if later:
            return f"the agent at {t.src} got the 487 (frame {frame}) but kept sending as {before}."
        return f"the agent at {t.src} got the 487 (frame {frame}); no later check shows its new role."
    return "the agents resolved roles by tie-breaker."
