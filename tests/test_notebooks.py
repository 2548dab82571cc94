"""Every notebook in notebooks/ runs from top to bottom with `jupyter nbconvert --execute` (the dev
extra installs it, scripts/setup.sh the kernel), within a time bound and without an error; what each
shows is checked against the library and the corpus's golden files, in the stored copy as in the run
(so the outputs a reader sees are neither stale nor wrong)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import pytest

import icetrace
from tests.testdata import CAPTURES, ROOT, files

NOTEBOOKS = ROOT / "notebooks"
SECONDS = 90  # each notebook takes a few seconds (the corpus one analyses every capture); catches a runaway cell


@cache
def executed(name: str, folder: Path) -> Any:
    """The notebook as `jupyter nbconvert --to notebook --execute` leaves it."""
    started = time.monotonic()
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", str(NOTEBOOKS / name)]
    command += ["--output-dir", str(folder), f"--ExecutePreprocessor.timeout={SECONDS}"]
    command += ["--ExecutePreprocessor.kernel_name=python3"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=SECONDS * 3, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert time.monotonic() - started < SECONDS * 2
    return nbformat.read(folder / name, as_version=4)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebooks")
    return lambda name: executed(name, folder)


def stored(name: str) -> Any:
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def code_cells(notebook: Any) -> list[Any]:
    return [c for c in notebook.cells if c.cell_type == "code"]


def texts(cell: Any) -> str:
    """A cell's printed and displayed text."""
    out = []
    for o in cell.outputs:
        out.append(o.get("text", ""))
        out.append(o.get("data", {}).get("text/plain", ""))
    return "".join(out)


def output_of(notebook: Any, marker: str) -> Any:
    """The one code cell whose source holds `marker`."""
    (cell,) = [c for c in code_cells(notebook) if marker in c.source]
    return cell


class _Table(HTMLParser):
    """The rows of the first HTML table in a cell's output, as text cells."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def html_rows(cell: Any) -> list[list[str]]:
    (html,) = [o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]
    table = _Table()
    table.feed(html)
    return table.rows


NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


def test_the_notebooks_are_the_three_the_readme_names():
    assert NAMES == ["corpus-overview.ipynb", "relay-won.ipynb", "walkthrough.ipynb"]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_and_is_stored_as_run(name, run):
    notebook, kept = run(name), stored(name)
    ran, code = code_cells(notebook), code_cells(kept)
    assert code and all(c.execution_count for c in code), "stored without outputs: execute and save it"
    assert not [o for c in ran for o in c.outputs if o.output_type == "error"]
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert [bool(c.outputs) for c in ran] == [bool(c.outputs) for c in code]


def test_walkthrough_decodes_the_seed_article_s_address_by_hand(run):
    for notebook in (run("walkthrough.ipynb"), stored("walkthrough.ipynb")):
        by_hand = texts(output_of(notebook, "port = xport ^ (key >> 16)"))
        # the seed article's XOR-MAPPED-ADDRESS: 84.155.254.180:50033
        assert "= 50033" in by_hand and "= 84.155.254.180" in by_hand
        assert "D8" in texts(output_of(notebook, "a.verdicts"))


RELAY_LINE = re.compile(r"relay pair .*: answered at ([\d.]+) s, media ([\d.]+) to ([\d.]+) s \((\d+) packets\)")
DIRECT_LINE = re.compile(r"direct pair .*: answered at ([\d.]+) s, nominated at ([\d.]+) s, media from ([\d.]+) s")


def test_relay_won_tells_when_the_call_moved_to_the_direct_pair(run):
    late = CAPTURES / "real" / "chromium-late-direct"
    a = icetrace.analyze([late / "right-lan.pcapng"], sdp=[late / "offer.sdp", late / "answer.sdp"])
    t0 = a.messages.time.min()
    direct = a.pairs[a.pairs.selected].iloc[0]
    relay = a.pairs[(a.pairs.controlled_type == "relay") & (a.pairs.media_packets > 0)].iloc[0]
    for notebook in (run("relay-won.ipynb"), stored("relay-won.ipynb")):
        assert texts(output_of(notebook, "print(moves.summary")).strip() == a.selection_changes.summary.iloc[0]
        said = texts(output_of(notebook, "direct outranks relay"))
        assert "direct outranks relay: True" in said
        relay_said = [float(x) for x in RELAY_LINE.search(said).groups()]
        direct_said = [float(x) for x in DIRECT_LINE.search(said).groups()]
        assert relay_said == [round(relay[c] - t0, 3) for c in ("first_success", "media_first", "media_last")] + [
            relay.media_packets
        ]
        assert direct_said == [round(direct[c] - t0, 3) for c in ("first_success", "nominated_at", "media_first")]
        # what the prose says: the relay answered first, carried the call, and left it when the direct pair took over
        assert relay_said[0] < direct_said[0] and relay_said[1] < direct_said[2] and relay_said[2] <= direct_said[2]


def test_corpus_notebook_shows_every_verdict_the_golden_files_hold_with_its_meaning(run):
    golden: dict[str, set[str]] = {}
    for path in files(CAPTURES, "**/*.expected.json"):
        for code in json.loads(path.read_text(encoding="utf-8"))["verdicts"]:
            golden.setdefault(code, set()).add(str(path))
    meanings = dict(zip(icetrace.verdict_codes().code, icetrace.verdict_codes().meaning, strict=True))
    for notebook in (run("corpus-overview.ipynb"), stored("corpus-overview.ipynb")):
        header, *rows = html_rows(output_of(notebook, "found.reset_index()"))
        shown = {row[1]: dict(zip(header[1:], row[1:], strict=True)) for row in rows}
        assert set(shown) == set(golden)
        for code, row in shown.items():
            assert row["meaning"] == meanings[code], code
            assert int(row["captures"]) == len(golden[code]), code  # each capture's golden file lists it
