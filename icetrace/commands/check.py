"""`icetrace check CORPUS_DIR... [--update] [--junit FILE] [--jobs N] [--dask ADDRESS] [--format text|json]`:
corpus regression for CI.

Exit 0 unchanged, 1 changed, 2 a capture, companion, golden file or directory unreadable, 3 the
analysis of a capture crashed (a bug in icetrace). Each capture is analysed on its own, so one that
cannot be read or crashes the analysis is reported as an ERROR and the others still run; the worst
status wins (3 over 2 over 1), so a crash or unreadable input never passes for a mere change.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from icetrace.corpus.companions import is_url
from icetrace.errors import IcetraceError, InputError, OutputError
from icetrace.exit_status import ExitStatus

if TYPE_CHECKING:  # the corpus runner (concurrent.futures, logging, XML) is imported when check runs
    from icetrace.corpus.companions import CaptureTask
    from icetrace.corpus.worker import Outcome

LABELS = {"ok": "ok", "changed": "CHANGED", "error": "ERROR", "new": "NEW", "updated": "updated"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("check", help="compare every capture under DIR with its golden summary")
    parser.add_argument("directory", nargs="+", help="corpus folder: a path, file:// or fsspec URL (s3://...)")
    parser.add_argument("--update", action="store_true", help="rewrite the golden files from this run")
    parser.add_argument("--junit", metavar="FILE", help="also write JUnit XML, one test case per capture")
    parser.add_argument("--jobs", type=int, default=0, metavar="N", help="processes (default: every core)")
    parser.add_argument("--dask", metavar="SCHEDULER", help="run the analyses on this Dask scheduler")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run)


@dataclass
class Entry:
    capture: str
    status: str
    lines: list[str] = field(default_factory=list)
    kind: str = ""  # for errors: unreadable or crashed
    refused: str = ""  # a golden file --update would not or could not write, also said on stderr
    seconds: float = 0.0


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from icetrace.corpus.companions import discover
    from icetrace.corpus.runner import default_jobs, run_all
    from icetrace.corpus.worker import summarise

    if args.jobs < 0:
        raise InputError("--jobs must be 1 or more (0: every core)")
    tasks = discover(args.directory)
    if not tasks:
        raise InputError("no captures found")
    if args.update and any(is_url(t.capture) for t in tasks):
        raise InputError("--update writes golden files beside the captures: give a local directory")
    progress = _Progress(err, len(tasks)) if err.isatty() else None
    outcomes = run_all(tasks, summarise, args.jobs or default_jobs(), args.dask, progress.update if progress else None)
    if progress:
        progress.close()
    entries = _entries(tasks, outcomes, args, err)
    counts = {s: sum(e.status == s for e in entries) for s in LABELS}
    unreadable = sum(e.kind == "unreadable" for e in entries)
    crashed = sum(e.kind == "crashed" for e in entries)
    status = (
        ExitStatus.INTERNAL
        if crashed
        else ExitStatus.BAD_INPUT
        if unreadable
        else ExitStatus.REGRESSION
        if counts["changed"]
        else ExitStatus.OK
    )
    if args.junit:
        _write_junit(args.junit, entries)
    if args.format == "json":
        doc = {
            "captures": [
                {"capture": e.capture, "status": e.status, "error": e.kind or None, "details": e.lines} for e in entries
            ],
            "counts": {**counts, "unreadable": unreadable, "crashed": crashed, "captures": len(entries)},
            "exit_status": int(status),
        }
        out.write(json.dumps(doc, indent=2) + "\n")
        return status
    for e in entries:
        out.write(f"{LABELS[e.status]:<8} {e.capture}\n")
        for line in e.lines:
            out.write(f"    {line}\n")
    out.write(
        f"{len(entries)} captures, {counts['changed']} changed, {counts['new']} without golden file, "
        f"{unreadable} unreadable, {crashed} crashed"
        + (f", {counts['updated']} golden files updated" if args.update else "")
        + "\n"
    )
    return status


def _entries(tasks: list[CaptureTask], outcomes: list[Outcome], args: argparse.Namespace, err: TextIO) -> list[Entry]:
    """Each capture judged against its golden file; refusals and crashes told on `err` as they are met."""
    entries = []
    for task, outcome in zip(tasks, outcomes, strict=True):
        entry = _judge(task, outcome, args.update)
        entry.seconds = outcome.seconds
        entries.append(entry)
        if entry.refused:
            err.write(f"icetrace: {entry.refused}\n")
        if outcome.crash:
            if args.traceback and outcome.traceback:
                err.write(outcome.traceback)
            err.write(f"{outcome.crash_line}\n")
    return entries


def _judge(task: CaptureTask, outcome: Outcome, update: bool) -> Entry:
    """Compare (or, with --update, write) one capture's golden file."""
    from icetrace.report.golden import differences, load_golden, write_golden

    if outcome.crash:
        return Entry(task.capture, "error", [f"internal error: {outcome.crash}"], "crashed")
    if outcome.error is not None or outcome.summary is None:
        return Entry(task.capture, "error", [outcome.error or "no result"], "unreadable")
    golden = task.golden
    try:
        expected = _load(golden, load_golden) if _exists(golden) else None
    except IcetraceError as exc:
        if not update:
            return Entry(task.capture, "error", [str(exc)], "unreadable")
        expected = None  # a damaged golden file is what --update is for
    if update:
        diffs = differences(expected, outcome.summary) if expected is not None else []
        if expected is not None and not diffs:
            return Entry(task.capture, "ok", [])
        try:
            write_golden(Path(golden), outcome.summary)
        except IcetraceError as exc:
            return Entry(task.capture, "error", [str(exc)], "unreadable", refused=str(exc))
        what = f"{golden}: " + (f"{len(diffs)} fields changed" if diffs else "written")
        return Entry(task.capture, "updated", [what, *diffs])
    if expected is None:
        return Entry(task.capture, "new", [f"no {Path(golden).name}; run with --update"])
    diffs = differences(expected, outcome.summary)
    return Entry(task.capture, "changed", diffs) if diffs else Entry(task.capture, "ok", [])


def _exists(name: str) -> bool:
    if is_url(name):
        import fsspec

        fs, path = fsspec.core.url_to_fs(name)
        return bool(fs.exists(path))
    return Path(name).exists() or Path(name).is_symlink()


def _load(name: str, load_golden: Any) -> Any:
    if not is_url(name):
        return load_golden(Path(name))
    import tempfile

    import fsspec

    with tempfile.TemporaryDirectory(prefix="icetrace-") as tmp:
        local = Path(tmp) / Path(name).name
        try:
            with fsspec.open(name, "rb") as fh:
                local.write_bytes(fh.read(64 << 20))
        except OSError as exc:
            raise InputError(f"{name}: cannot read golden file: {exc}") from None
        return load_golden(local)


def _write_junit(name: str, entries: list[Entry]) -> None:
    from icetrace.corpus.junit import Case, junit_xml

    cases = [Case(e.capture, e.status, "\n".join(e.lines), e.seconds) for e in entries]
    try:
        Path(name).write_bytes(junit_xml(cases))
    except OSError as exc:
        raise OutputError(f"{name}: cannot write: {exc.strerror or exc}") from None


class _Progress:
    """`  37/200 captures` on a terminal's stderr, redrawn as captures finish."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream, self.total, self.done, self.failing = stream, total, 0, 0

    def update(self, outcome: Outcome) -> None:
        self.done += 1
        self.failing += bool(outcome.error or outcome.crash)
        extra = f", {self.failing} unreadable or crashed" if self.failing else ""
        self.stream.write("\r")  # alone: the one control character the output streams let through
        self.stream.write(f"{self.done:>6}/{self.total} captures analysed{extra}")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
