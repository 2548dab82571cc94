"""The readable report: per call/stream/component, candidates, pair table, selection, verdicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from icetrace.analysis import Analysis
from icetrace.ice.allocations import allocation_attempts
from icetrace.ice.model import SELECTED_BECAUSE, Agent, Component, Pair, Stream
from icetrace.report.colour import Painter, wanted
from icetrace.report.hints import no_stun_hint


def _cand(agent: Agent | None) -> list[str]:
    if agent is None:
        return []
    lines = [f"    {agent.name} ({agent.role or 'role unknown'}) ufrag={agent.ufrag}"]
    for c in sorted(agent.candidates, key=lambda c: (c.component or 0, -(c.priority or 0))):
        prio = "" if c.priority is None else str(c.priority)
        origin = "" if c.origin == "sdp" else f" [{c.origin}]"
        if c.check_priority is not None and c.priority is None:
            origin += f" checks carried PRIORITY {c.check_priority}"
        lines.append(f"      {c.component or '-'} {c.transport:3} {c.type:7} {str(c.address):>28} {prio:>11}{origin}")
    return lines


def _direction(checks: int, answers: int, requests: int) -> str:
    """An agent's checks on a pair: answered/checks, and transmissions when it retransmitted."""
    text = f"{answers}/{checks}"
    return text + (f"+{requests - checks}" if requests > checks else "")


def _pair_line(p: Pair, selected: bool, paint: Painter | None = None) -> str:
    paint = paint or Painter(False)
    mark = paint.paint("*", "bold") if selected else ("N" if p.nominated else " ")
    rtt = "" if p.rtt_ms is None else f"{p.rtt_ms:.1f} {'ctl' if p.rtt_of == 'controlling' else 'ctd'}"
    prio = "" if p.priority is None else str(p.priority)
    ctl = _direction(p.checks_from_controlling, p.answers_to_controlling, p.requests_by_controlling)
    ctd = _direction(p.checks_from_controlled, p.answers_to_controlled, p.requests_by_controlled)
    return (
        f"    {mark} {str(p.controlling.address):>24} {p.controlling.type:7} -> {str(p.controlled.address):>24} "
        f"{p.controlled.type:7} {p.transport:3} {paint.state(f'{p.state:11}', p.state)} {ctl:>8} {ctd:>8} "
        f"{rtt:>10} {prio:>20}"
    )


def write_report(analysis: Analysis, out: TextIO, colour: bool | None = None) -> None:
    """`colour`: None decides by `out` (a terminal, and NO_COLOR unset)."""
    paint = Painter(wanted(out) if colour is None else colour)
    rec = analysis.reconstruction
    out.write(f"icetrace report: {', '.join(analysis.sources) or 'records'}\n")
    attempts = allocation_attempts(rec)
    copies = analysis.duplicate_messages
    # the count `icetrace messages` lists: copies another capture also held are in it
    out.write(
        f"  {len(rec.records) + rec.relayed_messages + copies} STUN/TURN messages"
        + (f" ({copies} also seen by another capture, counted once)" if copies else "")
        + f", {len(rec.transactions)} transactions, "
        f"{len(attempts)} TURN allocation(s), {len(analysis.reconstruction.streams)} ICE session(s)\n"
    )
    hint = no_stun_hint(rec)
    if hint:
        out.write(f"  {hint}\n")
    for note in rec.vantage:
        out.write(f"  vantage: {note}\n")
    names = rec.captures
    for attempt in attempts:
        out.write(f"  {attempt.text(names.frame_text)}\n")
    for m in rec.nat_mappings:
        out.write(f"  NAT mapping {m.inside} -> {m.outside} (one check seen on both sides)\n")
    for s in analysis.reconstruction.streams:
        _write_stream(s, out, paint, names.frame_text)
    out.write("\nverdicts:\n" if analysis.verdict_list else "\nverdicts: none\n")
    for v in analysis.verdict_list:
        frames = names.frames_text(v.frames[:8])
        head = paint.severity(f"[{v.code}] {v.severity}:", v.severity)
        out.write(f"  {head} {v.message}" + (f" (frames {frames})" if frames else "") + "\n")
    for problem in analysis.problems[:20]:  # before the key below, so the report ends with it
        out.write(f"  input problem: {problem}\n")
    if any(c.pairs for s in analysis.reconstruction.streams for c in s.components):
        out.write(
            "\nchk: answered/checks sent by the controlling (ctl) and controlled (ctd) agent, +retransmissions;"
            " rtt: round trip of the checks leaving the capture's side, followed by whose checks they were"
            " (ctl or ctd).\n"
        )


def _write_stream(s: Stream, out: TextIO, paint: Painter, frame_text: Callable[[int], str]) -> None:
    title = f"call {s.call_id} stream {s.index} ({s.media})" if s.call_id else "session (no signaling)"
    via = f" ({s.connectivity})" if s.connectivity and s.connectivity != "FAILED" else ""
    outcome = paint.outcome(s.outcome.upper())
    out.write(f"\n{title}: outcome {outcome}{via}, nomination {s.nomination_style}\n")
    out.write("  candidates:\n")
    for line in _cand(s.controlling) + _cand(s.controlled):
        out.write(line + "\n")
    for comp in s.components:
        _write_component(comp, out, paint)
    for f in s.media_flows:
        out.write(f"  media {f.kind} {f.src} -> {f.dst}: {f.packets} packets from frame {frame_text(f.first_frame)}\n")


def _write_component(comp: Component, out: TextIO, paint: Painter) -> None:
    out.write(f"  component {comp.component}: pairs by priority (* selected, N nominated)\n")
    out.write(
        f"      {'controlling':>24} {'':7}    {'controlled':>24} {'':7} {'tr':3} {'state':11} "
        f"{'ctl chk':>8} {'ctd chk':>8} {'rtt ms':>10} {'priority':>20}\n"
    )
    for p in comp.pairs:
        out.write(_pair_line(p, p is comp.selected, paint) + "\n")
        if p.prflx_until is not None and p.first_check is not None:
            out.write(
                f"        checked {p.prflx_until - p.first_check:.3f} s before its candidate was trickled "
                "(peer-reflexive until then, RFC 8838)\n"
            )
    if comp.selected:
        sel = comp.selected
        because = SELECTED_BECAUSE[sel.selected_because] if sel.selected_because else "?"
        out.write(
            f"    selected: {sel.controlling.address} ({sel.controlling.type}) <-> "
            f"{sel.controlled.address} ({sel.controlled.type}) by {comp.selected_by or '?'}: {because}\n"
        )
    else:
        out.write("    selected: none\n")
