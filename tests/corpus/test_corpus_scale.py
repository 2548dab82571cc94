"""The corpus on a Dask cluster the test starts and stops, captures read by the workers from a path or
an fsspec URL; and the corpus-wide Parquet tables, loaded back with pandas."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import icetrace
from icetrace.cli import main
from icetrace.corpus.tables import KINDS, read_table
from icetrace.tables.schema import CORPUS_TABLES
from tests.testdata import CAPTURES

LYNC = CAPTURES / "lync"


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    for name in ("seed-call", "failed-call", "legacy-oc2007"):
        shutil.copytree(LYNC / name, root / name)
    assert _run("check", "--update", "--jobs", "1", str(root))[0] == 0
    golden = root / "failed-call" / "capture.pcap.expected.json"
    doc = json.loads(golden.read_text())
    doc["verdicts"] = ["D99"]
    golden.write_text(json.dumps(doc))
    return root


@pytest.fixture(scope="module")
def scheduler():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None, protocol="tcp"
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def test_dask_gives_the_same_report_as_one_process(corpus, scheduler):
    local = _run("check", "--jobs", "1", str(corpus))
    on_dask = _run("check", "--dask", scheduler, str(corpus))
    assert on_dask == local and local[0] == 1
    assert "verdicts: was D99 -> now gone" in local[1]


def test_dask_workers_read_an_fsspec_url(corpus, scheduler):
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    for path in corpus.rglob("*"):
        if path.is_file():
            fs.pipe(f"/corpus-test/{path.relative_to(corpus).as_posix()}", path.read_bytes())
    try:
        status, out, _ = _run("check", "--dask", scheduler, "memory://corpus-test")
        assert status == 1
        assert out.count("ok       ") == 2 and "CHANGED  memory:///corpus-test/failed-call/capture.pcap" in out
    finally:
        fs.rm("/corpus-test", recursive=True)


def test_an_unreachable_scheduler_is_bad_input(corpus, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr("icetrace.corpus.runner.CONNECT_TIMEOUT", "1s")
    status, _, err = _run("check", "--dask", "tcp://127.0.0.1:9", str(corpus))
    assert status == 2 and "cannot reach the scheduler" in err


def test_corpus_tables_load_in_pandas(corpus, tmp_path):
    pytest.importorskip("pyarrow")
    shutil.copy(LYNC / "hairpin" / "capture.pcap", corpus / "broken.pcap")
    (corpus / "broken.pcap").write_bytes(b"not a capture")
    status, out, err = _run("corpus", str(corpus), "--out", str(tmp_path / "calls.parquet"), "--jobs", "1")
    assert status == 2 and "skipped" in err and "broken.pcap" in err
    # what the user named is one dataset: pandas (and Dask) read it whole, with a `table` column
    whole = pd.read_parquet(tmp_path / "calls.parquet")
    assert set(whole["table"]) == set(KINDS) and len(whole) == sum(
        len(pd.read_parquet(tmp_path / "calls.parquet", filters=[("table", "==", kind)])) for kind in KINDS
    )
    tables = {kind: read_table(tmp_path / "calls.parquet", kind) for kind in KINDS}
    streams = tables["streams"]
    assert list(streams.columns) == [c.name for c in CORPUS_TABLES["streams"][1]]
    assert set(streams["capture"]) == {
        str(corpus / n / "capture.pcap") for n in ("seed-call", "failed-call", "legacy-oc2007")
    }
    by_capture = streams.set_index("capture")
    assert by_capture.loc[str(corpus / "failed-call" / "capture.pcap"), "outcome"] == "failed"
    assert by_capture.loc[str(corpus / "seed-call" / "capture.pcap"), "selected_controlled_type"] == "relay"
    pairs = tables["pairs"]
    assert {"capture", "controlling_type", "controlled_type", "state", "nominated", "selected"} <= set(pairs.columns)
    assert pairs.groupby("capture")["selected"].sum().to_dict()[str(corpus / "seed-call" / "capture.pcap")] == 2
    checks, verdicts = tables["checks"], tables["verdicts"]
    assert len(checks) and checks["capture"].notna().all() and {"src", "dst", "outcome"} <= set(checks.columns)
    assert "D8" in set(verdicts[verdicts["capture"] == str(corpus / "failed-call" / "capture.pcap")]["code"])
    assert f"{tmp_path / 'calls.parquet'}: {len(streams)} streams, {len(pairs)} pairs" in out
    assert isinstance(verdicts.frames.iloc[0], (list, np.ndarray)) and len(tables["allocations"])


def test_corpus_keeps_64_bit_priorities_exact(tmp_path):
    """Pair priorities go up to 2^64: the Parquet dataset gives back what the JSON says, to the last bit."""
    pytest.importorskip("pyarrow")
    folder = CAPTURES / "real" / "chromium-relay"
    status, _, _ = _run("corpus", str(folder), "--out", str(tmp_path / "c.parquet"), "--jobs", "1")
    pairs = pd.read_parquet(tmp_path / "c.parquet", filters=[("table", "==", "pairs")])
    assert status == 0 and pairs["priority"].dtype == "UInt64"
    doc = icetrace.analyze([folder / "public.pcap"]).to_dict()
    exact = {p["priority"] for s in doc["streams"] for c in s["components"] for p in c["pairs"] if p["priority"]}
    big = {int(v) for v in pairs.loc[pairs.capture.str.endswith("public.pcap"), "priority"].dropna()}
    assert exact and big == exact and max(exact) > 2**53  # past float64's exact integers


def test_the_default_path_needs_no_dask_fsspec_or_pyarrow(corpus, monkeypatch):
    for module in ("dask", "distributed", "fsspec", "pyarrow"):
        monkeypatch.setitem(sys.modules, module, None)  # importing it now raises ImportError
    status, out, _ = _run("check", "--jobs", "1", str(corpus))
    assert status == 1 and out.count("ok       ") == 2
    status, _, err = _run("check", "--dask", "tcp://127.0.0.1:9", str(corpus))
    assert status == 2 and "needs Dask" in err
    status, _, err = _run("check", "memory://elsewhere")
    assert status == 2 and "needs fsspec" in err
    status, _, err = _run("corpus", str(corpus), "--out", str(corpus / "t.parquet"), "--jobs", "1")
    assert status == 2 and "needs pyarrow" in err
