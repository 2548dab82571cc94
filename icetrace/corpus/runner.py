"""Running one function over a corpus's captures: in this process, on a pool of processes, or on a
Dask cluster. Outcomes come back in the captures' order whichever way they ran, so the report is the
same for `--jobs 1`, `--jobs N` and `--dask`."""

from __future__ import annotations

import gc
import importlib
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from icetrace.corpus.companions import CaptureTask
from icetrace.corpus.worker import Outcome
from icetrace.errors import InputError

CONNECT_TIMEOUT = "20s"  # a scheduler that does not answer by then is a setup error

Done = Callable[[Outcome], None]
Work = Callable[[CaptureTask], Outcome]


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def run_all(
    tasks: list[CaptureTask],
    work: Callable[[CaptureTask], Outcome],
    jobs: int,
    dask_address: str | None = None,
    done: Done | None = None,
) -> list[Outcome]:
    """Every task's outcome, in the tasks' order. A task whose process dies (killed for memory, a
    crash in C) has an outcome that says so; the others still run."""
    if dask_address is not None:
        if not dask_address.strip():  # Client("") would start a cluster of its own
            raise InputError("--dask needs the scheduler's address, e.g. tcp://scheduler:8786")
        return _on_dask(tasks, work, dask_address, done)
    # A pool pays for starting its workers; with no more captures than workers it gains nothing.
    if jobs <= 1 or len(tasks) <= jobs:
        results = []
        for task in tasks:
            results.append(work(task))
            if done:
                done(results[-1])
        return results
    # Forked workers inherit what is imported here, so each does not import pandas and the correlator again.
    importlib.import_module("icetrace.analysis")
    importlib.import_module("pandas")  # the analysis imports it only to build tables, as corpus tables do
    # Chunks of several captures: most captures take milliseconds, less than sending one to a worker.
    chunk = max(1, min(16, len(tasks) // (jobs * 4)))
    slots: list[Outcome | None] = [None] * len(tasks)
    lost = _in_pool(tasks, list(range(len(tasks))), work, jobs, chunk, slots, done)
    # a worker died and its pool with it: each capture it may have held runs again alone, so the one
    # that kills its process is the only one reported so
    for index in lost:
        _in_pool(tasks, [index], work, 1, 1, slots, done)
    return [o if o is not None else died(tasks[i].capture, "the process") for i, o in enumerate(slots)]


def _in_pool(
    tasks: list[CaptureTask],
    indexes: list[int],
    work: Work,
    jobs: int,
    chunk: int,
    slots: list[Outcome | None],
    done: Done | None,
) -> list[int]:
    """Run the tasks at `indexes` on a pool, into `slots`; returns the indexes whose outcome was lost
    because the pool broke (a worker process died)."""
    lost: list[int] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {
            pool.submit(_chunk_of, work, [tasks[i] for i in part]): part
            for part in (indexes[at : at + chunk] for at in range(0, len(indexes), chunk))
        }
        for future in as_completed(futures):
            part = futures[future]
            try:
                outcomes = future.result()
            except BrokenProcessPool:
                if len(part) == 1 and len(indexes) == 1:
                    slots[part[0]] = died(tasks[part[0]].capture, "the process")
                    if done:
                        done(slots[part[0]])  # type: ignore[arg-type]
                else:
                    lost += part
                continue
            for index, outcome in zip(part, outcomes, strict=True):
                slots[index] = outcome
                if done:
                    done(outcome)
    return sorted(lost)


def _chunk_of(work: Work, tasks: list[CaptureTask]) -> list[Outcome]:
    return [work(task) for task in tasks]


def died(capture: str, where: str) -> Outcome:
    """The outcome of a capture whose analysis never came back: the process running it died."""
    what = f"{where} analysing it died (killed for using too much memory, or a crash below Python)"
    return Outcome(capture, crash=what, crash_line=f"icetrace: internal error in {capture}: {what}")


def _on_dask(
    tasks: list[CaptureTask], work: Callable[[CaptureTask], Outcome], address: str, done: Done | None
) -> list[Outcome]:
    """Each task (names of files the workers open themselves) goes to the cluster; only the small
    outcomes come back, so the corpus never passes through this process. A task whose worker died
    (KilledWorker, once the scheduler gives up on it) has an outcome that says so."""
    try:
        distributed: Any = importlib.import_module("distributed")  # untyped, and an optional extra
    except ImportError:
        raise InputError("--dask needs Dask: pip install 'icetrace[dask]'") from None
    client = _client(distributed, address)
    try:
        slots: list[Outcome | None] = [None] * len(tasks)
        lost = _dask_round(distributed, client, work, tasks, list(range(len(tasks))), slots, done)
        # a worker that died may have held other tasks too: each runs again alone
        for i in lost:
            _dask_round(distributed, client, work, tasks, [i], slots, done, last=True)
        return [o for o in slots if o is not None]
    finally:
        client.close()


def _client(distributed: Any, address: str) -> Any:
    """A Client of the scheduler at `address`, or InputError. A Client that failed to start is left
    half-made in a reference cycle; it is collected here, because its finaliser stops Dask's event
    loop under a lock that a later Client's start holds: run from a collection inside that start
    (a second `check --dask` in one process), it would wait for ever."""
    try:
        return distributed.Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        failure = InputError(f"--dask {address}: cannot reach the scheduler: {exc}")
    except (ValueError, TypeError) as exc:  # Dask's words for an address it cannot parse
        failure = InputError(f"--dask {address}: not a scheduler address ({exc})")
    gc.collect()
    raise failure from None


def _dask_round(
    distributed: Any,
    client: Any,
    work: Work,
    tasks: list[CaptureTask],
    indexes: list[int],
    slots: list[Outcome | None],
    done: Done | None,
    last: bool = False,
) -> list[int]:
    """Run the tasks at `indexes` on the cluster, into `slots`; returns those whose worker died
    (on the `last` round, their outcome says so instead)."""
    futures = client.map(work, [tasks[i] for i in indexes], pure=False)
    index = {f.key: i for i, f in zip(indexes, futures, strict=True)}
    lost = []
    for future in distributed.as_completed(futures):
        i = index[future.key]
        try:
            outcome = future.result()
        except Exception as exc:  # noqa: BLE001 - the task's own errors are in its outcome; this is the worker's
            if not last:
                lost.append(i)
                continue
            outcome = died(tasks[i].capture, f"the Dask worker ({type(exc).__name__}: {exc})")
        finally:
            future.release()
        slots[i] = outcome
        if done:
            done(outcome)
    return sorted(lost)
