"""Plain-words verdicts with evidence, from the failure catalogue (research §4, D1-D26)."""

from __future__ import annotations

from icetrace.ice.client_report import client_reports
from icetrace.ice.correlator import Reconstruction
from icetrace.ice.correlator import private_address as _private
from icetrace.ice.model import Pair, Stream, Verdict
from icetrace.ice.transactions import Transaction


def _frames(*groups: list[int], limit: int = 12) -> list[int]:
    out = sorted({f for g in groups for f in g if f})
    return out[:limit]


def diagnose(rec: Reconstruction) -> list[Verdict]:
    verdicts: list[Verdict] = []
    verdicts += _servers(rec)
    for stream in rec.streams:
        verdicts += _stream(rec, stream)
    verdicts += _client_said(rec)
    return verdicts


def _client_said(rec: Reconstruction) -> list[Verdict]:
    """The client's own diagnostics beside the packets' story, and D26 where the two disagree."""
    out: list[Verdict] = []
    for call in rec.signaling.calls if rec.signaling else []:
        reports = client_reports(call.diagnostics)
        if not reports:
            continue
        for report in reports:
            out.append(Verdict("CLIENT-REPORT", "info", f"The client reported: {report.text()}.", [], call.call_id))
        streams = [s for s in rec.streams if s.call_id == call.call_id]
        flowing = [s for s in streams if s.outcome == "connected" and s.media_flows]
        failed = [s for s in streams if s.outcome == "failed"]
        for report in reports:
            if report.says_connectivity_failed and flowing:
                s = flowing[0]
                out.append(
                    Verdict(
                        "D26",
                        "warning",
                        f'The client reported a connectivity failure ("{report.reason}", {report.message}), '
                        f"but the packets show {s.media or 'media'} flowing after ICE connected "
                        f"({sum(f.packets for f in s.media_flows)} packets).",
                        _frames([f.first_frame for f in s.media_flows]),
                        call.call_id,
                    )
                )
            quiet = [m for m in report.media if m.ice_warn is not None and _zero(m.ice_warn)]
            if quiet and failed:
                out.append(
                    Verdict(
                        "D26",
                        "warning",
                        f"The client reported no ICE warnings ({quiet[0].text()}, {report.message}), "
                        f"but every pair of {failed[0].media or 'the session'} failed in the packets.",
                        [],
                        call.call_id,
                    )
                )
    return out


def _zero(value: str) -> bool:
    try:
        return int(value, 0) == 0
    except ValueError:
        return False


def _servers(rec: Reconstruction) -> list[Verdict]:
    out: list[Verdict] = []
    turn_methods = ("allocate", "refresh", "create-permission", "channel-bind")
    server_tx = [
        t
        for t in rec.transactions
        if t.request.relay is None
        and ((t.request.method == "binding" and t.request.username is None) or t.request.method in turn_methods)
    ]
    # D1: requests to a STUN/TURN server retransmitted and never answered
    by_server: dict[str, list[Transaction]] = {}
    for t in server_tx:
        by_server.setdefault(str(t.dst), []).append(t)
    for server, txs in by_server.items():
        if all(t.response is None for t in txs) and any(t.outcome == "timeout" or t.retransmissions for t in txs):
            frames = _frames([r.frame for t in txs for r in t.requests])
            out.append(
                Verdict(
                    "D1",
                    "error",
                    f"STUN/TURN server {server} never answered {len(txs)} request(s) "
                    f"({sum(len(t.requests) for t in txs)} transmissions): unreachable or blocked.",
                    frames,
                )
            )
    # D2: no server-reflexive address although the client is on a private address
    clients = {t.src for t in server_tx if _private(t.src.ip)}
    mapped_clients = {m.base for m in rec.mappings}
    for client in sorted(clients - mapped_clients, key=str):
        txs = [t for t in server_tx if t.src == client]
        out.append(
            Verdict(
                "D2",
                "warning",
                f"{client} is a private address and got no server-reflexive mapping from any STUN/TURN server.",
                _frames([t.request.frame for t in txs]),
            )
        )
    # D4/D5/D6: TURN authentication and allocation errors
    for t in server_tx:
        resp = t.response
        if resp is None or resp.error_code is None:
            continue
        code = resp.error_code
        authenticated = t.request.integrity != "absent"
        if code in (401, 441, 436, 431) and authenticated:
            out.append(
                Verdict(
                    "D4",
                    "error",
                    f"TURN {t.request.method} from {t.src} was refused with {code} "
                    "even with credentials: wrong or expired TURN credentials.",
                    _frames([t.request.frame, resp.frame]),
                )
            )
        elif code == 438:
            retried = any(
                u.request.time > resp.time
                and u.src == t.src
                and u.dst == t.dst
                and u.request.method == t.request.method
                for u in server_tx
            )
            if not retried:
                out.append(
                    Verdict(
                        "D5",
                        "error",
                        f"{t.request.method} from {t.src} got 438 Stale Nonce and was not retried with the new nonce.",
                        _frames([t.request.frame, resp.frame]),
                    )
                )
        elif code == 437:
            out.append(
                Verdict(
                    "D6",
                    "error",
                    f"{t.request.method} from {t.src} got 437 Allocation Mismatch: the "
                    "5-tuple already had (or no longer has) an allocation.",
                    _frames([resp.frame]),
                )
            )
    # D19: relayed address handed out by the TURN server is private
    for alloc in rec.allocations:
        if alloc.relayed is not None and _private(alloc.relayed.ip) and not _private(alloc.server.ip):
            out.append(
                Verdict(
                    "D19",
                    "error",
                    f"TURN server {alloc.server} allocated relayed address "
                    f"{alloc.relayed}, a private address: its external address is misconfigured, peers "
                    "cannot reach it.",
                    [alloc.frame],
                )
            )
    return out


def _pair_text(p: Pair) -> str:
    return (
        f"{p.controlling.address} ({p.controlling.type}) <-> {p.controlled.address} ({p.controlled.type}) {p.transport}"
    )


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


def _stream(rec: Reconstruction, stream: Stream) -> list[Verdict]:
    out: list[Verdict] = []
    call = stream.call_id
    pairs = [p for c in stream.components for p in c.pairs]
    for p in pairs:
        checks = p.checks_from_controlling + p.checks_from_controlled
        if p.state == "failed" and checks and not p.errors:
            if p.checks_from_controlling and p.checks_from_controlled:
                text = f"Checks on {_pair_text(p)} went unanswered in both directions: the path is filtered."
            else:
                text = f"Checks on {_pair_text(p)} were never answered (no check came back the other way either)."
            if p.icmp:
                text += f" The network said why: {p.icmp[0].text} (frame {p.icmp[0].frame})."
            out.append(Verdict("D8", "warning", text, _frames(p.frames, [e.frame for e in p.icmp]), call))
        if (
            p.succeeded_from_controlling != p.succeeded_from_controlled
            and checks
            and (p.checks_from_controlling and p.checks_from_controlled)
        ):
            works = "controlling -> controlled" if p.succeeded_from_controlling else "controlled -> controlling"
            out.append(
                Verdict(
                    "D9",
                    "warning",
                    f"One-way connectivity on {_pair_text(p)}: only {works} checks succeeded.",
                    _frames(p.frames),
                    call,
                )
            )
        bad_auth = [e for e in p.errors if e in (400, 401, 431)]
        if bad_auth:
            out.append(
                Verdict(
                    "D11",
                    "error",
                    f"Checks on {_pair_text(p)} were rejected with {bad_auth[0]}: "
                    "ICE credentials do not match the signaled ones.",
                    _frames(p.frames),
                    call,
                )
            )
        if 487 in p.errors:
            out.append(
                Verdict(
                    "D12",
                    "warning",
                    f"Role conflict (487) on {_pair_text(p)}; {_who_switched(rec, p)}",
                    _frames(p.frames),
                    call,
                )
            )
    valid = [p for p in pairs if p.state == "succeeded"]
    nominated = [p for p in pairs if p.nominated]
    if valid and not nominated:
        out.append(
            Verdict(
                "D13",
                "error",
                f"{len(valid)} pair(s) succeeded but none was nominated: the controlling "
                "agent never sent USE-CANDIDATE nor a final offer.",
                _frames(*[p.frames for p in valid]),
                call,
            )
        )
    for component in stream.components:
        sel = component.selected
        if sel is None:
            continue
        better = [
            p
            for p in component.pairs
            if p is not sel
            and p.state == "succeeded"
            and p.priority is not None
            and sel.priority is not None
            and p.priority > sel.priority
        ]
        for p in better:
            out.append(
                Verdict(
                    "SHOULD-HAVE-WON",
                    "info",
                    f"Pair {_pair_text(p)} succeeded and has a higher priority than the selected {_pair_text(sel)}.",
                    _frames(p.frames),
                    call,
                )
            )
        if sel.is_relay:
            direct = [p for p in component.pairs if p.state == "succeeded" and not p.is_relay]
            if direct:
                out.append(
                    Verdict(
                        "D14",
                        "warning",
                        f"Relay pair {_pair_text(sel)} was selected although direct "
                        f"pair {_pair_text(direct[0])} succeeded.",
                        _frames(sel.frames, direct[0].frames),
                        call,
                    )
                )
            udp_failed = [p for p in component.pairs if p.transport == "udp" and p.state == "failed"]
            if (
                sel.transport == "tcp"
                and udp_failed
                and not any(p.transport == "udp" and p.state == "succeeded" for p in component.pairs)
            ):
                out.append(
                    Verdict(
                        "D16",
                        "warning",
                        f"All UDP pairs failed; media fell back to TCP relay {_pair_text(sel)}.",
                        _frames(sel.frames),
                        call,
                    )
                )
        # D25: ICE done, media not flowing on the selected pair
        if not any(sel.carries(f.src, f.dst) for f in stream.media_flows):
            if rec.media and not sel.relayed:
                out.append(
                    Verdict(
                        "D25",
                        "warning",
                        f"Pair {_pair_text(sel)} was selected but no RTP, RTCP, DTLS or other data was captured on it.",
                        _frames(sel.frames),
                        call,
                    )
                )
        else:
            directions = {(f.src, f.dst) for f in stream.media_flows}
            if len(directions) == 1:
                out.append(
                    Verdict(
                        "D25",
                        "warning",
                        f"Media on the selected pair {_pair_text(sel)} flows in one direction only.",
                        [stream.media_flows[0].first_frame],
                        call,
                    )
                )
    if stream.final_offer_ignored:
        out.append(
            Verdict(
                "SDP-REMOTE-CANDIDATES",
                "info",
                "The controlling agent's updated offer lists several "
                "remote candidates per component (RFC 5245 §15.2 wants one): it was not used as a "
                "nomination.",
                [],
                call,
            )
        )
    if stream.outcome == "failed":
        out.append(
            Verdict(
                "FAILED",
                "error",
                f"ICE failed for {stream.media or 'the session'}: every one of {len(pairs)} pair(s) failed.",
                _frames(*[p.frames for p in pairs]),
                call,
            )
        )
    return out
