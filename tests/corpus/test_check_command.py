"""`icetrace check` over a small corpus copied from captures/: statuses, diffs that name the field,
JUnit, JSON, companions found by the naming convention, and --jobs giving the same report."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import defusedxml.ElementTree as SafeET
import pytest

from icetrace.cli import main
from icetrace.corpus.companions import discover
from tests.testdata import CAPTURES

LYNC = CAPTURES / "lync"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _check(*argv: str, err: io.StringIO | None = None) -> tuple[int, str]:
    out = io.StringIO()
    status = main(["check", *argv], stdout=out, stderr=err if err is not None else io.StringIO())
    return status, out.getvalue()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Four Lync scenarios, each a folder with its capture (three formats) and its client log."""
    root = tmp_path / "corpus"
    for name in ("seed-call", "failed-call", "hairpin", "mpop"):
        shutil.copytree(LYNC / name, root / name)
    assert _check("--update", "--jobs", "1", str(root))[0] == 0
    return root


def test_update_writes_one_golden_file_per_recording_and_check_passes(corpus):
    goldens = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*.expected.json"))
    assert goldens == [f"{n}/capture.pcap.expected.json" for n in ("failed-call", "hairpin", "mpop", "seed-call")]
    status, out = _check(str(corpus))
    assert status == 0 and out.count("ok       ") == 4
    doc = json.loads((corpus / "seed-call" / "capture.pcap.expected.json").read_text())
    (stream,) = doc["calls"][next(iter(doc["calls"]))]["streams"].values()
    assert stream["outcome"] == "connected" and set(stream["components"]) == {"1", "2"}
    assert stream["components"]["1"]["selected"] in stream["components"]["1"]["succeeded"]
    assert "rtt" not in json.dumps(doc) and "frame" not in json.dumps(doc)


def test_one_altered_field_is_exit_one_with_a_diff_naming_it(corpus):
    golden = corpus / "hairpin" / "capture.pcap.expected.json"
    doc = json.loads(golden.read_text())
    call = next(iter(doc["calls"]))
    component = doc["calls"][call]["streams"]["0"]["components"]["1"]
    was = component["selected"]
    component["selected"] = "10.9.9.9:1 host -> 10.9.9.8:2 host udp"
    golden.write_text(json.dumps(doc))
    status, out = _check(str(corpus))
    assert status == 1
    assert f"CHANGED  {corpus / 'hairpin' / 'capture.pcap'}\n" in out
    assert (
        f"    call {call} stream 0 component 1: selected: was 10.9.9.9:1 host -> 10.9.9.8:2 host udp -> now {was}\n"
        in out
    )
    assert out.count("ok       ") == 3 and "4 captures, 1 changed" in out

    status, out = _check("--update", str(corpus))
    assert status == 0 and f"updated  {corpus / 'hairpin' / 'capture.pcap'}" in out
    assert "1 fields changed" in out and out.count("updated  ") == 1
    assert _check(str(corpus))[0] == 0


def test_a_corrupt_capture_is_one_error_and_the_rest_pass(corpus):
    broken = corpus / "mpop" / "capture.pcap"
    broken.write_bytes(b"\xd4\xc3\xb2\xa1 a header cut short")
    status, out = _check(str(corpus))
    assert status == 2
    assert out.count("ERROR    ") == 1 and f"ERROR    {broken}\n" in out and out.count("ok       ") == 3


def test_junit_parses_with_one_case_per_capture(corpus, tmp_path):
    golden = corpus / "seed-call" / "capture.pcap.expected.json"
    doc = json.loads(golden.read_text())
    doc["verdicts"].append("D99")
    golden.write_text(json.dumps(doc))
    (corpus / "mpop" / "capture.pcap").write_bytes(b"not a capture")
    shutil.copy(LYNC / "hairpin" / "capture.pcap", corpus / "hairpin" / "again.pcap")
    report = tmp_path / "junit.xml"
    assert _check("--junit", str(report), str(corpus))[0] == 2
    root = SafeET.parse(report).getroot()
    suite = root.find("testsuite")
    assert root.tag == "testsuites" and suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == 5 == int(suite.get("tests"))
    assert (int(suite.get("failures")), int(suite.get("errors")), int(suite.get("skipped"))) == (1, 1, 1)
    by_name = {(c.get("classname"), c.get("name")): c for c in cases}
    failure = by_name[(str(corpus / "seed-call"), "capture.pcap")].find("failure")
    assert failure is not None and "verdicts: was D99 -> now gone" in failure.text
    assert by_name[(str(corpus / "mpop"), "capture.pcap")].find("error") is not None
    assert by_name[(str(corpus / "hairpin"), "again.pcap")].find("skipped") is not None
    assert not list(by_name[(str(corpus / "hairpin"), "capture.pcap")])


def test_json_format_and_jobs_give_the_same_report(corpus):
    golden = corpus / "failed-call" / "capture.pcap.expected.json"
    doc = json.loads(golden.read_text())
    doc["verdicts"] = []
    golden.write_text(json.dumps(doc))
    one = _check("--jobs", "1", "--format", "json", str(corpus))
    two = _check("--jobs", "2", "--format", "json", str(corpus))
    assert one == two and one[0] == 1
    report = json.loads(one[1])
    assert [c["status"] for c in report["captures"]] == ["changed", "ok", "ok", "ok"]
    assert report["counts"]["changed"] == 1 and report["exit_status"] == 1
    assert any(line.startswith("verdicts: was not -> now ") for line in report["captures"][0]["details"])
    assert _check("--jobs", "1", str(corpus)) == _check("--jobs", "3", str(corpus))


def test_progress_line_only_on_a_terminal(corpus):
    tty = Tty()
    _check(str(corpus), err=tty)
    assert "\r     4/4 captures analysed" in tty.getvalue()
    piped = io.StringIO()
    _check(str(corpus), err=piped)
    assert piped.getvalue() == ""


def test_companions_follow_the_naming_convention():
    (lync,) = discover([str(LYNC / "seed-call")])  # .pcapng and .cap: the same recording
    assert Path(lync.capture).name == "capture.pcap" and [Path(n).name for n in lync.logs] == ["alice.uccapilog"]
    real = {Path(t.capture).name: t for t in discover([str(CAPTURES / "real" / "libnice-oc2007")])}
    assert sorted(real) == ["left-lan.pcap", "public.pcap", "right-lan.pcap"]
    assert [Path(n).name for n in real["public.pcap"].sdp] == ["left-final.sdp", "left.sdp", "right.sdp"]
    assert real["public.pcap"].logs == ()  # left.log is libnice's, not named after a capture
    dump = {Path(t.capture).name: t for t in discover([str(CAPTURES / "real" / "chromium-dump")])}
    assert [Path(n).name for n in dump["left-lan.pcap"].sdp] == ["offer.sdp", "answer.sdp"]
    assert [Path(n).name for n in dump["left-lan.pcap"].logs] == [
        "left.webrtc-internals.json",
        "right.webrtc-internals.json",
    ]


def test_a_companions_file_lists_them_and_a_bad_one_is_an_error(tmp_path):
    shutil.copy(LYNC / "seed-call" / "capture.pcap", tmp_path / "call.pcap")
    shutil.copy(LYNC / "seed-call" / "alice.uccapilog", tmp_path / "notes.txt")
    shutil.copy(LYNC / "seed-call" / "alice.uccapilog", tmp_path / "other.uccapilog")
    listing = tmp_path / "call.pcap.companions.json"
    listing.write_text('{"logs": ["notes.txt"]}')
    (task,) = discover([str(tmp_path)])
    assert task.logs == (str(tmp_path / "notes.txt"),) and task.sdp == ()
    assert _check("--update", str(tmp_path))[0] == 0
    listing.write_text('{"logs": "notes.txt"}')
    status, out = _check(str(tmp_path))
    assert status == 2 and "companions.json: sdp and logs must be lists" in out


def test_every_capture_in_the_repository_has_a_golden_file():
    """CI runs `icetrace check captures/`: a capture committed without its golden file would be NEW there."""
    tasks = discover([str(CAPTURES)])
    assert len(tasks) >= 100
    assert [t.capture for t in tasks if not Path(t.golden).is_file()] == []
    assert not [p for p in CAPTURES.rglob("*.expected.json") if not Path(str(p)[: -len(".expected.json")]).is_file()]
