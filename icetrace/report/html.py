"""The report as one self-contained page: summary, candidates, pairs, verdicts, both plots (inline
SVG) and the messages table with a filter, for pasting into a ticket.

Nothing is fetched: CSS and the few lines of JavaScript are inline, the plots are inline SVG. The
filter's text can also come from the address's fragment (`page.html#filter=allocate`), so a link
can point at the messages that matter; a fragment that is not valid percent-encoding is taken as
written. Every string is shown (`icetrace.output.shown`): a capture's control characters and lone
surrogates are written as escapes, so the page is always valid UTF-8.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from html import escape
from typing import Any, TextIO, cast

import pandas as pd

from icetrace.analysis import Analysis
from icetrace.ice.allocations import allocation_attempts
from icetrace.ice.model import SELECTED_BECAUSE, Agent, Stream, Verdict
from icetrace.ice.reconstruction import Reconstruction
from icetrace.ice.relayed_checks import relayed_summary
from icetrace.ice.stream_names import stream_title
from icetrace.ice.switches import change_text
from icetrace.output import ShownOutput
from icetrace.plots.story import build
from icetrace.report.html_summary import write_many_calls
from icetrace.report.summary import MANY_SESSIONS, NOTES_LISTED, WORST_LISTED, chosen, session_lines

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'  # phones: their own width
MAX_MESSAGES = 5000  # beyond this the page gets slow to filter; the CLI's `messages` has them all

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.4em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.6em}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:12.5px}
th,td{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.selected td{background:#d8f5d8;font-weight:600}tr.nominated td{background:#fff5c8}
.sev-error{color:#b00020;font-weight:600}.sev-warning{color:#a05a00;font-weight:600}.sev-info{color:#345}
.state-succeeded{color:#17702a}.state-failed{color:#b00020}
.outcome{font-weight:700}.cause{font-size:1.05em}.cause code{font-weight:700}
.plot{overflow-x:auto;border:1px solid #eee;margin:.5em 0}
.plot svg{max-width:100%;height:auto}
#filter{font-size:14px;padding:3px 6px;width:28em}#count{margin-left:1em;color:#555}
code{background:#f4f4f4;padding:0 3px}
.wide{overflow-x:auto;max-width:100%}h1,li,p{overflow-wrap:anywhere}
@media (max-width:700px){body{margin:.5em;font-size:13px}table{font-size:11px}th,td{padding:1px 3px}
td{overflow-wrap:anywhere}#filter{width:100%;box-sizing:border-box}#count{display:block;margin:0}}
"""

# Filters the messages table on every word typed (all must match somewhere in the row).
SCRIPT = """
(function () {
  var input = document.getElementById('filter');
  var rows = Array.prototype.slice.call(document.querySelectorAll('#messages tbody tr'));
  var count = document.getElementById('count');
  function apply() {
    var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row) {
      var text = row.textContent.toLowerCase();
      var ok = words.every(function (w) { return text.indexOf(w) >= 0; });
      row.style.display = ok ? '' : 'none';
      if (ok) { shown += 1; }
    });
    count.textContent = shown + ' of ' + rows.length + ' messages shown';
  }
  var match = /[#&]filter=([^&]*)/.exec(window.location.hash);
  if (match) {
    try { input.value = decodeURIComponent(match[1]); } catch (e) { input.value = match[1]; }
  }
  input.addEventListener('input', apply);
  apply();
})();
"""


def write_html(
    analysis: Analysis,
    out: TextIO,
    stage: Callable[[str], None] | None = None,
    *,
    calls: Sequence[str] = (),
    top: int = 0,
    every_story: bool = False,
) -> None:
    """The page; `stage` hears each part as it begins (the plots of a big capture take seconds).
    Above a handful of ICE sessions (unless `every_story`) the page opens with the many-calls
    summary and shows only the stories `calls` and `top` choose, without the plots."""
    page = io.StringIO()
    _write_page(analysis, cast(TextIO, ShownOutput(page)), stage or (lambda part: None), calls, top, every_story)
    out.write(resolved_links(unique_ids(page.getvalue())))


def _write_page(
    analysis: Analysis, out: TextIO, stage: Callable[[str], None], calls: Sequence[str], top: int, every_story: bool
) -> None:
    stage("report")
    streams, verdicts = analysis.reconstruction.streams, analysis.verdict_list
    many = len(streams) > MANY_SESSIONS and not every_story
    title = "icetrace: " + (", ".join(analysis.sources) or "records")
    out.write(
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">{VIEWPORT}<title>{escape(title)}</title>\n'
    )
    out.write(f"<style>{CSS}</style></head><body>\n<h1>{escape(title)}</h1>\n")
    out.write(
        '<nav><a href="#summary">summary</a> · <a href="#verdicts">verdicts</a> · '
        '<a href="#streams">candidates and pairs</a> · <a href="#timeline">timeline</a> · '
        '<a href="#ladder">ladder</a> · <a href="#messages-heading">messages</a></nav>\n'
    )
    if many or calls or top:
        lines = session_lines(analysis.reconstruction, analysis.verdict_list)
        picked = chosen(lines, calls, top)
        streams = [line.stream for line in picked if line.stream is not None]
        shown = {s.call_id for s in streams}
        verdicts = [v for v in verdicts if v.call_id in shown or (v.call_id is None and not many)]
        if many:
            write_many_calls(lines, analysis.verdict_list, out, max(top, WORST_LISTED))
    _summary(analysis, streams, out, many)
    _verdicts(verdicts, out, analysis.reconstruction.captures.frame_text)
    out.write('<div id="streams"></div>\n')
    numbers = {id(s): number for number, s in enumerate(analysis.reconstruction.streams, 1)}
    for s in streams:
        _stream(s, (numbers[id(s)], stream_title(s, analysis.reconstruction.streams)), out, analysis.reconstruction)
    if many:
        out.write('<h2 id="timeline">Timeline</h2>\n<p>not drawn for many calls: `icetrace plot` draws them</p>\n')
    else:
        stage("timeline")
        story = build(analysis.reconstruction, analysis.checks)
        out.write('<h2 id="timeline">Timeline</h2>\n<div class="plot" id="timeline-plot">')
        out.write(_svg(_timeline(analysis, story)))
        stage("ladder")
        out.write('</div>\n<h2 id="ladder">Ladder</h2>\n<div class="plot" id="ladder-plot">')
        out.write(_svg(_ladder(analysis, story)))
        out.write("</div>\n")
    stage(f"{min(len(analysis.messages), MAX_MESSAGES):,} messages")
    _messages(analysis, out)
    out.write(f"<script>{SCRIPT}</script>\n</body></html>\n")


def _timeline(analysis: Analysis, story: Any) -> Any:
    from icetrace.plots.timeline import timeline_figure

    return timeline_figure(analysis.reconstruction, analysis.checks, story)


def _ladder(analysis: Analysis, story: Any) -> Any:
    from icetrace.plots.ladder import ladder_figure

    return ladder_figure(analysis.reconstruction, analysis.checks, analysis.messages, analysis.transactions, story)


def _svg(figure: Any) -> str:
    """The figure as an inline <svg> element (the XML prolog and DOCTYPE dropped)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def unique_ids(page: str) -> str:
    """Every id once: a later element with an id already used is renamed (the plots' gids repeat,
    and both plots may define the same marker; a reference then finds the first, of the same shape)."""
    seen: dict[str, int] = {}

    def rename(match: re.Match[str]) -> str:
        name = match.group(1)
        seen[name] = seen.get(name, 0) + 1
        return match.group(0) if seen[name] == 1 else f' id="{name}-{seen[name]}"'

    return re.sub(r' id="([^"]+)"', rename, page)


_LINK = re.compile(r'<a (xlink:)?href="#([^"]*)"(?: target="_blank")?>')


def resolved_links(page: str) -> str:
    """Every link inside the page leads somewhere and stays in this tab: one to a frame the messages
    table does not list (a media packet's, one past the table's end) becomes plain text, and the
    plots' links lose the new-window target matplotlib gives them."""
    ids = set(re.findall(r' id="([^"]+)"', page))

    def resolve(match: re.Match[str]) -> str:
        target = match.group(2)
        return f'<a {match.group(1) or ""}href="#{target}">' if target in ids else "<a>"

    return _LINK.sub(resolve, page)


def _cell(value: Any, cls: str = "") -> str:
    if value is None or (not isinstance(value, (list, str)) and bool(pd.isna(value))):
        value = ""
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{escape(str(value))}</td>"


def _summary(analysis: Analysis, streams: Sequence[Stream], out: TextIO, many: bool) -> None:
    rec = analysis.reconstruction
    out.write("<h2>Capture</h2>\n<ul>\n" if many else '<h2 id="summary">Summary</h2>\n<ul>\n')
    listed = len(analysis.messages) + rec.relayed_messages + analysis.duplicate_messages  # as the text report
    out.write(
        f"<li>{listed} STUN/TURN messages, {len(rec.transactions)} transactions, "
        f"{len(allocation_attempts(rec))} TURN allocation(s), {len(rec.streams)} ICE session(s)</li>\n"
    )
    numbers = {id(s): number for number, s in enumerate(rec.streams, 1)}
    for s in streams:
        name = f'<a href="#stream-{numbers[id(s)]}">{escape(stream_title(s, rec.streams))}</a>'
        via = f" ({s.connectivity})" if s.connectivity and s.connectivity != "FAILED" else ""
        cause = f"<code>{escape(s.cause.code)}</code> {escape(s.cause.summary)} " if s.cause else ""
        out.write(
            f'<li class="cause">{name}: {cause}— outcome <span class="outcome">{escape(s.outcome.upper())}'
            f"</span>{escape(via)}, nomination {escape(str(s.nomination_style))}</li>\n"
        )
    notes = [f"vantage: {note}" for note in rec.vantage]
    notes += [a.text(rec.captures.frame_text) for a in allocation_attempts(rec)]
    for line in notes[: NOTES_LISTED if many else None]:
        out.write(f"<li>{escape(line)}</li>\n")
    if many and len(notes) > NOTES_LISTED:
        out.write(f"<li>… {len(notes) - NOTES_LISTED} more vantage notes and allocations (--json has them all)</li>\n")
    relayed = relayed_summary(rec.relayed_messages, rec.relayed_checks)
    if relayed:
        out.write(f"<li>{escape(relayed)}</li>\n")
    for problem in analysis.problems[:50]:
        out.write(f"<li>input problem: {escape(problem)}</li>\n")
    out.write("</ul>\n")


def _verdicts(verdicts: Sequence[Verdict], out: TextIO, name: Callable[[int], str]) -> None:
    out.write('<h2 id="verdicts">Verdicts</h2>\n')
    if not verdicts:
        out.write("<p>none</p>\n")
        return
    out.write('<div class="wide"><table id="verdict-table"><thead><tr><th>code</th><th>severity</th><th>message</th>')
    out.write("<th>frames</th></tr></thead><tbody>\n")
    order = {"error": 0, "warning": 1, "info": 2}  # the worst first; the analysis order within a severity
    for v in sorted(verdicts, key=lambda v: order.get(v.severity, 3)):
        links = ", ".join(f'<a href="#f{f}">{escape(name(f))}</a>' for f in v.frames)
        out.write(
            f'<tr class="verdict">{_cell(v.code)}{_cell(v.severity, "sev-" + v.severity)}{_cell(v.message)}'
            f"<td>{links}</td></tr>\n"
        )
    out.write("</tbody></table></div>\n")


def _agent_table(agent: Agent | None, out: TextIO) -> None:
    if agent is None:
        return
    out.write(
        f"<h4>{escape(agent.name)} ({escape(agent.role or 'role unknown')}), ufrag "
        f"<code>{escape(str(agent.ufrag))}</code></h4>\n"
    )
    out.write(
        '<div class="wide"><table class="candidates"><thead><tr><th>component</th><th>transport</th><th>type</th>'
    )
    out.write("<th>address</th><th>priority</th><th>origin</th><th>related</th></tr></thead><tbody>\n")
    for c in sorted(agent.candidates, key=lambda c: (c.component or 0, -(c.priority or 0))):
        out.write(
            f"<tr>{_cell(c.component)}{_cell(c.transport)}{_cell(c.type)}{_cell(str(c.address))}"
            f"{_cell(c.priority, 'num')}{_cell(c.origin)}{_cell(str(c.related) if c.related else None)}</tr>\n"
        )
    out.write("</tbody></table></div>\n")


def _stream(s: Stream, title: tuple[int, str], out: TextIO, rec: Reconstruction) -> None:
    """One ICE session: its heading (each apart, and the summary's link to it), cause, candidates, pairs, media."""
    frame_text = rec.captures.frame_text
    number, name = title
    heading = name[:1].upper() + name[1:]
    out.write(f'<h2 class="stream" id="stream-{number}">{escape(heading)}</h2>\n')
    if s.cause is not None:
        frames = rec.captures.frames_text(s.cause.evidence_frames)
        out.write(
            f'<p class="cause"><code>{escape(s.cause.code)}</code> {escape(s.cause.summary)}</p>\n'
            f"<p>next step: {escape(s.cause.next_step)}"
            + (f" (evidence: frames {escape(frames)})" if frames else "")
            + "</p>\n"
        )
    out.write("<h3>Candidates</h3>\n")
    _agent_table(s.controlling, out)
    _agent_table(s.controlled, out)
    for comp in s.components:
        out.write(f"<h3>Component {escape(str(comp.component))}: pairs by priority</h3>\n")
        out.write('<div class="wide"><table class="pairs"><thead><tr><th></th><th>state</th><th>controlling</th>')
        out.write("<th>controlled</th><th>transport</th><th>nominated</th><th>checks</th><th>rtt ms</th>")
        out.write("<th>priority</th><th>first frame</th></tr></thead><tbody>\n")
        for p in sorted(comp.pairs, key=lambda p: -(p.priority or 0)):
            selected = p is comp.selected
            cls = "selected" if selected else ("nominated" if p.nominated else "")
            mark = "selected" if selected else ""
            outcomes = list(getattr(p, "outcomes", []))  # one per check transaction
            answered = sum(o in ("success", "error") for o in outcomes)
            out.write(
                f'<tr class="{cls}">{_cell(mark)}{_cell(p.state, "state-" + p.state)}'
                f"{_cell(f'{p.controlling.type} {p.controlling.address}')}"
                f"{_cell(f'{p.controlled.type} {p.controlled.address}')}{_cell(p.transport)}"
                f"{_cell(p.nominated_by if p.nominated else '')}"
                f"{_cell(_checks_text(p, answered, len(outcomes)), 'num')}"
                f"{_cell(None if p.rtt_ms is None else f'{p.rtt_ms:.1f}', 'num')}{_cell(p.priority, 'num')}"
                f"{_cell(frame_text(min(p.frames)) if p.frames else None, 'num')}</tr>\n"
            )
        out.write("</tbody></table></div>\n")
        if comp.selected is not None:
            because = SELECTED_BECAUSE[comp.selected.selected_because] if comp.selected.selected_because else ""
            out.write(f"<p>selected by {escape(str(comp.selected_by))}: {escape(because)}</p>\n")
        else:
            out.write("<p>selected: none</p>\n")
        for change in comp.selection_changes:
            out.write(f'<p class="switch">selection change: {escape(change_text(change, rec.start, frame_text))}</p>\n')
    if s.media_flows:
        out.write("<h3>Media</h3>\n<ul>\n")
        for f in s.media_flows:
            out.write(
                f"<li>{escape(f.kind)} {escape(str(f.src))} → {escape(str(f.dst))}: {f.packets} packets "
                f"from frame {escape(frame_text(f.first_frame))}</li>\n"
            )
        out.write("</ul>\n")


def _checks_text(p: Any, answered: int, checks: int) -> str:
    """'0/1 answered, +6 retransmissions', as the text report counts them."""
    sent = p.requests_by_controlling + p.requests_by_controlled
    again = sent - p.checks_from_controlling - p.checks_from_controlled
    return f"{answered}/{checks} answered" + (f", +{again} retransmissions" if again > 0 else "")


MESSAGE_COLUMNS = (
    "frame",
    "time",
    "src",
    "dst",
    "kind",
    "method",
    "class",
    "error_code",
    "use_candidate",
    "relay_via",
    "relay_peer",
    "anomalies",
)


def _messages(analysis: Analysis, out: TextIO) -> None:
    messages = analysis.messages
    out.write('<h2 id="messages-heading">Messages</h2>\n')
    out.write(
        '<p><input id="filter" type="search" placeholder="filter: words that must all appear, e.g. allocate 401" '
        'aria-label="filter messages"><span id="count"></span></p>\n'
    )
    _count_note(analysis, out)
    columns = [c for c in MESSAGE_COLUMNS if c in messages.columns]
    t0 = float(messages["time"].min()) if len(messages) else 0.0
    out.write('<div class="wide"><table id="messages"><thead><tr>')
    out.write("".join(f"<th>{escape(c)}</th>" for c in columns) + "</tr></thead><tbody>\n")
    cited = {f for v in analysis.verdict_list for f in v.frames}
    anchored: set[int] = set()
    for row in messages.head(MAX_MESSAGES).to_dict("records"):
        cells = []
        frame = int(row["frame"])
        for c in columns:
            value = row.get(c)
            if c == "frame":  # links back to the verdicts citing it, or to the top
                back = "#verdicts" if frame in cited else "#summary"
                shown = escape(analysis.reconstruction.captures.frame_text(frame))
                cells.append(f'<td class="num"><a href="{back}">{shown}</a></td>')
                continue
            if c == "time":
                value = f"{float(value) - t0:.6f}"
            elif c == "use_candidate":
                value = "USE-CANDIDATE" if value is True else ""
            cells.append(_cell(value, "num" if c in ("frame", "time") else ""))
        anchor = "" if frame in anchored else f' id="f{frame}"'
        anchored.add(frame)
        out.write(f"<tr{anchor}>" + "".join(cells) + "</tr>\n")
    out.write("</tbody></table></div>\n")


def _count_note(analysis: Analysis, out: TextIO) -> None:
    """Why the table may show fewer messages than the summary counts."""
    rec = analysis.reconstruction
    shown = min(len(analysis.messages), MAX_MESSAGES)
    parts = []
    if len(analysis.messages) > MAX_MESSAGES:
        parts.append(f"the first {MAX_MESSAGES} of {len(analysis.messages)} listed (`icetrace messages` lists all)")
    if rec.relayed_messages:
        parts.append(
            f"{rec.relayed_messages} relayed media messages (ChannelData, Send/Data indications carrying no STUN) "
            "counted in the summary, not listed"
        )
    if analysis.duplicate_messages:
        parts.append(f"{analysis.duplicate_messages} seen by two captures, listed once")
    if parts:
        out.write(f"<p>{shown} messages here: " + "; ".join(escape(p) for p in parts) + ".</p>\n")
