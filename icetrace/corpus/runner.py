"""Running one function over a corpus's captures: in this process, on a pool of processes, or on a
Dask cluster. Outcomes come back in the captures' order whichever way they ran, so the report is the
same for `--jobs 1`, `--jobs N` and `--dask`."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
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
    results = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for outcome in pool.map(work, tasks, chunksize=chunk):  # in the captures' order
            results.append(outcome)
            if done:
                done(outcome)
    return results


def _on_dask(
    tasks: list[CaptureTask], work: Callable[[CaptureTask], Outcome], address: str, done: Done | None
) -> list[Outcome]:
    """Each task (names of files the workers open themselves) goes to the cluster; only the small
    outcomes come back, so the corpus never passes through this process."""
    try:
        distributed: Any = importlib.import_module("distributed")  # untyped, and an optional extra
    except ImportError:
        raise InputError("--dask needs Dask: pip install 'icetrace[dask]'") from None
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise InputError(f"--dask {address}: cannot reach the scheduler: {exc}") from None
    except (ValueError, TypeError) as exc:  # Dask's words for an address it cannot parse
        raise InputError(f"--dask {address}: not a scheduler address ({exc})") from None
    try:
        futures = client.map(work, tasks, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        slots: list[Outcome | None] = [None] * len(tasks)
        for future in distributed.as_completed(futures):
            outcome = future.result()
            slots[index[future.key]] = outcome
            if done:
                done(outcome)
            future.release()
        return [o for o in slots if o is not None]
    finally:
        client.close()
