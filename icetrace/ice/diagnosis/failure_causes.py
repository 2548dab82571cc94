"""Cause rules for calls that did not connect: mismatched credentials, a role conflict that never
resolved, a TURN server that refused its relays, and no path between the agents at all.

Tried after the rules for connected calls (causes.py, relay_causes.py), in the order of
`CauseCode`: credentials first (a 401 or a bad signature explains every failure after it), then
roles, then refused relays (the relay that would have carried the call was never there), and only
then the network.
"""

from __future__ import annotations

from icetrace.ice.diagnosis.cause_registry import Found, cause
from icetrace.ice.diagnosis.stream_evidence import NO_ANSWER, StreamEvidence, pair_words
from icetrace.ice.diagnosis.wording import cite
from icetrace.ice.integrity import transaction_key
from icetrace.ice.transactions import Transaction

TURN_AUTH_CODES = (401, 431, 436, 441)  # RFC 8656 §15, RFC 8489 §14.8: refused long-term credentials
TURN_REFUSALS = {
    403: "403 Forbidden: the server's policy refuses it (a peer address it may not reach, or a user it may not serve)",
    437: "437 Allocation Mismatch: the 5-tuple's allocation is not there",
    440: "440 Address Family not Supported",
    442: "442 Unsupported Transport Protocol",
    486: "486 Allocation Quota Reached: the user (or the server) holds all the allocations it may",
    508: "508 Insufficient Capacity: the server has no relayed address left",
}
REFUSABLE = ("allocate", "create-permission", "channel-bind")


def _failed(ev: StreamEvidence) -> bool:
    return not ev.connected and ev.stream.outcome != "connected"


@cause(
    "failed:credentials",
    "the two sides' credentials do not match: checks answered 400/401/431, check or answer signatures that do "
    "not verify with the signaled ice-pwd, or the TURN server refusing an agent's long-term credentials "
    "(401/431/436/441 to a signed request)",
    "the error responses, the checks or answers whose MESSAGE-INTEGRITY fails, the refused TURN requests",
    "RFC 8445 §7.3 and §7.2.2 (short-term credentials), RFC 8489 §9.2 (long-term credentials), RFC 8656 §15",
    "give both agents the credentials the other side checks: the ice-ufrag/ice-pwd actually signaled (a stale "
    "or rewritten offer), or the TURN user and password the server knows",
)
def _credentials(ev: StreamEvidence) -> Found | None:
    """Tested on real agents each side of the exchange: a wrong ice-pwd signaled, answered 401 by aioice
    (real/aioice-ice-credentials) and by libnice (real/libnice-ice-credentials); a wrong TURN password,
    refused 401 after the authenticated Allocate, with aioice (real/aioice-turn-credentials) and
    Chromium (real/chromium-turn-credentials)."""
    if not _failed(ev):
        return None
    refused = [(t, r) for t, _ in ev.facts.errors_by_stream.get(id(ev.stream), []) for r in t.responses]
    refused = [(t, r) for t, r in refused if r.error_code in (400, 401, 431)]
    if refused:
        t, r = refused[0]
        return Found(
            f"{len(refused)} check(s) were answered {r.error_code} {r.error_reason or ''}".rstrip()
            + f" ({t.src} -> {t.dst}, frame {ev.frame(r.frame)}): the answering agent does not accept the checks' "
            "USERNAME or MESSAGE-INTEGRITY, so every pair failed.",
            cite([r.frame for _, r in refused], [t.request.frame for t, _ in refused]),
        )
    bad = _bad_signatures(ev)
    if bad:
        return Found(
            f"{len(bad)} check(s) or answers carry a MESSAGE-INTEGRITY that does not verify with the signaled "
            f"ice-pwd (first frame {ev.frame(bad[0])}): the agents hold different credentials, so every pair failed.",
            cite(bad),
        )
    turn = _turn_auth_refused(ev)
    if turn:
        t = turn[0]
        code = t.response.error_code if t.response else None
        return Found(
            f"The TURN server {t.dst} refused the credentials of {t.src} ({code} to a signed {t.request.method}, "
            f"frame {ev.frame(t.response.frame if t.response else t.request.frame)}): no relay, and no other pair "
            "worked.",
            cite([u.response.frame for u in turn if u.response], [u.request.frame for u in turn]),
            f"Give {t.src.ip} the TURN user and password {t.dst} knows (check the realm and any expiry of "
            "time-limited credentials).",
        )
    return None


def _bad_signatures(ev: StreamEvidence) -> list[int]:
    integrity = ev.facts.rec.integrity
    out = []
    for t, _, _ in ev.checks:
        found = integrity.get(transaction_key(t))
        if found is None:
            continue
        if found.request == "bad":
            out.append(t.request.frame)
        if found.response == "bad" and t.response is not None:
            out.append(t.response.frame)
    return out


def _turn_auth_refused(ev: StreamEvidence) -> list[Transaction]:
    """Signed TURN requests refused for their credentials and never followed by a success."""
    out = []
    for agent in ev.agents:
        requests = ev.server_requests(agent)
        for t in requests:
            code = t.response.error_code if t.response else None
            if code not in TURN_AUTH_CODES or t.request.integrity == "absent" or t.request.nonce is None:
                continue
            later = [u for u in requests if u.dst == t.dst and u.request.time > t.request.time]
            if not any(u.outcome == "success" and u.request.method == t.request.method for u in later):
                out.append(t)
    return out


@cause(
    "failed:role-conflict",
    "checks were answered 487 (Role Conflict) and the conflict never resolved: no check succeeded after it",
    "the 487 responses and the checks they answered",
    "RFC 8445 §7.3.1.1 and §7.2.5.1 (role conflict and its repair)",
    "give the two agents opposite roles (one offerer controlling), or fix the agent that ignores 487 (it must "
    "switch role and recompute its tie-breaker's comparison)",
)
def _role_conflict(ev: StreamEvidence) -> Found | None:
    """Shown only by a built capture (synthetic/role_conflict): aioice, libnice and Chromium all repair a
    conflict as RFC 8445 §7.3.1.1 says (libnice made controlling on both sides answers one 487 and the
    other agent switches), so none leaves one unresolved in the lab."""
    if not _failed(ev):
        return None
    conflicts = [
        (t, r) for t, _ in ev.facts.errors_by_stream.get(id(ev.stream), []) for r in t.responses if r.error_code == 487
    ]
    if not conflicts:
        return None
    first = min(r.time for _, r in conflicts)
    if any(t.outcome == "success" and t.request.time > first for t, _, _ in ev.checks):
        return None
    roles = sorted({t.request.ice_role or "?" for t, _ in conflicts})
    return Found(
        f"{len(conflicts)} check(s) were answered 487 Role Conflict (first frame "
        f"{ev.frame(min(r.frame for _, r in conflicts))}), sent as {', '.join(roles)}, and no check succeeded "
        "after: the agents never settled who controls.",
        cite([r.frame for _, r in conflicts], [t.request.frame for t, _ in conflicts]),
    )


@cause(
    "failed:turn-refused",
    "the TURN server refused an agent's relay (Allocate, CreatePermission or ChannelBind answered 403, 437, "
    "440, 442, 486 or 508 and never granted later) and no direct pair worked",
    "the refusals",
    "RFC 8656 §7.2 and §9-§12 (allocation, permissions, channels), §15 (error codes)",
    "make the TURN server grant the relay: raise its quota or capacity (486/508), allow the peers' addresses "
    "(403), or fix the client's transport and address family (440/442)",
)
def _turn_refused(ev: StreamEvidence) -> Found | None:
    """Tested on 486 to the Allocate with aioice (real/aioice-turn-quota) and Chromium
    (real/chromium-turn-quota), and on 403 to the permissions with aioice, which binds channels
    (real/aioice-turn-forbidden), and libnice, which asks a CreatePermission per remote candidate and
    keeps sending Send indications to the refused peers (real/libnice-turn-forbidden)."""
    if not _failed(ev):
        return None
    refusals = []
    for agent in ev.agents:
        requests = ev.server_requests(agent)
        for t in requests:
            code = t.response.error_code if t.response else None
            if code not in TURN_REFUSALS or t.request.method not in REFUSABLE:
                continue
            if code == 437 and t.request.method != "allocate":
                continue
            if not _granted_later(t, requests):
                refusals.append(t)
    if not refusals:
        return None
    t = refusals[0]
    code = t.response.error_code if t.response and t.response.error_code else 0
    return Found(
        f"The TURN server {t.dst} refused {t.src}'s {t.request.method} with {TURN_REFUSALS[code]} (frame "
        f"{ev.frame(t.response.frame if t.response else t.request.frame)}): the relay that would have carried the "
        "call was never there, and no direct pair worked.",
        cite([u.response.frame for u in refusals if u.response], [u.request.frame for u in refusals]),
        _refusal_step(code, t),
    )


def _granted_later(t: Transaction, requests: list[Transaction]) -> bool:
    """Whether the server granted later what it refused: the same method, and for a permission or a
    channel the same peer (RFC 8656 §9: a permission is per peer IP address). Agents differ in which
    peers they ask for: libnice 0.1.21 a permission for every remote candidate, private host
    addresses included, which a server that refuses the public peers (403) may grant before or after
    (real/libnice-turn-forbidden); aioice a channel per relayed check (real/aioice-turn-forbidden)."""
    peer = _peer_ip(t)
    return any(
        u.outcome == "success" and u.request.method == t.request.method and _peer_ip(u) == peer
        for u in requests
        if u.dst == t.dst and u.request.time > t.request.time
    )


def _peer_ip(t: Transaction) -> str | None:
    peer = t.request.addresses.get("XOR-PEER-ADDRESS")
    return peer.ip if peer is not None else None


def _refusal_step(code: int, t: Transaction) -> str:
    if code in (486, 508):
        return f"Raise the allocation quota or capacity of the TURN server {t.dst}, or free its allocations."
    if code == 403:
        return f"Let the TURN server {t.dst} relay to the peers' addresses (its denied/allowed peer address rules)."
    if code == 437:
        return f"Let {t.src} allocate afresh from a new 5-tuple (a new local port) on {t.dst}."
    return f"Use a transport and address family the TURN server {t.dst} supports."


@cause(
    "failed:no-common-path",
    "every pair failed (unanswered or refused) while the agents' STUN/TURN servers kept answering: no path "
    "between the agents passes the firewalls and NATs",
    "the failed pairs' checks, the ICMP errors that refused them, a server's answer",
    "RFC 8445 §8.1.2 (ICE fails when every pair failed), §7.2.5.2 (check failures)",
    "open a path: let UDP between the agents' public addresses through, or give them a TURN server both can "
    "reach and both use",
)
def _no_common_path(ev: StreamEvidence) -> Found | None:
    if not _failed(ev):
        return None
    tried = [p for p in ev.pairs if p.checks_from_controlling + p.checks_from_controlled]
    if not tried or not (ev.stream.outcome == "failed" or all(ev.unanswered(p) for p in tried)):
        return None
    answers = [t for a in ev.agents for t in ev.server_requests(a) if t.response is not None]
    refused = [e for p in tried for e in p.icmp]
    servers = (
        f"while the STUN/TURN server kept answering (frame {ev.frame(answers[-1].response.frame)})"
        if answers and answers[-1].response
        else "(the capture holds no STUN/TURN traffic of theirs)"
    )
    icmp = f"; the network refused some ({refused[0].text}, frame {ev.frame(refused[0].frame)})" if refused else ""
    dead = [t for t, _, p in ev.checks if t.outcome in NO_ANSWER]
    verb = "failed" if ev.stream.outcome == "failed" else "went unanswered"
    return Found(
        f"Every one of {len(tried)} pair(s) {verb} {servers}{icmp}, e.g. {pair_words(tried[0])}: no path between the "
        "agents passes the firewalls and NATs.",
        cite([e.frame for e in refused], [t.request.frame for t in dead[:8]]),
    )
