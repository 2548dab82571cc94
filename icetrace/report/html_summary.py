"""The many-calls summary as HTML tables: counts by outcome and cause, TURN server and client subnet,
the time to connect, verdicts by code, and the worst sessions one row each."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from html import escape
from typing import TextIO

from icetrace.ice.model import Verdict
from icetrace.report.summary import SessionLine, outcome_counts, summarize, worst_first


def _table(table_id: str, head: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>\n" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{cells}</tr></thead><tbody>\n{body}</tbody></table>\n'


def _by_count(groups: dict[str, Counter[str]]) -> list[tuple[str, int, str]]:
    ordered = sorted(groups.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    return [(name, sum(counts.values()), outcome_counts(counts)) for name, counts in ordered]


def write_many_calls(lines: Sequence[SessionLine], verdicts: Sequence[Verdict], out: TextIO, worst: int) -> None:
    summary = summarize(lines, verdicts)
    out.write(
        f'<h2 id="summary">Summary: {summary.sessions} ICE session(s) in {summary.calls} call(s)</h2>\n'
        f"<p>{escape(summary.connect_text())}</p>\n<h3>By outcome and cause</h3>\n"
    )
    outcomes = sorted(summary.by_outcome.items(), key=lambda item: (-item[1], item[0]))
    out.write(_table("by-outcome", ("sessions", "outcome", "cause"), ((n, o.upper(), c) for (o, c), n in outcomes)))
    out.write("<h3>By TURN server</h3>\n")
    out.write(_table("by-server", ("TURN server", "sessions", "outcomes"), _by_count(summary.by_server)))
    out.write("<h3>By client subnet</h3>\n")
    out.write(_table("by-subnet", ("client subnet", "sessions", "outcomes"), _by_count(summary.by_subnet)))
    if summary.verdict_codes:
        out.write("<h3>Verdicts by code</h3>\n")
        codes = sorted(summary.verdict_codes.items(), key=lambda item: (-item[1], item[0]))
        out.write(_table("verdict-codes", ("verdicts", "code", "severity"), ((n, c, s) for (c, s), n in codes)))
    ordered = worst_first(lines)[:worst]
    out.write(f"<h3>Worst first ({len(ordered)} of {len(lines)}; --top N and --call ID tell stories in full)</h3>\n")
    head = ("session", "outcome", "cause", "TURN server", "client subnet", "connect s", "errors", "warnings")
    rows = [
        (
            line.label,
            line.outcome.upper(),
            line.cause or "",
            line.turn_server or "",
            line.subnet or "",
            "" if line.connect_seconds is None else f"{line.connect_seconds:.2f}",
            line.errors,
            line.warnings,
        )
        for line in ordered
    ]
    out.write(_table("worst", head, rows))
