"""One capture's failure is its own ERROR row, however it fails (an exception, MemoryError, a process
killed under it on a pool or a Dask cluster), and every other capture still reports."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pytest

from icetrace.cli import main
from icetrace.corpus.worker import Outcome, summarise
from tests.testdata import CAPTURES

LYNC = CAPTURES / "lync"
GOOD = ("seed-call", "failed-call", "legacy-oc2007", "hairpin")


def _run(*argv: str) -> tuple[int, dict]:
    out, err = io.StringIO(), io.StringIO()
    status = main([*argv, "--format", "json"], stdout=out, stderr=err)
    return status, json.loads(out.getvalue())


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    for name in (*GOOD, "mpop"):
        shutil.copytree(LYNC / name, root / name, ignore=shutil.ignore_patterns("*.pcapng", "*.cap"))
    shutil.move(root / "mpop", root / "dies")
    return root


def dying_summarise(task):  # noqa: ANN001, ANN201 - pickled by name into the worker processes
    """summarise, except that analysing the capture under `dies/` kills the process, as the kernel's
    out-of-memory killer would."""
    if f"{os.sep}dies{os.sep}" in task.capture:
        os._exit(9)
    return summarise(task)


def memory_error_summarise(task):  # noqa: ANN001, ANN201
    if f"{os.sep}dies{os.sep}" in task.capture:
        from icetrace.corpus.worker import run_task

        def exhausted(_analysis: object) -> object:
            raise MemoryError

        return run_task(task, exhausted, "summary")
    return summarise(task)


def _rows(doc: dict) -> dict[str, tuple[str, str | None]]:
    return {Path(c["capture"]).parent.name: (c["status"], c["error"]) for c in doc["captures"]}


def _assert_one_error_row(status: int, doc: dict, says: str) -> None:
    rows = _rows(doc)
    assert status == 3 and rows.pop("dies") == ("error", "crashed")
    assert rows == {name: ("ok", None) for name in GOOD}  # the good captures all report, against their golden files
    (dead,) = [c for c in doc["captures"] if c["status"] == "error"]
    assert says in dead["details"][0]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_memory_error_is_one_error_row(corpus, monkeypatch, jobs):
    monkeypatch.setattr("icetrace.corpus.worker.summarise", memory_error_summarise)
    status, doc = _run("check", "--jobs", jobs, str(corpus))
    _assert_one_error_row(status, doc, "internal error: MemoryError")


def test_a_worker_process_killed_under_a_capture_is_one_error_row(corpus, monkeypatch):
    monkeypatch.setattr("icetrace.corpus.worker.summarise", dying_summarise)
    status, doc = _run("check", "--jobs", "2", str(corpus))
    _assert_one_error_row(status, doc, "the process analysing it died")


def test_a_killed_dask_worker_is_one_error_row(corpus, monkeypatch):
    distributed = pytest.importorskip("distributed")
    import dask

    monkeypatch.setattr("icetrace.corpus.worker.summarise", dying_summarise)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, protocol="tcp"
        )
        try:
            status, doc = _run("check", "--dask", cluster.scheduler_address, str(corpus))
        finally:
            cluster.close()
    _assert_one_error_row(status, doc, "the Dask worker (KilledWorker")


def test_outcome_of_a_dead_process_pickles():
    import pickle

    from icetrace.corpus.runner import died

    outcome = died("x.pcap", "the process")
    assert isinstance(pickle.loads(pickle.dumps(outcome)), Outcome) and outcome.crash_line
