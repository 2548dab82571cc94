"""Plain-words verdicts with evidence, from the failure catalogue (research §4, D1-D26).

Each verdict code is one rule registered in `icetrace.ice.verdict_rules`: a function that yields
findings for the whole capture or for one stream. `diagnose` runs them in registration order
(capture rules once; consecutive stream rules stream by stream).
"""

from __future__ import annotations

from collections.abc import Iterator

from icetrace.ice.client_report import client_reports
from icetrace.ice.correlator import Reconstruction
from icetrace.ice.correlator import private_address as _private
from icetrace.ice.integrity import transaction_key
from icetrace.ice.model import Pair, Stream, Verdict
from icetrace.ice.transactions import Transaction
from icetrace.ice.verdict_rules import RULES, Finding, VerdictRule, rule
from icetrace.records.endpoint import Endpoint
from icetrace.signaling.agent_report import AgentReport

TURN_METHODS = ("allocate", "refresh", "create-permission", "channel-bind")


def _frames(*groups: list[int], limit: int = 12) -> list[int]:
    out = sorted({f for g in groups for f in g if f})
    return out[:limit]


def diagnose(rec: Reconstruction) -> list[Verdict]:
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
    return [Verdict(r.code, r.severity, f.message, f.frames, f.call_id or call) for f in found]


# -- STUN/TURN servers ---------------------------------------------------------------


def _server_transactions(rec: Reconstruction) -> list[Transaction]:
    return [
        t
        for t in rec.transactions
        if t.request.relay is None
        and ((t.request.method == "binding" and t.request.username is None) or t.request.method in TURN_METHODS)
    ]


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
    for server, txs in by_server.items():
        if all(t.response is None for t in txs) and any(t.outcome == "timeout" or t.retransmissions for t in txs):
            yield Finding(
                f"STUN/TURN server {server} never answered {len(txs)} request(s) "
                f"({sum(len(t.requests) for t in txs)} transmissions): unreachable or blocked.",
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
    mapped_clients = {m.base for m in rec.mappings}
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
        if code in (401, 441, 436, 431) and t.request.integrity != "absent" and t.response is not None:
            yield Finding(
                f"TURN {t.request.method} from {t.src} was refused with {code} "
                "even with credentials: wrong or expired TURN credentials.",
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
    for p in _pairs(stream):
        checks = p.checks_from_controlling + p.checks_from_controlled
        if p.state == "failed" and checks and not p.errors:
            if p.checks_from_controlling and p.checks_from_controlled:
                text = f"Checks on {_pair_text(p)} went unanswered in both directions: the path is filtered."
            else:
                text = f"Checks on {_pair_text(p)} were never answered (no check came back the other way either)."
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
    "checks answered with 400/401/431 (credentials)",
    "RFC 8445 §7.3, RFC 8489 §9.1.3 (short-term credential checks)",
)
def _bad_credentials(rec: Reconstruction, stream: Stream) -> Iterator[Finding]:
    for p in _pairs(stream):
        bad_auth = [e for e in p.errors if e in (400, 401, 431)]
        if bad_auth:
            yield Finding(
                f"Checks on {_pair_text(p)} were rejected with {bad_auth[0]}: "
                "ICE credentials do not match the signaled ones.",
                _frames(p.frames),
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
    groups: dict[tuple[str, str, str], list[int]] = {}
    for t, s, _pair, sender in rec.checks:
        found = rec.integrity.get(transaction_key(t))
        if s is not stream or found is None:
            continue
        receiver = next((a.name for a in (s.controlling, s.controlled) if a and a.name != sender), "?")
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
    "487 role conflict",
    "RFC 8445 §7.3.1.1, §7.2.5.1 (role conflict)",
)
def _role_conflict(rec: Reconstruction, stream: Stream) -> Iterator[Finding]:
    for p in _pairs(stream):
        if 487 in p.errors:
            yield Finding(f"Role conflict (487) on {_pair_text(p)}; {_who_switched(rec, p)}", _frames(p.frames))


def _who_switched(rec: Reconstruction, pair: Pair) -> str:
    """RFC 8445 §7.2.5.1: the agent that got the 487 switches role; say whether its later checks did."""
    ends = {pair.controlling.address, pair.controlled.address}
    for t in rec.transactions:
        resp = t.response
        if resp is None or resp.error_code != 487 or {t.src, t.dst} != ends:
            continue
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
    if valid and not any(p.nominated for p in pairs) and not by_media and not stream.ended_before_nomination:
        yield Finding(
            f"{len(valid)} pair(s) succeeded but none was nominated: the controlling "
            "agent never sent USE-CANDIDATE nor a final offer.",
            _frames(*[p.frames for p in valid]),
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
    for call in rec.signaling.calls if rec.signaling else []:
        reports = client_reports(call.diagnostics)
        streams = [s for s in rec.streams if s.call_id == call.call_id]
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
