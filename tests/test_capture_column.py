"""The `capture` column: every table of an analysis names the file each row came from, the same way in
the DataFrames, the JSON document, `icetrace messages` (CSV, JSONL, table) and the corpus dataset.
Tested on merged analyses of the project's real three-tap recordings."""

from __future__ import annotations

import csv
import io
import json
import re
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

import icetrace
from icetrace.analysis import Analysis
from icetrace.cli import main
from icetrace.records.capture_set import capture_index
from icetrace.report.text import write_report
from icetrace.tables import schema
from tests.testdata import CAPTURES, require

TAPS = ("left-lan.pcap", "public.pcap", "right-lan.pcap")
RELAY = CAPTURES / "real" / "chromium-relay"  # the answers of some checks are held by another tap
BARESIP = CAPTURES / "real" / "baresip-kamailio"  # verdicts whose frames lie in several taps

# the tables whose rows each stand for one frame (the column that holds it)
FRAME_OF = {
    "messages": "frame",
    "transactions": "first_frame",
    "checks": "frame",
    "media": "first_frame",
    "allocations": "frame",
}


@cache
def merged(folder: Path) -> Analysis:
    return icetrace.analyze([require(folder / tap) for tap in TAPS])


def file_part(reference: str) -> str:
    return reference.rsplit("#", 1)[0]


def names(column) -> list:
    """A string column as the JSON holds it: None where it is empty."""
    return [None if v is None or v is pd.NA else v for v in column]


@pytest.mark.parametrize("folder", [RELAY, BARESIP], ids=lambda f: f.name)
def test_every_table_names_a_given_capture_first(folder):
    a = merged(folder)
    for name in schema.TABLES:
        table = getattr(a, name)
        assert table.columns[0] == "capture", name
        assert set(table.capture.dropna()) <= set(TAPS), name
        if name != "verdicts":  # a verdict without frames names no capture
            assert table.capture.notna().all(), name
    # every tap held messages of its own that no other tap held first
    assert set(a.messages.capture) == set(TAPS)


@pytest.mark.parametrize("folder", [RELAY, BARESIP], ids=lambda f: f.name)
def test_a_row_of_one_frame_names_the_capture_of_that_frame(folder):
    a = merged(folder)
    for name, column in FRAME_OF.items():
        table = getattr(a, name)
        assert len(table), name
        expected = [TAPS[capture_index(int(f))] for f in table[column]]
        assert list(table.capture) == expected, name


def test_the_tables_and_the_json_name_the_same_capture():
    a = merged(BARESIP)
    doc = a.to_dict()
    spread = [v for v in doc["verdicts"] if len({file_part(f) for f in v["frames"]}) > 1]
    assert spread, "no verdict cites frames of two taps: the test would prove nothing"
    assert [v["capture"] for v in doc["verdicts"]] == names(a.verdicts.capture)
    assert all(v["capture"] == (file_part(v["frames"][0]) if v["frames"] else None) for v in doc["verdicts"])
    pairs = [p for s in doc["streams"] for c in s["components"] for p in c["pairs"]]
    assert [p["capture"] for p in pairs] == names(a.pairs.capture)
    assert all(p["capture"] == file_part(p["first_frame"]) for p in pairs if p["first_frame"])
    assert [x["capture"] for x in doc["allocations"]] == [file_part(x["frame"]) for x in doc["allocations"]]
    assert [s["capture"] for s in doc["streams"]] == names(a.streams.capture)
    candidates = [c for s in doc["streams"] for role in ("controlling", "controlled") for c in s[role]["candidates"]]
    assert sorted(c["capture"] for c in candidates) == sorted(a.candidates.capture)


def test_a_transaction_answered_at_another_tap_keeps_its_request_s_capture():
    a = merged(RELAY)
    t = a.transactions
    elsewhere = t[t.response_frame.notna() & (t.first_frame // 2**32 != t.response_frame // 2**32)]
    assert len(elsewhere), "every answer in its request's tap: the test would prove nothing"
    assert list(elsewhere.capture) == [TAPS[int(f) >> 32] for f in elsewhere.first_frame]


def test_one_capture_names_its_file_in_every_row():
    a = icetrace.analyze([require(RELAY / "public.pcap")])
    for name in schema.TABLES:
        table = getattr(a, name)
        if name == "verdicts":
            table = table[table.frames.map(len) > 0]
        assert set(table.capture) <= {"public.pcap"}, name
    assert set(a.messages.capture) == {"public.pcap"}


def test_signaled_candidates_name_the_sdp_file_that_carried_them():
    folder = CAPTURES / "real" / "chromium-relay"
    a = icetrace.analyze(
        [require(folder / "left-lan.pcap")],
        sdp=[require(folder / "offer.sdp"), require(folder / "answer.sdp")],
        app_signaling=False,
    )
    signaled = a.candidates[a.candidates.origin == "sdp"]
    assert len(signaled) and set(signaled.capture) <= {"offer.sdp", "answer.sdp"}
    assert set(a.streams.capture) <= {"offer.sdp", "answer.sdp"}


def _messages(*args: str) -> str:
    out = io.StringIO()
    assert main(["messages", *args], stdout=out, stderr=io.StringIO()) == 0
    return out.getvalue()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_message_lines_of_several_captures_start_with_their_capture(jobs):
    paths = [str(require(RELAY / tap)) for tap in TAPS]
    merged_csv = list(csv.reader(io.StringIO(_messages("--jobs", jobs, "--format", "csv", *paths))))
    assert merged_csv[0][0] == "capture"
    for tap, path in zip(TAPS, paths, strict=True):
        alone = list(csv.reader(io.StringIO(_messages("--jobs", jobs, "--format", "csv", path))))
        mine = [row[1:] for row in merged_csv[1:] if row[0] == tap]
        assert mine == alone[1:], tap  # each capture's own lines, in its order, nothing lost or added
    lines = [json.loads(line) for line in _messages("--jobs", jobs, "--format", "jsonl", *paths).splitlines()]
    assert [(x["capture"], x["frame"]) for x in lines] == [(row[0], int(row[1])) for row in merged_csv[1:]]
    table = _messages("--jobs", jobs, *paths).splitlines()
    assert table[0].split()[:2] == ["capture", "frame"]
    assert [line.split()[:2] for line in table[1:]] == [row[:2] for row in merged_csv[1:]]


def test_one_capture_s_message_lines_have_no_capture_column():
    text = _messages("--format", "csv", str(require(RELAY / "public.pcap")))
    assert text.splitlines()[0].split(",")[0] == "frame"


def test_the_corpus_dataset_names_each_capture_by_its_path(tmp_path):
    pytest.importorskip("pyarrow")  # the corpus extra, installed by scripts/setup.sh
    from icetrace.corpus.tables import read_table

    out = tmp_path / "c.parquet"
    assert main(["corpus", str(RELAY), "--out", str(out), "--jobs", "1"], stdout=io.StringIO()) == 0
    whole = pd.read_parquet(out)
    assert set(whole.capture) == {str(RELAY / tap) for tap in TAPS}  # the path as the corpus found it
    for kind in schema.CORPUS_TABLES:
        table = read_table(out, kind)
        assert list(table.columns) == [c.name for c in schema.CORPUS_TABLES[kind][1]], kind
        assert table.capture.notna().all(), kind


SAME_NAME = [
    CAPTURES / "real" / "chromium-direct" / "left-lan.pcap",
    CAPTURES / "real" / "chromium-relay" / "left-lan.pcap",
]
SAME_NAMES = {"chromium-direct/left-lan.pcap", "chromium-relay/left-lan.pcap"}  # the shortest ends that differ


def _references(text: str) -> set[str]:
    """The capture named by every 'file#number' frame reference in a text."""
    return set(re.findall(r"([\w./-]+\.pcap)#\d+", text))


def test_two_captures_of_one_file_name_are_named_alike_in_every_output(tmp_path):
    paths = [str(require(p)) for p in SAME_NAME]
    a = icetrace.analyze(paths)
    for name in schema.TABLES:
        table = getattr(a, name)
        assert set(table.capture.dropna()) <= SAME_NAMES, (name, set(table.capture.dropna()))
    # the candidates the captures' own signaling carried name their capture as its messages do
    signaled = a.candidates[a.candidates.origin.eq("sdp")]
    assert set(signaled.capture) == SAME_NAMES and set(a.streams.capture) == SAME_NAMES
    doc = json.dumps(a.to_dict())
    captures = set(re.findall(r'"capture": "([^"]+)"', doc))
    assert captures == SAME_NAMES and _references(doc) == SAME_NAMES
    text, html = io.StringIO(), tmp_path / "report.html"
    assert main(["analyze", *paths, "--html", str(html)], stdout=text, stderr=io.StringIO()) in (0, 1)
    assert _references(text.getvalue()) == SAME_NAMES
    assert _references(html.read_text(encoding="utf-8")) == SAME_NAMES
    for fig in (a.plot_ladder(), a.plot_timeline()):
        drawn = " ".join(t.get_text() for t in fig.findobj(lambda x: hasattr(x, "get_text")))
        assert _references(drawn) <= SAME_NAMES
    ladder = " ".join(t.get_text() for t in a.plot_ladder().findobj(lambda x: x.get_gid() == "arrow-label"))
    assert _references(ladder) == SAME_NAMES
    assert all(name in repr(a) for name in SAME_NAMES)
    out = io.StringIO()
    assert main(["annotate", *paths, "-o", str(tmp_path / "out")], stdout=out, stderr=io.StringIO()) == 0
    copies = {p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.pcapng")}
    assert copies == {n.removesuffix(".pcap") + ".pcapng" for n in SAME_NAMES}


LEARNED = CAPTURES / "synthetic" / "learned_candidates"  # no signaling in the capture: the files are it
ONE_SIDE = CAPTURES / "real" / "chromium-relay-one-side"  # each agent's getStats export holds its description


def _copies(tmp_path: Path, files: dict[str, Path]) -> list[str]:
    """Each file copied to the name it is given under `tmp_path`; their paths."""
    for name, original in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(require(original).read_bytes())
    return [str(tmp_path / name) for name in files]


def _mentions(text: str, file_name: str) -> set[str]:
    """Every mention of a file name in a text, with as much of its path as the text gives."""
    return set(re.findall(rf"[\w./-]*{re.escape(file_name)}", text))


def _told_apart(text: str, file_name: str, names: set[str]) -> bool:
    """The text names the file only by an end of its path that tells it apart (or its whole path)."""
    found = _mentions(text, file_name)
    return bool(found) and all(n.endswith(tuple(names)) for n in found)


def test_sdp_files_of_one_file_name_are_named_apart_in_every_output(tmp_path):
    names = {"left/call.sdp", "right/call.sdp"}
    sdp = _copies(tmp_path, {"left/call.sdp": LEARNED / "offer.sdp", "right/call.sdp": LEARNED / "answer.sdp"})
    capture = str(require(LEARNED / "capture.pcap"))
    a = icetrace.analyze([capture], sdp=sdp)
    assert set(a.streams.capture) == {"left/call.sdp"}  # the offer signaled the stream
    assert set(a.candidates.capture) == {"capture.pcap", *names}
    assert "callee:right/call.sdp" in set(a.candidates.agent)  # the answer's agent, by its file
    text, listed = io.StringIO(), io.StringIO()
    assert main(["analyze", capture, *(f"--sdp={p}" for p in sdp)], stdout=text, stderr=io.StringIO()) == 0
    assert main(["candidates", *sdp], stdout=listed, stderr=io.StringIO()) == 0
    for output in (json.dumps(a.to_dict()), text.getvalue(), listed.getvalue(), repr(a)):
        assert _told_apart(output, "call.sdp", names), _mentions(output, "call.sdp")


def test_logs_of_one_file_name_are_named_apart_in_every_output(tmp_path):
    names = {"left/stats.json", "right/stats.json"}
    logs = _copies(tmp_path, {n: ONE_SIDE / f"{n.split('/')[0]}.result.json" for n in sorted(names)})
    # the capture's own signaling left unread: the exports are what signaled the call
    a = icetrace.analyze([require(ONE_SIDE / "left-lan.pcap")], logs=logs, app_signaling=False)
    assert set(a.streams.capture) <= names and set(a.candidates.capture) <= {"left-lan.pcap", *names}
    reports = " ".join(v for v in a.verdicts.message if "The agent reported" in v)
    assert _mentions(reports, "stats.json") == names
    text, listed = io.StringIO(), io.StringIO()
    write_report(a, text, colour=False)
    assert main(["candidates", *logs], stdout=listed, stderr=io.StringIO()) == 0
    for output in (json.dumps(a.to_dict()), text.getvalue(), listed.getvalue()):
        assert _told_apart(output, "stats.json", names), _mentions(output, "stats.json")
