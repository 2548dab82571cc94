"""The readable report: per call/stream/component, candidates, pair table, selection, verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from icetrace.analysis import Analysis
from icetrace.ice.allocations import allocation_attempts
from icetrace.ice.model import SELECTED_BECAUSE, Agent, Component, Pair, Stream, Verdict
from icetrace.ice.relayed_checks import relayed_summary
from icetrace.ice.stream_names import stream_title
from icetrace.ice.switches import change_text
from icetrace.records.capture_set import CaptureSet
from icetrace.report.colour import Painter, wanted
from icetrace.report.hints import no_stun_hint
from icetrace.report.summary import (
    MANY_SESSIONS,
    NOTES_LISTED,
    WORST_LISTED,
    SessionLine,
    chosen,
    outcome_counts,
    session_lines,
    summarize,
    worst_first,
)

ONE_CAPTURE = CaptureSet()
"""One capture read alone: frame references are its own frame numbers."""

CHECKS_LEGEND = (
    "\nchk: answered/checks sent by the controlling (ctl) and controlled (ctd) agent, +retransmissions;"
    " rtt: round trip of the checks leaving the capture's side, followed by whose checks they were"
    " (ctl or ctd).\n"
)


@dataclass(frozen=True)
class Told:
    """What a story's words rest on besides the session: how frame ids read (a ring buffer's files:
    'file#number'), the time selection changes count from (the first STUN/TURN message), and the
    sessions titles tell apart (those without signaling are numbered among them)."""

    names: CaptureSet = ONE_CAPTURE
    start: float = 0.0
    among: Sequence[Stream] | None = None  # None: the sessions told


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


def write_report(
    analysis: Analysis,
    out: TextIO,
    colour: bool | None = None,
    *,
    calls: Sequence[str] = (),
    top: int = 0,
    every_story: bool = False,
) -> None:
    """`colour`: None decides by `out` (a terminal, and NO_COLOR unset). Above a handful of ICE
    sessions (unless `every_story`) the report opens with the many-calls summary and tells only the
    stories `calls` (Call-IDs or session labels) and `top` (the worst N) choose; either given also
    chooses the stories of a short report."""
    paint = Painter(wanted(out) if colour is None else colour)
    streams = analysis.reconstruction.streams
    names = analysis.reconstruction.captures
    many = len(streams) > MANY_SESSIONS and not every_story
    _write_head(analysis, out, limit=NOTES_LISTED if many else None)
    verdicts = analysis.verdict_list
    if many or calls or top:
        lines = session_lines(analysis.reconstruction, verdicts)
        if many:
            write_summary(lines, verdicts, out, max(top, WORST_LISTED))
        picked = chosen(lines, calls, top)
        shown = {line.call_id for line in picked}
        verdicts = [v for v in verdicts if v.call_id in shown or (v.call_id is None and not many)]
        streams = [line.stream for line in picked if line.stream is not None]
    rec = analysis.reconstruction
    write_stories(streams, verdicts, analysis.problems, out, paint, Told(names, rec.start, rec.streams))


def write_stories(
    streams: Sequence[Stream],
    verdicts: Sequence[Verdict],
    problems: Sequence[str],
    out: TextIO,
    paint: Painter,
    told: Told = Told(),
) -> None:
    """The stories told in full, the verdicts, the input problems and the key to the pair tables."""
    among = streams if told.among is None else told.among
    for s in streams:
        _write_stream(s, stream_title(s, among), out, paint, told)
    _write_verdicts(verdicts, out, paint, told.names)
    for problem in problems[:20]:  # before the key below, so the report ends with it
        out.write(f"  input problem: {problem}\n")
    if any(c.pairs for s in streams for c in s.components):
        out.write(CHECKS_LEGEND)


def write_session(
    stream: Stream,
    verdicts: Sequence[Verdict],
    out: TextIO,
    colour: bool | None = None,
    told: Told = Told(),
) -> None:
    """One session's story and its verdicts (`icetrace watch` tells each as it ends)."""
    paint = Painter(wanted(out) if colour is None else colour)
    _write_stream(stream, stream_title(stream, told.among or [stream]), out, paint, told)
    _write_verdict_lines(verdicts, out, paint, told.names)


def _write_head(analysis: Analysis, out: TextIO, limit: int | None) -> None:
    """Sources, counts, vantage notes, allocations and NAT mappings (the first `limit` of each list)."""
    rec = analysis.reconstruction
    out.write(f"icetrace report: {', '.join(analysis.sources) or 'records'}\n")
    attempts = allocation_attempts(rec)
    copies = analysis.duplicate_messages
    # the count `icetrace messages` lists: copies another capture also held are in it
    out.write(
        f"  {len(rec.records) + rec.relayed_messages + copies} STUN/TURN messages"
        + (f" ({copies} also seen by another capture, counted once)" if copies else "")
        + f", {len(rec.transactions)} transactions, "
        f"{len(attempts)} TURN allocation(s), {len(rec.streams)} ICE session(s)\n"
    )
    hint = no_stun_hint(rec)
    if hint:
        out.write(f"  {hint}\n")
    listed: list[str] = [f"vantage: {note}" for note in rec.vantage]
    listed += [attempt.text(rec.captures.frame_text) for attempt in attempts]
    relayed = relayed_summary(rec.relayed_messages, rec.relayed_checks)
    listed += [relayed] if relayed else []
    listed += [f"NAT mapping {m.inside} -> {m.outside} (one check seen on both sides)" for m in rec.nat_mappings]
    for line in listed[:limit]:
        out.write(f"  {line}\n")
    if limit is not None and len(listed) > limit:
        out.write(f"  ... {len(listed) - limit} more vantage notes, allocations and mappings (--json has them all)\n")


def _write_verdicts(verdicts: Sequence[Verdict], out: TextIO, paint: Painter, names: CaptureSet) -> None:
    out.write("\nverdicts:\n" if verdicts else "\nverdicts: none\n")
    _write_verdict_lines(verdicts, out, paint, names)


def _write_verdict_lines(verdicts: Sequence[Verdict], out: TextIO, paint: Painter, names: CaptureSet) -> None:
    for v in verdicts:
        frames = names.frames_text(v.frames[:8])
        head = paint.severity(f"[{v.code}] {v.severity}:", v.severity)
        out.write(f"  {head} {v.message}" + (f" (frames {frames})" if frames else "") + "\n")


def write_summary(lines: Sequence[SessionLine], verdicts: Sequence[Verdict], out: TextIO, worst: int) -> None:
    """The many-calls summary: counts by outcome and cause, TURN server and client subnet, the time
    to connect, verdicts by code, and the `worst` sessions one line each."""
    summary = summarize(lines, verdicts)
    out.write(f"\nsummary: {summary.sessions} ICE session(s) in {summary.calls} call(s)\n")
    out.write("  by outcome and cause:\n")
    for (outcome, cause), n in sorted(summary.by_outcome.items(), key=lambda item: (-item[1], item[0])):
        out.write(f"    {n:>7}  {outcome.upper():<18} cause {cause}\n")
    for title, groups in (("TURN server", summary.by_server), ("client subnet", summary.by_subnet)):
        out.write(f"  by {title}:\n")
        for name, counts in sorted(groups.items(), key=lambda item: (-sum(item[1].values()), item[0])):
            out.write(f"    {sum(counts.values()):>7}  {name:<26} {outcome_counts(counts)}\n")
    out.write(f"  {summary.connect_text()}\n")
    if summary.verdict_codes:
        out.write("  verdicts by code: ")
        codes = sorted(summary.verdict_codes.items(), key=lambda item: (-item[1], item[0]))
        out.write(", ".join(f"{n} [{code}] {severity}" for (code, severity), n in codes) + "\n")
    ordered = worst_first(lines)
    out.write(
        f"  worst first ({min(worst, len(ordered))} of {len(ordered)}; --top N tells the N worst in full,"
        " --call ID one call):\n"
    )
    for line in ordered[:worst]:
        out.write(f"    {line.text()}\n")


def cause_line(s: Stream, title: str) -> str:
    """The stream's first line, after its title: why it went direct, relayed or dead."""
    if s.cause is None:
        return title
    return f"{title}: [{s.cause.code}] {s.cause.summary}"


def _write_stream(s: Stream, title: str, out: TextIO, paint: Painter, told: Told) -> None:
    frame_text = told.names.frame_text
    out.write(f"\n{cause_line(s, title)}\n")
    if s.cause is not None:
        frames = told.names.frames_text(s.cause.evidence_frames[:8])
        out.write(f"  next step: {s.cause.next_step}" + (f" (evidence: frames {frames})" if frames else "") + "\n")
    via = f" ({s.connectivity})" if s.connectivity and s.connectivity != "FAILED" else ""
    outcome = paint.outcome(s.outcome.upper())
    out.write(f"  outcome {outcome}{via}, nomination {s.nomination_style}\n")
    out.write("  candidates:\n")
    for line in _cand(s.controlling) + _cand(s.controlled):
        out.write(line + "\n")
    for comp in s.components:
        _write_component(comp, out, paint, told)
    for f in s.media_flows:
        out.write(f"  media {f.kind} {f.src} -> {f.dst}: {f.packets} packets from frame {frame_text(f.first_frame)}\n")


def _write_component(comp: Component, out: TextIO, paint: Painter, told: Told) -> None:
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
    for change in comp.selection_changes:
        out.write(f"    selection change: {change_text(change, told.start, told.names.frame_text)}\n")
