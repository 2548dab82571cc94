"""Rules about the STUN/TURN servers and what the capture shows of them: silent servers, missing
mappings, refused or stale TURN credentials, misconfigured relays, vendor answers, probes sent to
peers, and responses whose requests the capture lacks."""

from __future__ import annotations

from collections.abc import Iterator

from icetrace.ice.addresses import private_address
from icetrace.ice.diagnosis.facts import Facts
from icetrace.ice.diagnosis.registry import Finding, rule
from icetrace.ice.diagnosis.wording import cite
from icetrace.ice.far_ends import looks_like_server_request
from icetrace.ice.transactions import Transaction
from icetrace.records.endpoint import Endpoint


def _error_responses(facts: Facts) -> Iterator[tuple[Transaction, int]]:
    for t in facts.server_transactions:
        if t.response is not None and t.response.error_code is not None:
            yield t, t.response.error_code


@rule(
    "D1",
    "error",
    "every request to a STUN/TURN server was retransmitted and never answered",
    "RFC 8489 §6.2.1 (retransmissions), RFC 8445 §5.1.1.2",
    scope="capture",
)
def _server_silent(facts: Facts) -> Iterator[Finding]:
    by_server: dict[str, list[Transaction]] = {}
    for t in facts.server_transactions:
        by_server.setdefault(str(t.dst), []).append(t)
    received = facts.addressed
    missing = facts.lacking
    for server, txs in by_server.items():
        if any((t.dst, t.src) in missing for t in txs):
            continue  # its answers travel a direction the capture lacks: the vantage notes say so
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
                cite([r.frame for t in txs for r in t.requests]),
            )


@rule(
    "D2",
    "warning",
    "a private client address got no server-reflexive mapping",
    "RFC 8445 §5.1.1.2 (server-reflexive candidates)",
    scope="capture",
)
def _no_mapping(facts: Facts) -> Iterator[Finding]:
    server_tx = facts.server_transactions
    clients = {t.src for t in server_tx if private_address(t.src.ip)}
    # a non-standard answer may carry the mapping in a vendor attribute: NONSTANDARD-ANSWER says so
    mapped_clients = {m.base for m in facts.rec.mappings} | {t.src for t in server_tx if t.nonstandard}
    # an allocation made before the capture started answered with the mapping (RFC 8656 §7.3)
    mapped_clients |= _allocated_before_capture(facts)
    mapped_clients |= {client for _server, client in facts.lacking}  # its answers are not in the capture
    by_client: dict[Endpoint, list[Transaction]] = {}
    for t in server_tx:
        by_client.setdefault(t.src, []).append(t)
    for client in sorted(clients - mapped_clients, key=str):
        txs = by_client[client]
        yield Finding(
            f"{client} is a private address and got no server-reflexive mapping from any STUN/TURN server.",
            cite([t.request.frame for t in txs]),
        )


_ON_AN_ALLOCATION = ("refresh", "channel-bind", "create-permission", "send")


def _allocated_before_capture(facts: Facts) -> set[Endpoint]:
    """TURN clients using an allocation whose Allocate the capture does not hold (relaying through
    it, refreshing it, binding channels on it)."""
    rec = facts.rec
    using = {r.relay.client for r in rec.records if r.relay is not None}
    using |= {r.src for r in rec.records if r.relay is None and r.method in _ON_AN_ALLOCATION and r.cls != "success"}
    return using - {a.client for a in rec.allocations}


@rule(
    "D4",
    "error",
    "an authenticated TURN request was refused with 401/431/436/441",
    "RFC 5766 §15 (TURN error codes), RFC 8489 §9.2 (long-term credentials)",
    scope="capture",
)
def _turn_auth_refused(facts: Facts) -> Iterator[Finding]:
    for t, code in _error_responses(facts):
        if code not in (401, 441, 436, 431) or t.request.integrity == "absent" or t.response is None:
            continue
        if code == 401 and t.request.nonce is None:
            continue  # RFC 8489 §9.2.4: no NONCE yet, so this 401 is the challenge that hands one out
        kind = "STUN" if t.request.method == "binding" else "TURN"
        yield Finding(
            f"{kind} {t.request.method} from {t.src} was refused with {code} "
            f"even with credentials: wrong or expired {kind} credentials.",
            cite([t.request.frame, t.response.frame]),
        )


@rule(
    "D5",
    "error",
    "438 Stale Nonce not followed by a retry",
    "RFC 8489 §9.2.5 (stale nonce)",
    scope="capture",
)
def _stale_nonce(facts: Facts) -> Iterator[Finding]:
    server_tx = facts.server_transactions
    for t, code in _error_responses(facts):
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
                cite([t.request.frame, resp.frame]),
            )


@rule(
    "D6",
    "error",
    "437 Allocation Mismatch",
    "RFC 5766 §6.2, §15 (437)",
    scope="capture",
)
def _allocation_mismatch(facts: Facts) -> Iterator[Finding]:
    for t, code in _error_responses(facts):
        if code == 437 and t.response is not None:
            yield Finding(
                f"{t.request.method} from {t.src} got 437 Allocation Mismatch: the "
                "5-tuple already had (or no longer has) an allocation.",
                cite([t.response.frame]),
            )


@rule(
    "D19",
    "error",
    "a TURN server on a public address allocated a private relayed address",
    "RFC 5766 §14.5 (XOR-RELAYED-ADDRESS), [MS-TURN] 2.2.2.1",
    scope="capture",
)
def _private_relay(facts: Facts) -> Iterator[Finding]:
    for alloc in facts.rec.allocations:
        if alloc.relayed is not None and private_address(alloc.relayed.ip) and not private_address(alloc.server.ip):
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
def _nonstandard_answers(facts: Facts) -> Iterator[Finding]:
    groups: dict[tuple[Endpoint, Endpoint, str, int], list[Transaction]] = {}
    for t in facts.rec.transactions:
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
            cite([r.frame for t in txs for r in t.requests + t.responses]),
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
def _peer_probes(facts: Facts) -> Iterator[Finding]:
    peers = facts.peers
    flows: dict[tuple[Endpoint, Endpoint], list[Transaction]] = {}
    for t in facts.rec.transactions:
        if looks_like_server_request(t) and t.request.method == "binding" and t.dst in peers:
            flows.setdefault((t.src, t.dst), []).append(t)
    records = facts.rec.records
    start = records[0].time if records else 0.0
    for (src, dst), txs in flows.items():
        evidence = peers[dst]
        seen = f" (frame {facts.rec.captures.frame_text(evidence.frame)})" if evidence.frame else ""
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
                cite([r.frame for t in series for r in t.requests + t.responses]),
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
def _orphan_responses(facts: Facts) -> Iterator[Finding]:
    for flow in facts.missing_directions:
        yield Finding(flow.text() + ".", cite([r.frame for r in flow.responses]))
