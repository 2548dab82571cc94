"""Analysing one capture of a corpus, in whatever process runs it (this one, a pool worker, a Dask
worker): the outcome is plain data, so it pickles and comes back whole, crash included."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from icetrace.corpus.companions import CaptureTask, is_url


@dataclass
class Outcome:
    """What one capture's analysis gave: a summary, or why there is none."""

    capture: str
    summary: dict[str, Any] | None = None
    tables: dict[str, Any] | None = None  # kind -> pandas DataFrame
    error: str | None = None  # unreadable input: a finding about the input, status 2
    crash: str | None = None  # a bug in icetrace: status 3
    crash_line: str | None = None
    traceback: str | None = None
    seconds: float = 0.0


@contextmanager
def _local(name: str) -> Iterator[str]:
    """A local path for `name`; a URL is copied to a temporary file on this worker first."""
    if not is_url(name):
        yield name[len("file://") :] if name.startswith("file://") else name
        return
    import fsspec

    suffix = os.path.basename(name)
    with tempfile.TemporaryDirectory(prefix="icetrace-") as tmp:
        local = os.path.join(tmp, suffix)
        with fsspec.open(name, "rb") as src, open(local, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        yield local


def run_task(task: CaptureTask, make: Callable[[Any], Any], into: str) -> Outcome:
    """Analyse the capture with its companions; what `make` makes of the analysis goes in `into`."""
    from icetrace.analysis import analyze
    from icetrace.crash import crash_line, describe
    from icetrace.errors import IcetraceError

    started = time.monotonic()
    outcome = Outcome(task.capture)
    setup_error = task.extras.get("setup_error")
    if setup_error:
        outcome.error = str(setup_error)
        return outcome
    try:
        with ExitStack() as stack:
            capture = stack.enter_context(_local(task.capture))
            sdp = [stack.enter_context(_local(n)) for n in task.sdp]
            logs = [stack.enter_context(_local(n)) for n in task.logs]
            key = stack.enter_context(_local(task.tls_keylog)) if task.tls_keylog else None
            made = make(analyze([capture], sdp=sdp, logs=logs, tls_keylog=key))
    except IcetraceError as exc:  # this capture cannot be read; the others still can
        outcome.error = str(exc)
    except OSError as exc:  # a companion or URL that cannot be fetched
        outcome.error = f"{exc.filename or task.capture}: {exc.strerror or exc}"
    except Exception as exc:  # a bug in icetrace, not a change in the analysis
        outcome.crash = describe(exc)
        outcome.crash_line = crash_line(exc, task.capture)
        outcome.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    else:
        setattr(outcome, into, made)
    outcome.seconds = time.monotonic() - started
    return outcome


def summarise(task: CaptureTask) -> Outcome:
    """The golden summary of one capture."""
    from icetrace.report.golden import summary

    return run_task(task, summary, "summary")


def tabulate(task: CaptureTask) -> Outcome:
    """The corpus tables' rows of one capture."""
    from icetrace.corpus.tables import rows

    return run_task(task, lambda analysis: rows(analysis, task.capture), "tables")
