"""Rules that set what the agents said about themselves beside the packets: a Lync client's SIP
diagnostics ([MS-SIPRE]) and a WebRTC agent's getStats() report (W3C webrtc-stats)."""

from __future__ import annotations

from collections.abc import Iterator

from icetrace.ice.diagnosis.facts import Facts
from icetrace.ice.diagnosis.registry import Finding, rule
from icetrace.ice.diagnosis.wording import cite
from icetrace.ice.model import Pair, Stream
from icetrace.ice.reconstruction import Reconstruction
from icetrace.records.endpoint import Endpoint
from icetrace.signaling.agent_report import AgentReport


@rule(
    "CLIENT-REPORT",
    "info",
    "what the client said: diagnostics code and reason, and per media its ICEWarn value (shown as sent: no "
    "citable table of its bits was found) and LocalSite/LocalMR/RemoteSite/RemoteMR",
    "[MS-SIPRE] ms-client-diagnostics, ms-diagnostics",
    scope="capture",
)
def _client_report(facts: Facts) -> Iterator[Finding]:
    signaling = facts.rec.signaling
    for call in signaling.calls if signaling else []:
        for report in call.client_reports:
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
def _client_disagrees(facts: Facts) -> Iterator[Finding]:
    by_call: dict[str | None, list[Stream]] = {}
    for s in facts.rec.streams:
        by_call.setdefault(s.call_id, []).append(s)
    signaling = facts.rec.signaling
    for call in signaling.calls if signaling else []:
        reports = call.client_reports
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
                    cite([f.first_frame for f in s.media_flows]),
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
def _agent_report(facts: Facts) -> Iterator[Finding]:
    signaling = facts.rec.signaling
    for report in signaling.agent_reports if signaling else []:
        streams = _report_streams(facts.rec, report)
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
def _agent_disagrees(facts: Facts) -> Iterator[Finding]:
    signaling = facts.rec.signaling
    for report in signaling.agent_reports if signaling else []:
        claimed = report.selected
        if claimed is None or claimed.local is None or claimed.remote is None:
            continue
        if claimed.local.address is None or claimed.remote.address is None:
            continue
        for stream in _report_streams(facts.rec, report):
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
                cite(*[p.frames for p in on_wire]),
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


@rule(
    "LITE-CHECKS",
    "info",
    "an agent that signaled a=ice-lite sent checks of its own: a lite agent only answers them, so who checks and "
    "who may nominate is not what the signaling says",
    "RFC 8445 §2.5 (lite agents do not check), §6.1.1 (a lite agent is controlled)",
)
def _lite_checks(facts: Facts, stream: Stream) -> Iterator[Finding]:
    checks = facts.checks_by_stream.get(id(stream), ())
    for agent in (stream.controlling, stream.controlled):
        if agent is None or not agent.ice_lite:
            continue
        mine = [c.transaction for c in checks if c.sender == agent.name]
        if not mine:
            continue
        roles = sorted({t.request.ice_role for t in mine if t.request.ice_role})
        nominating = sum(1 for t in mine if t.request.use_candidate or t.request.nomination is not None)
        text = (
            f"{agent.name} signaled a=ice-lite but sent {len(mine)} connectivity check(s) of its own"
            + (f" (as {'/'.join(roles)})" if roles else "")
            + ": a lite agent only answers checks (RFC 8445 §2.5), so the full agent's are not the only ones "
            "(consent checks, RFC 7675, look the same on the wire)"
        )
        if nominating:
            text += f"; {nominating} of them carried USE-CANDIDATE: it nominates as only a controlling full agent may"
        yield Finding(text + ".", cite([t.request.frame for t in mine]))
