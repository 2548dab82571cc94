"""The many-calls view of an analysis: one line per ICE session (outcome, cause, TURN server, client
subnet, time to connect, verdicts), the counts a server's operator reads first, and the order that
puts the worst sessions first.

A server's capture holds thousands of calls; nobody reads thousands of stories. The report opens
with these counts when there are more than a handful of sessions, and `--call ID` / `--top N`
choose which full stories follow.
"""

from __future__ import annotations

import ipaddress
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from icetrace.ice.addresses import private_address
from icetrace.ice.model import IceCandidate, Pair, Stream, Verdict
from icetrace.ice.reconstruction import Reconstruction
from icetrace.tables.analysis_rows import file_named, first_check_frames, stream_source

MANY_SESSIONS = 5
"""Above this many ICE sessions the report opens with the summary and tells only the chosen stories."""
NOTES_LISTED = 10
"""Vantage notes, allocations and NAT mappings listed before the many-calls summary."""
WORST_LISTED = 20
"""Worst sessions listed one line each when no --top asks for more."""

_RANK = {"failed": 0, "unknown": 1}


@dataclass(slots=True)
class SessionLine:
    """One ICE session as the summary lists it. `stream` is the whole story; a streamed analysis of
    a long capture drops it (None) once the session is written, keeping only this line."""

    stream: Stream | None
    call_id: str | None
    index: int | None
    state: str  # the stream's outcome
    connectivity: str  # DIRECT, RELAY, FAILED or ""
    label: str  # the call's Call-ID and stream index, or the session's usernames
    cause: str | None  # the diagnosis's cause code, when the diagnosis gives one
    turn_server: str | None  # the TURN server of its relayed candidate(s), or the one it asked for one
    subnet: str | None  # the client's network (/24, IPv6 /64), from its private host candidate
    started: float | None  # the first signaled candidate or the first check
    capture: str | None  # the capture that signaled it, else that of its first check (the JSON's)
    connected: float | None  # the first answered check of the selected pair
    errors: int = 0
    warnings: int = 0
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def story(self) -> Stream:
        """The whole story, from a line that still holds it."""
        if self.stream is None:
            raise ValueError(f"{self.label}: the story was let go once written")
        return self.stream

    @property
    def connect_seconds(self) -> float | None:
        if self.started is None or self.connected is None:
            return None
        return max(0.0, self.connected - self.started)

    @property
    def outcome(self) -> str:
        via = self.connectivity
        return self.state + (f" {via}" if via and via != "FAILED" else "")

    def badness(self) -> tuple[int, int, int, float]:
        """Sort key: failed, then unknown, then connected with errors, with warnings; slower first."""
        rank = _RANK.get(self.state, 2)
        return (rank, -self.errors, -self.warnings, -(self.connect_seconds or 0.0))

    def text(self) -> str:
        connect = "-" if self.connect_seconds is None else f"{self.connect_seconds:.2f} s"
        worst = next((v for v in self.verdicts if v.severity == "error"), None) or next(
            (v for v in self.verdicts if v.severity == "warning"), None
        )
        note = f"; [{worst.code}] {worst.message}" if worst else ""
        return (
            f"{self.label}: {self.outcome.upper()}, cause {self.cause or '-'}, TURN {self.turn_server or '-'}, "
            f"subnet {self.subnet or '-'}, connect {connect}, {self.errors} error(s) {self.warnings} warning(s)" + note
        )


def session_label(stream: Stream) -> str:
    if stream.call_id:
        return f"{stream.call_id} stream {stream.index}"
    ufrags = [a.ufrag or "?" for a in (stream.controlling, stream.controlled) if a is not None]
    return "session " + "/".join(ufrags)


def cause_code(stream: Stream) -> str | None:
    """The stream's cause code (the registry's, docs/causes.md), once the diagnosis decided one."""
    return stream.cause.code if stream.cause is not None else None


def subnet_of(ip: str) -> str:
    prefix = 64 if ":" in ip else 24
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _client_subnet(stream: Stream) -> str | None:
    """The caller's network first: the first private host candidate (or srflx base) of either agent."""
    agents = sorted(
        (a for a in (stream.controlling, stream.controlled) if a is not None), key=lambda a: a.name != "caller"
    )
    for agent in agents:
        for c in agent.candidates:
            base = c.address if c.type == "host" else c.related if c.type == "srflx" else None
            if base is not None and private_address(base.ip):
                return subnet_of(base.ip)
    return None


class _Index:
    """What the lines need from the whole reconstruction, gathered once (linear in its size)."""

    def __init__(self, rec: Reconstruction, verdicts: Sequence[Verdict]) -> None:
        self.server_by_relayed = {str(a.relayed): str(a.server) for a in rec.allocations if a.relayed is not None}
        # the server a client asked for an allocation, whether or not it got one (a refusal is the
        # server's doing too: 486 Allocation Quota Reached on a busy one)
        self.server_by_client = {str(a.client): str(a.server) for a in rec.allocations}
        for t in rec.transactions:
            if t.request.method == "allocate" and t.request.relay is None:
                self.server_by_client.setdefault(str(t.src), str(t.dst))
        self.first_success: dict[int, float] = {}
        self.first_check: dict[int, float] = {}
        for check in rec.checks:
            if check.stream is None:
                continue
            started = check.transaction.request.time
            key = id(check.stream)
            self.first_check[key] = min(self.first_check.get(key, started), started)
            response = check.transaction.response
            if check.pair is not None and check.transaction.outcome == "success" and response is not None:
                pair = id(check.pair)
                self.first_success[pair] = min(self.first_success.get(pair, response.time), response.time)
        self.verdicts: dict[str | None, list[Verdict]] = {}
        for v in verdicts:
            self.verdicts.setdefault(v.call_id, []).append(v)

    def turn_server(self, stream: Stream) -> str | None:
        selected = [c.selected for c in stream.components if c.selected is not None]
        candidates: list[IceCandidate] = [c for p in selected for c in (p.controlling, p.controlled)]
        candidates += [c for a in (stream.controlling, stream.controlled) if a for c in a.candidates]
        for c in candidates:
            server = self.server_by_relayed.get(str(c.address))
            if server is None and c.type in ("host", "srflx"):  # the address the server saw it ask from
                server = self.server_by_client.get(str(c.address))
            if server is not None:
                return server
        return None

    def connected(self, stream: Stream) -> float | None:
        selected: list[Pair] = [c.selected for c in stream.components if c.selected is not None]
        times = [self.first_success[id(p)] for p in selected if id(p) in self.first_success]
        return min(times) if times else None

    def started(self, stream: Stream) -> float | None:
        signaled = [
            c.signaled_at for a in (stream.controlling, stream.controlled) if a for c in a.candidates if c.signaled_at
        ]
        first_check = self.first_check.get(id(stream))
        times = [t for t in (min(signaled, default=None), first_check) if t is not None]
        return min(times) if times else None


def session_lines(rec: Reconstruction, verdicts: Sequence[Verdict]) -> list[SessionLine]:
    """One line per stream, in the reconstruction's order."""
    index = _Index(rec, verdicts)
    firsts = first_check_frames(rec)
    lines = []
    for stream in rec.streams:
        mine = index.verdicts.get(stream.call_id, []) if stream.call_id else []
        lines.append(
            SessionLine(
                stream=stream,
                call_id=stream.call_id,
                index=stream.index,
                state=stream.outcome,
                connectivity=stream.connectivity,
                label=session_label(stream),
                cause=_shared(cause_code(stream)),
                turn_server=_shared(index.turn_server(stream)),
                subnet=_shared(_client_subnet(stream)),
                started=index.started(stream),
                capture=_shared(file_named(rec.captures, stream_source(stream, rec, firsts))),
                connected=index.connected(stream),
                errors=sum(v.severity == "error" for v in mine),
                warnings=sum(v.severity == "warning" for v in mine),
                verdicts=mine,
            )
        )
    return lines


def _shared(text: str | None) -> str | None:
    """One string object for a value many sessions share (a TURN server, a subnet, a cause code):
    a long capture keeps a line per session."""
    return None if text is None else sys.intern(text)


def worst_order(line: SessionLine) -> tuple[tuple[int, int, int, float], float, str]:
    """By badness; among equals, the earlier started first (then by label), whatever order they came in."""
    return (line.badness(), line.started or 0.0, line.label)


def worst_first(lines: Iterable[SessionLine]) -> list[SessionLine]:
    return sorted(lines, key=worst_order)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of sorted `values`."""
    rank = max(1, -(-len(values) * share // 1))
    return values[int(rank) - 1]


@dataclass
class Summary:
    """The counts the summary prints: by outcome and cause, TURN server and subnet; connect times."""

    sessions: int
    calls: int
    by_outcome: Counter[tuple[str, str]]
    by_server: dict[str, Counter[str]]
    by_subnet: dict[str, Counter[str]]
    connect: list[float]  # sorted
    verdict_codes: Counter[tuple[str, str]]

    def connect_text(self) -> str:
        if not self.connect:
            return "time to connect: no session connected"
        median, p95 = percentile(self.connect, 0.5), percentile(self.connect, 0.95)
        return f"time to connect: median {median:.2f} s, p95 {p95:.2f} s ({len(self.connect)} sessions that connected)"


def summarize(lines: Sequence[SessionLine], verdicts: Sequence[Verdict]) -> Summary:
    by_server: dict[str, Counter[str]] = {}
    by_subnet: dict[str, Counter[str]] = {}
    for line in lines:
        by_server.setdefault(line.turn_server or "(no TURN server)", Counter())[line.state] += 1
        by_subnet.setdefault(line.subnet or "(no private host address)", Counter())[line.state] += 1
    return Summary(
        sessions=len(lines),
        calls=len({line.call_id for line in lines if line.call_id}),
        by_outcome=Counter((line.outcome, line.cause or "-") for line in lines),
        by_server=by_server,
        by_subnet=by_subnet,
        connect=sorted(s for line in lines if (s := line.connect_seconds) is not None),
        verdict_codes=Counter((v.code, v.severity) for v in verdicts),
    )


def outcome_counts(counter: Counter[str]) -> str:
    return ", ".join(f"{n} {outcome}" for outcome, n in counter.most_common())


def chosen(lines: Sequence[SessionLine], calls: Sequence[str], top: int) -> list[SessionLine]:
    """The sessions whose full stories are asked for: those of the calls named (a Call-ID, or a
    session's label), then the `top` worst; each once, in that order."""
    wanted = set(calls)
    named = [line for line in lines if line.call_id in wanted or line.label in wanted]
    out = {id(line): line for line in named}
    for line in worst_first(lines)[: max(top, 0)]:
        out.setdefault(id(line), line)
    return list(out.values())
