"""Plain-words verdicts with evidence, from the failure catalogue (research §4, D1-D26).

Each verdict code is one rule registered in `icetrace.ice.verdict_rules`: a function that yields
findings for the whole capture or for one stream. `diagnose` runs them in registration order
(capture rules once; consecutive stream rules stream by stream).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from icetrace.ice.addresses import private_address as _private
from icetrace.ice.client_report import client_reports
from icetrace.ice.directions import lacking, missing_directions
from icetrace.ice.far_ends import looks_like_server_request, peer_evidence
from icetrace.ice.integrity import transaction_key
from icetrace.ice.midcall import consent_summary
from icetrace.ice.model import Pair, Stream, Verdict
from icetrace.ice.reconstruction import Check, Reconstruction
from icetrace.ice.transactions import Transaction
from icetrace.ice.verdict_rules import RULES, Finding, VerdictRule, rule
from icetrace.records.endpoint import Endpoint
from icetrace.records.stun_record import StunRecord
from icetrace.signaling.agent_report import AgentReport

T = TypeVar("T")


def _frames(*groups: list[int], limit: int = 12) -> list[int]:
    out = sorted({f for g in groups for f in g if f})
    return out[:limit]


_CACHE: dict[str, tuple[Reconstruction, Any]] = {}


def _cached(rec: Reconstruction, compute: Callable[[Reconstruction], T]) -> T:
    """What several rules (or one rule per stream) derive from the whole capture, computed once per
    diagnosis: per-stream rules over a busy capture's thousands of streams stay linear."""
    key = compute.__qualname__
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is rec:
        return cast(T, hit[1])
    value = compute(rec)
    _CACHE[key] = (rec, value)
    return value


def diagnose(rec: Reconstruction) -> list[Verdict]:
    try:
        return _diagnose(rec)
    finally:
        _CACHE.clear()


def _diagnose(rec: Reconstruction) -> list[Verdict]:
    verdicts: list[Verdict] = []
    rules = list(RULES.values())
    i = 0
    while i < len(rules):
        if rules[i].scope == "capture":
            verdicts += _run(rules[i], rec, None)
            i += 1
            continue
        j = i
        while j < len(rules) and rules[j].scope == "stream":
            j += 1
        for stream in rec.streams:
            for r in rules[i:j]:
                verdicts += _run(r, rec, stream)
        i = j
    return verdicts


def _run(r: VerdictRule, rec: Reconstruction, stream: Stream | None) -> list[Verdict]:
    found = r.check(rec) if stream is None else r.check(rec, stream)  # type: ignore[call-arg]
    call = stream.call_id if stream is not None else None
    return [
        Verdict(code=r.code, severity=r.severity, message=f.message, frames=f.frames, call_id=f.call_id or call)
        for f in found
    ]


# -- STUN/TURN servers ---------------------------------------------------------------


def _server_transactions(rec: Reconstruction) -> list[Transaction]:
    """Requests to STUN/TURN servers: server-shaped requests whose destination is no peer."""
    peers = _cached(rec, peer_evidence)
    return [t for t in rec.transactions if looks_like_server_request(t) and t.dst not in peers]


def _addressed(rec: Reconstruction) -> set[str]:
    """Every host the capture holds a packet to (STUN outside relays, or media): a capture of one
    direction of a link holds nothing to the hosts on the other side."""
    return {r.dst.ip for r in rec.records if r.relay is None} | {f.dst.ip for f in rec.media}


def _error_responses(rec: Reconstruction) -> Iterator[tuple[Transaction, int]]:
    for t in _server_transactions(rec):
        if t.response is not None and t.response.error_code is not None:
            yield t, t.response.error_code


@rule(
    "D1",
    "error",
    "every request to a STUN/TURN server was retransmitted and never answered",
    "RFC 8489 §6.2.1 (retransmissions), RFC 8445 §5.1.1.2",
    scope="capture",
)
def _server_silent(rec: Reconstruction) -> Iterator[Finding]:
    by_server: dict[str, list[Transaction]] = {}
    for t in _server_transactions(rec):
        by_server.setdefault(str(t.dst), []).append(t)
    received = _cached(rec, _addressed)
    for server, txs in by_server.items():
        if all(t.response is None for t in txs) and any(t.outcome == "timeout" or t.retransmissions for t in txs):
            deaf = sorted({t.src.ip for t in txs if t.src.ip not in received})
            caveat = (
                f" The capture holds nothing addressed to {', '.join(deaf)} at all: if it was taken on one "
                "direction of the link, the answers are not in it."
                if deaf
                else ""
            )
            yield Finding(
                f"STUN/TURN server {server} never answered {len(txs)} request(s) "
                f"({sum(len(t.requests) for t in txs)} transmissions): unreachable or blocked.{caveat}",
                _frames([r.frame for t in txs for r in t.requests]),
            )


@rule(
    "D2",
    "warning",
    "a private client address got no server-reflexive mapping",
    "RFC 8445 §5.1.1.2 (server-reflexive candidates)",
    scope="capture",
)
def _no_mapping(rec: Reconstruction) -> Iterator[Finding]:
    server_tx = _server_transactions(rec)
    clients = {t.src for t in server_tx if _private(t.src.ip)}
    # a non-standard answer may carry the mapping in a vendor attribute: NONSTANDARD-ANSWER says so
    mapped_clients = {m.base for m in rec.mappings} | {t.src for t in server_tx if t.nonstandard}
    for client in sorted(clients - mapped_clients, key=str):
        txs = [t for t in server_tx if t.src == client]
        yield Finding(
            f"{client} is a private address and got no server-reflexive mapping from any STUN/TURN server.",
            _frames([t.request.frame for t in txs]),
        )


@rule(
    "D4",
    "error",
    "an authenticated TURN request was refused with 401/431/436/441",
    "RFC 5766 §15 (TURN error codes), RFC 8489 §9.2 (long-term credentials)",
    scope="capture",
)
def _turn_auth_refused(rec: Reconstruction) -> Iterator[Finding]:
    for t, code in _error_responses(rec):
        if code not in (401, 441, 436, 431) or t.request.integrity == "absent" or t.response is None:
            continue
        if code == 401 and t.request.nonce is None:
            continue  # RFC 8489 §9.2.4: no NONCE yet, so this 401 is the challenge that hands one out
        kind = "STUN" if t.request.method == "binding" else "TURN"
        yield Finding(
            f"{kind} {t.request.method} from {t.src} was refused with {code} "
            f"even with credentials: wrong or expired {kind} credentials.",
            _frames([t.request.frame, t.response.frame]),
        )


@rule(
    "D5",
    "error",
    "438 Stale Nonce not followed by a retry",
    "RFC 8489 §9.2.5 (stale nonce)",
    scope="capture",
)
def _stale_nonce(rec: Reconstruction) -> Iterator[Finding]:
    server_tx = _server_transactions(rec)
    for t, code in _error_responses(rec):
        resp = t.response
        if code != 438 or resp is None:
            continue
        retried = any(
            u.request.time > resp.time and u.src == t.src and u.dst == t.dst and u.request.method == t.request.method
            for u in server_tx
        )
        if not retried:
            yield Finding(
                f"{t.request.method} from {t.src} got 438 Stale Nonce and was not retried with the new nonce.",
                _frames([t.request.frame, resp.frame]),
            )


@rule(
    "D6",
    "error",
    "437 Allocation Mismatch",
    "RFC 5766 §6.2, §15 (437)",
    scope="capture",
)
def _allocation_mismatch(rec: Reconstruction) -> Iterator[Finding]:
    for t, code in _error_responses(rec):
        if code == 437 and t.response is not None:
            yield Finding(
                f"{t.request.method} from {t.src} got 437 Allocation Mismatch: the "
                "5-tuple already had (or no longer has) an allocation.",
                _frames([t.response.frame]),
            )


@rule(
    "D19",
    "error",
    "a TURN server on a public address allocated a private relayed address",
    "RFC 5766 §14.5 (XOR-RELAYED-ADDRESS), [MS-TURN] 2.2.2.1",
    scope="capture",
)
def _private_relay(rec: Reconstruction) -> Iterator[Finding]:
    for alloc in rec.allocations:
        if alloc.relayed is not None and _private(alloc.relayed.ip) and not _private(alloc.server.ip):
            yield Finding(
                f"TURN server {alloc.server} allocated relayed address "
                f"{alloc.relayed}, a private address: its external address is misconfigured, peers "
                "cannot reach it.",
                [alloc.frame],
            )


@rule(
    "NONSTANDARD-ANSWER",
    "info",
    "a request was answered from its destination with its transaction id, but by a message that is no "
    "response of the request's method (a vendor dialect): counted as answered, not as a failure",
    "RFC 8489 §6.3 (a response echoes the request's method and transaction id)",
    scope="capture",
)
def _nonstandard_answers(rec: Reconstruction) -> Iterator[Finding]:
    groups: dict[tuple[Endpoint, Endpoint, str, int], list[Transaction]] = {}
    for t in rec.transactions:
        if t.nonstandard and t.response is not None:
            groups.setdefault((t.dst, t.src, t.request.method, t.response.type), []).append(t)
    for (server, client, method, msg_type), txs in groups.items():
        answer = txs[0].response
        assert answer is not None
        reading = f"{answer.method} {answer.cls}".strip() or "an unknown type"
        attrs = ", ".join(dict.fromkeys(answer.attributes)) or "no attributes"
        addresses = "; ".join(f"{name} {value}" for name, value in answer.addresses.items())
        carried = f"It carries {attrs}" + (f" (addresses: {addresses})" if addresses else "") + "."
        yield Finding(
            f"{server} answered {len(txs)} {method} request(s) from {client} "
            f"({sum(len(t.requests) for t in txs)} transmissions, {sum(len(t.responses) for t in txs)} answers) "
            f"with message type 0x{msg_type:04x} (read as {reading}), not a {method} response: "
            f"counted as answered. {carried}",
            _frames([r.frame for t in txs for r in t.requests + t.responses]),
        )


PROBE_GAP = 5.0  # seconds of silence that end one series of probes (RFC 7675 consent pace is 4-6 s)


@rule(
    "PEER-PROBES",
    "info",
    "Binding requests that are no ICE checks went straight to a peer (not to a STUN/TURN server): each "
    "series, how many were answered, and the evidence that the destination is a peer",
    "RFC 8489 §3 (Binding is also a keepalive/probe between peers), RFC 8656 §9 (permissions name peers)",
    scope="capture",
)
def _peer_probes(rec: Reconstruction) -> Iterator[Finding]:
    peers = _cached(rec, peer_evidence)
    flows: dict[tuple[Endpoint, Endpoint], list[Transaction]] = {}
    for t in rec.transactions:
        if looks_like_server_request(t) and t.request.method == "binding" and t.dst in peers:
            flows.setdefault((t.src, t.dst), []).append(t)
    start = rec.records[0].time if rec.records else 0.0
    for (src, dst), txs in flows.items():
        evidence = peers[dst]
        seen = f" (frame {evidence.frame})" if evidence.frame else ""
        for series in _series(txs):
            answered = [t for t in series if t.response is not None]
            sent = sum(len(t.requests) for t in series)
            outcome = (
                f"{len(answered)} answered" if answered else "none answered: the direct path to the peer stayed closed"
            )
            yield Finding(
                f"Peer probes: {src} sent {len(series)} Binding request(s) ({sent} transmissions) straight to "
                f"{dst} from {series[0].request.time - start:.1f} s to {series[-1].requests[-1].time - start:.1f} s; "
                f"{outcome}. {dst} is a peer, not a STUN/TURN server: {evidence.reason}{seen}.",
                _frames([r.frame for t in series for r in t.requests + t.responses]),
            )


def _series(txs: list[Transaction]) -> list[list[Transaction]]:
    out: list[list[Transaction]] = []
    for t in sorted(txs, key=lambda t: t.request.time):
        if out and t.request.time - out[-1][-1].requests[-1].time <= PROBE_GAP:
            out[-1].append(t)
        else:
            out.append([t])
    return out


@rule(
    "ORPHAN-RESPONSES",
    "info",
    "responses whose requests the capture does not hold: which direction of which flow the capture lacks",
    "RFC 8489 §6.3 (a response echoes its request's transaction id)",
    scope="capture",
)
def _orphan_responses(rec: Reconstruction) -> Iterator[Finding]:
    for flow in _cached(rec, missing_directions):
        yield Finding(flow.text() + ".", _frames([r.frame for r in flow.responses]))


# -- pairs -----------------------------------------------------------------------------


def _pair_text(p: Pair) -> str:
    return (
        f"{p.controlling.address} ({p.controlling.type}) <-> {p.controlled.address} ({p.controlled.type}) {p.transport}"
    )


def _pairs(stream: Stream) -> list[Pair]:
    return [p for c in stream.components for p in c.pairs]


@rule(
    "D8",
    "warning",
    "a pair's checks all went unanswered",
    "RFC 8445 §7.2.5.2 (check failures), §14.3 (RTO)",
)
def _unanswered_pair(rec: Reconstruction, stream: Stream) -> Iterator[Finding]:
    missing = _cached(rec, lacking)
    for p in _pairs(stream):
        checks = p.checks_from_controlling + p.checks_from_controlled
        ends = (p.controlling.address, p.controlled.address)
        if ends in missing or ends[::-1] in missing:
            continue  # the answers would travel a direction the capture lacks: ORPHAN-RESPONSES says so
        if p.state == "failed" and checks and not p.errors:
            if p.checks_from_controlling and p.checks_from_controlled:
                text = f"Checks on {_pair_text(p)} went unanswered in both directions: the path is filtered."
            else:
                text = f"Checks on {_pair_text(p)} were never answered (no check came back the other way either)."
                sender = p.controlling if p.checks_from_controlling else p.controlled
                if not p.relayed and not {a.ip for a in sender.wire_addresses} & _cached(rec, _addressed):
                    text += (
                        f" The capture holds nothing addressed to {sender.address.ip} at all: if it was taken on one "
                        "direction of the link, the answers are not in it."
                    )
            if p.icmp:
                text += f" The network said why: {p.icmp[0].text} (frame {p.icmp[0].frame})."
            yield Finding(text, _frames(p.frames, [e.frame for e in p.icmp]))


@rule(
    "D9",
    "warning",
    "checks on a pair succeeded in one direction only",
    "RFC 8445 §7.2.5.3 (a pair is valid once both directions work)",
)
def _one_way(rec: Reconstruction, stream: Stream) -> Iterator[Finding]:
    for p in _pairs(stream):
        if p.succeeded_from_controlling != p.succeeded_from_controlled and (
            p.checks_from_controlling and p.checks_from_controlled
        ):
            works = "controlling -> controlled" if p.succeeded_from_controlling else "controlled -> controlling"
            yield Finding(f"One-way connectivity on {_pair_text(p)}: only {works} checks succeeded.", _frames(p.frames))


@rule(
    "D11",
    "error",
    "an agent answered checks with 400/401/431: the checks' credentials are not the ones it expects; who sent "
    "the errors to whom",
    "RFC 8445 §7.3, RFC 8489 §9.1.3 (short-term credential checks)",
)
def _bad_credentials(rec: Reconstruction, stream: Stream) -> Iterator[Finding]:
    for refusal in _refusals(rec, stream, lambda code: code in (400, 401, 431)):
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
)
def _integrity_fails(rec: Reconstruction, stream: Stream) -> Iterator[Finding]:
    """Checks and answers are signed with the password of the agent receiving the check: a MAC that
    fails with that agent's signaled password means the two agents hold different credentials."""
    groups: dict[tuple[str, str | None, str], list[int]] = {}
    for check in _cached(rec, _checks_by_stream).get(id(stream), ()):
        t, sender = check.transaction, check.sender
        found = rec.integrity.get(transaction_key(t))
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
        yield Finding(text, _frames(frames))


@rule(
    "D12",
    "warning",
    "an agent answered checks with 487: a role conflict; who sent it to whom and whether the other switched",
    "RFC 8445 §7.3.1.1, §7.2.5.1 (role conflict)",
)
def _role_conflict(rec: Reconstruction, stream: Stream) -> Iterator[Finding]:
    for refusal in _refusals(rec, stream, lambda code: code == 487):
        yield Finding(f"Role conflict: {refusal.text()}; {_who_switched(rec, refusal)}", refusal.frames())


@rule(
    "CHECK-ERROR",
    "warning",
    "an agent answered checks with another error response (500 Server Error and the like); who sent it to whom",
    "RFC 8445 §7.2.5.2.4, §7.3.1 (an error response fails the pair); RFC 8489 §14.8 (error codes)",
)
def _check_error(rec: Reconstruction, stream: Stream) -> Iterator[Finding]:
    for refusal in _refusals(rec, stream, lambda code: code not in (400, 401, 431, 487)):
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
        return _frames([r.frame for r in self.responses], requests)


def _checks_by_stream(rec: Reconstruction) -> dict[int, list[Check]]:
    """The checks of each stream, by the stream's id: per-stream rules read only their own."""
    out: dict[int, list[Check]] = {}
    for check in rec.checks:
        if check.stream is not None:
            out.setdefault(id(check.stream), []).append(check)
    return out


def _errors_by_stream(rec: Reconstruction) -> dict[int, list[tuple[Transaction, str | None]]]:
    """Checks that got an error response, by the id of their stream."""
    out: dict[int, list[tuple[Transaction, str | None]]] = {}
    for check in rec.checks:
        t, stream = check.transaction, check.stream
        if stream is not None and any(r.error_code is not None for r in t.responses):
            out.setdefault(id(stream), []).append((t, check.sender))
    return out


def _refusals(rec: Reconstruction, stream: Stream, wanted: Callable[[int], bool]) -> list[_Refusal]:
    """Errors sent to checks of this stream, grouped by who sent them to whom and code (RFC 8445
    §7.3.1.1: a 487 comes from the agent that keeps its role; 401 from the one that cannot verify)."""
    out: dict[tuple[str, str, int], _Refusal] = {}
    for t, sender in _cached(rec, _errors_by_stream).get(id(stream), []):
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
        before = t.request.ice_role
        later = [
            u.request.ice_role
            for u in rec.transactions
            if u.src == t.src and u.request.time > resp.time and u.request.ice_role
        ]
        if later and later[-1] != before:
            return f"the agent at {t.src} got the 487 (frame {resp.frame}) and switched from {before} to {later[-1]}."
        if later:
            return f"the agent at {t.src} got the 487 (frame {resp.frame}) but kept sending as {before}."
        return f"the agent at {t.src} got the 487 (frame {resp.frame}); no later check shows its new role."
    return "the agents resolved roles by tie-breaker."


@rule(
    "D13",
    "error",
    "pairs succeeded but nothing was nominated, no media followed, and the capture went on long enough "
    "for a nomination to show",
    "RFC 8445 §8.1.1 (nomination), RFC 5245 §9.1.2.2 (updated offer)",
)
def _not_nominated(rec: Reconstruction, stream: Stream) -> Iterator[Finding]:
    """Media after a success proves the agents connected (the selection says "media-only"), and a
    capture that stops soon after the checks succeeded may simply miss the nomination: the vantage
    notes say so. Neither is an error."""
    pairs = _pairs(stream)
    valid = [p for p in pairs if p.state == "succeeded"]
    by_media = any(c.selected is not None and c.selected.selected_because == "media-only" for c in stream.components)
    if (
        valid
        and not any(p.nominated for p in pairs)
        and not by_media
        and not stream.ended_before_nomination
        and not stream.mid_call
    ):
        yield Finding(
            f"{len(valid)} pair(s) succeeded but none was nominated: the controlling "
            "agent never sent USE-CANDIDATE nor a final offer.",
            _frames(*[p.frames for p in valid]),
        )


@rule(
    "MID-CALL",
    "info",
    "the capture starts after ICE completed (no gathering, no signaling, no nomination; consent checks and "
    "media on one pair): the pair in use is taken as selected",
    "RFC 7675 §5.1 (consent freshness on the selected pair), RFC 8445 §8 (nomination ends checking)",
)
def _mid_call(rec: Reconstruction, stream: Stream) -> Iterator[Finding]:
    if not stream.mid_call:
        return
    count, gap = consent_summary(rec, stream)
    pace = f", every {gap:.1f} s" if gap is not None else ""
    chosen = [c.selected for c in stream.components if c.selected is not None]
    packets = sum(f.packets for f in stream.media_flows)
    media = (
        f" and {packets} media packets from frame {min(f.first_frame for f in stream.media_flows)}"
        if stream.media_flows
        else ""
    )
    yield Finding(
        "The capture starts after ICE completed: it holds no candidate gathering, no signaling and no "
        f"nomination, only {count} consent check(s){pace} on {', '.join(_pair_text(p) for p in chosen)}{media}. "
        "That pair is the one in use; how it was chosen is not in the capture.",
        _frames(*[p.frames for p in chosen]),
    )


@rule(
    "SHOULD-HAVE-WON",
    "info",
    "a succeeded pair with a higher priority than the selected one",
    "RFC 8445 §6.1.2.3 (pair priority), §8.1.1",
)
def _should_have_won(rec: Reconstruction, stream: Stream) -> Iterator[Finding]:
    for component in stream.components:
        sel = component.selected
        if sel is None or sel.priority is None:
            continue
        for p in component.pairs:
            if p is not sel and p.state == "succeeded" and p.priority is not None and p.priority > sel.priority:
                yield Finding(
                    f"Pair {_pair_text(p)} succeeded and has a higher priority than the selected {_pair_text(sel)}.",
                    _frames(p.frames),
                )


@rule(
    "D14",
    "warning",
    "a relay pair was selected although a direct pair succeeded",
    "RFC 8445 §5.1.2.2 (type preferences: relayed lowest)",
)
def _relay_over_direct(rec: Reconstruction, stream: Stream) -> Iterator[Finding]:
    for component in stream.components:
        sel = component.selected
        if sel is None or not sel.is_relay:
            continue
        direct = [p for p in component.pairs if p.state == "succeeded" and not p.is_relay]
        if direct:
            yield Finding(
                f"Relay pair {_pair_text(sel)} was selected although direct pair {_pair_text(direct[0])} succeeded.",
                _frames(sel.frames, direct[0].frames),
            )


@rule(
    "D16",
    "warning",
    "all UDP pairs failed and a TCP relay pair was selected",
    "RFC 6544 (ICE-TCP), RFC 6062 (TURN over TCP)",
)
def _tcp_fallback(rec: Reconstruction, stream: Stream) -> Iterator[Finding]:
    for component in stream.components:
        sel = component.selected
        if sel is None or not sel.is_relay or sel.transport != "tcp":
            continue
        udp = [p for p in component.pairs if p.transport == "udp"]
        if any(p.state == "failed" for p in udp) and not any(p.state == "succeeded" for p in udp):
            yield Finding(f"All UDP pairs failed; media fell back to TCP relay {_pair_text(sel)}.", _frames(sel.frames))


@rule(
    "D25",
    "warning",
    "nothing captured on the selected pair, or media in one direction only",
    "RFC 8445 §12 (media on the selected pair)",
)
def _media_on_selected(rec: Reconstruction, stream: Stream) -> Iterator[Finding]:
    for component in stream.components:
        sel = component.selected
        if sel is None:
            continue
        on_sel = [f for f in stream.media_flows if sel.carries(f.src, f.dst)]
        if not on_sel:
            # a relayed pair's media is seen only where the TURN-wrapped data is: judge it when
            # the capture holds relayed data at all
            if (rec.media and not sel.relayed) or (sel.relayed and rec.relayed_media):
                text = f"Pair {_pair_text(sel)} was selected but no RTP, RTCP, DTLS or other data was captured on it."
                elsewhere = [
                    p
                    for p in component.pairs
                    if p is not sel and any(p.carries(f.src, f.dst) for f in [*rec.media, *rec.relayed_media])
                ]
                if elsewhere:
                    text += f" Media flowed on {_pair_text(elsewhere[0])} instead."
                yield Finding(text, _frames(sel.frames))
        elif len({(f.src, f.dst) for f in on_sel}) == 1:
            yield Finding(
                f"Media on the selected pair {_pair_text(sel)} flows in one direction only.",
                [on_sel[0].first_frame],
            )


@rule(
    "SDP-REMOTE-CANDIDATES",
    "info",
    "the updated offer lists several remote candidates per component, so it is not read as a nomination",
    "RFC 5245 §9.1.2.2, §15.2 (a=remote-candidates)",
)
def _remote_candidates_list(rec: Reconstruction, stream: Stream) -> Iterator[Finding]:
    if stream.final_offer_ignored:
        yield Finding(
            "The controlling agent's updated offer lists several "
            "remote candidates per component (RFC 5245 §15.2 wants one): it was not used as a "
            "nomination."
        )


@rule(
    "FAILED",
    "error",
    "every pair of a stream failed",
    "RFC 8445 §8.1.2 (ICE state Failed)",
)
def _stream_failed(rec: Reconstruction, stream: Stream) -> Iterator[Finding]:
    if stream.outcome == "failed":
        pairs = _pairs(stream)
        yield Finding(
            f"ICE failed for {stream.media or 'the session'}: every one of {len(pairs)} pair(s) failed.",
            _frames(*[p.frames for p in pairs]),
        )


# -- what the client said ----------------------------------------------------------------


@rule(
    "CLIENT-REPORT",
    "info",
    "what the client said: diagnostics code and reason, and per media its ICEWarn value (shown as sent: no "
    "citable table of its bits was found) and LocalSite/LocalMR/RemoteSite/RemoteMR",
    "[MS-SIPRE] ms-client-diagnostics, ms-diagnostics",
    scope="capture",
)
def _client_report(rec: Reconstruction) -> Iterator[Finding]:
    for call in rec.signaling.calls if rec.signaling else []:
        for report in client_reports(call.diagnostics):
            yield Finding(f"The client reported: {report.text()}.", [], call.call_id)


@rule(
    "D26",
    "warning",
    "the client's own diagnostics disagree with the packets: its `ms-client-diagnostics` reason says media "
    "connectivity failed while media flowed after ICE connected, or its `*MediaDebug` reports `ICEWarn=0x0` "
    "for a stream whose every pair failed",
    "[MS-SIPRE] ms-client-diagnostics; [MS-QoE] connectivity",
    scope="capture",
)
def _client_disagrees(rec: Reconstruction) -> Iterator[Finding]:
    by_call: dict[str | None, list[Stream]] = {}
    for s in rec.streams:
        by_call.setdefault(s.call_id, []).append(s)
    for call in rec.signaling.calls if rec.signaling else []:
        reports = client_reports(call.diagnostics)
        streams = by_call.get(call.call_id, [])
        flowing = [s for s in streams if s.outcome == "connected" and s.media_flows]
        failed = [s for s in streams if s.outcome == "failed"]
        for report in reports:
            if report.says_connectivity_failed and flowing:
                s = flowing[0]
                yield Finding(
                    f'The client reported a connectivity failure ("{report.reason}", {report.message}), '
                    f"but the packets show {s.media or 'media'} flowing after ICE connected "
                    f"({sum(f.packets for f in s.media_flows)} packets).",
                    _frames([f.first_frame for f in s.media_flows]),
                    call.call_id,
                )
            quiet = [m for m in report.media if m.ice_warn is not None and _zero(m.ice_warn)]
            if quiet and failed:
                yield Finding(
                    f"The client reported no ICE warnings ({quiet[0].text()}, {report.message}), "
                    f"but every pair of {failed[0].media or 'the session'} failed in the packets.",
                    [],
                    call.call_id,
                )


def _zero(value: str) -> bool:
    try:
        return int(value, 0) == 0
    except ValueError:
        return False


# -- what a WebRTC agent reported (getStats, webrtc-internals) ---------------------------------


def _report_streams(rec: Reconstruction, report: AgentReport) -> list[Stream]:
    """The streams whose agents carry the report's ufrags (its local one at least)."""
    out = []
    for stream in rec.streams:
        ufrags = {a.ufrag for a in (stream.controlling, stream.controlled) if a is not None}
        if report.local_ufrag is not None and report.local_ufrag in ufrags:
            out.append(stream)
    return out


def _selected_of(stream: Stream) -> Pair | None:
    return next((c.selected for c in stream.components if c.selected is not None), None)


@rule(
    "AGENT-REPORT",
    "info",
    "what a WebRTC agent reported about its own session (getStats() export or webrtc-internals dump given "
    "with --log): its selected candidate pair and how many pairs it tried",
    "W3C webrtc-stats RTCIceCandidatePairStats, RTCTransportStats.selectedCandidatePairId",
    scope="capture",
)
def _agent_report(rec: Reconstruction) -> Iterator[Finding]:
    for report in rec.signaling.agent_reports if rec.signaling else []:
        streams = _report_streams(rec, report)
        call = streams[0].call_id if streams else None
        selected = report.selected
        succeeded = sum(1 for p in report.pairs if p.state == "succeeded")
        said = f"selected pair {selected.text()}" if selected else "no selected pair"
        yield Finding(
            f"The agent reported ({report.kind}, {report.source}, ufrag {report.local_ufrag}): {said}; "
            f"{len(report.pairs)} pair(s), {succeeded} succeeded.",
            [],
            call,
        )


@rule(
    "AGENT-DISAGREES",
    "warning",
    "a WebRTC agent's own report disagrees with the packets: the pair it says it selected is not the one "
    "the packets select, or it reports a selected pair where the packets show none succeed",
    "W3C webrtc-stats RTCIceCandidatePairStats; RFC 8445 §8.1.1",
    scope="capture",
)
def _agent_disagrees(rec: Reconstruction) -> Iterator[Finding]:
    for report in rec.signaling.agent_reports if rec.signaling else []:
        claimed = report.selected
        if claimed is None or claimed.local is None or claimed.remote is None:
            continue
        if claimed.local.address is None or claimed.remote.address is None:
            continue
        for stream in _report_streams(rec, report):
            pairs = [p for c in stream.components for p in c.pairs]
            if not pairs:
                continue  # nothing on the wire to set the report beside
            seen = _selected_of(stream)
            locals_ = _bases(stream, claimed.local.address)
            remotes = _bases(stream, claimed.remote.address)
            if seen is not None and any(seen.carries(a, b) for a in locals_ for b in remotes):
                continue
            on_wire = [p for p in pairs if any(p.carries(a, b) for a in locals_ for b in remotes)]
            if seen is None:
                story = "the packets select no pair"
            else:
                story = (
                    f"the packets select {seen.controlling.address} ({seen.controlling.type}) <-> "
                    f"{seen.controlled.address} ({seen.controlled.type})"
                )
            if on_wire:
                story += f"; its pair is in the capture as {on_wire[0].state}"
            else:
                story += "; its pair never appears in the capture"
            yield Finding(
                f"The agent ({report.source}) reports the selected pair {claimed.text()}, but {story}.",
                _frames(*[p.frames for p in on_wire]),
                stream.call_id,
            )


def _bases(stream: Stream, address: Endpoint) -> set[Endpoint]:
    """The address and, for a signaled server-reflexive candidate, its base: a LAN tap sees checks
    from the base (RFC 8445 §6.1.2.4) while the agent reports the srflx address."""
    out = {address}
    for agent in (stream.controlling, stream.controlled):
        for c in agent.candidates if agent else []:
            if c.address == address and c.type == "srflx" and c.related is not None:
                out.add(c.related)
    return out
