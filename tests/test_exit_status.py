"""Exit statuses: a bug in icetrace (3) never reads as a regression (1) or as bad input (2).

The crash path is forced by making one internal step raise inside a real run on a real capture;
everything around it (reading, correlating, reporting, the CLI) runs for real.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

import icetrace.analysis
from icetrace.cli import main
from icetrace.crash import describe
from icetrace.exit_status import ExitStatus

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "captures" / "lync" / "seed-call" / "capture.pcap"
FAILED_CALL = ROOT / "captures" / "lync" / "failed-call" / "capture.pcap"


def _call_site(module_path: Path, needle: str) -> str:
    """`icetrace/...py:LINE` of the one line of module_path containing needle."""
    lines = [n for n, text in enumerate(module_path.read_text().splitlines(), 1) if needle in text]
    assert len(lines) == 1, lines
    return f"{module_path.relative_to(ROOT).as_posix()}:{lines[0]}"


DIAGNOSE_CALL = _call_site(ROOT / "icetrace" / "analysis.py", "diagnose(rec)")


@pytest.fixture
def diagnosis_crashes_once(monkeypatch):
    """The first diagnosis of the run raises, as a bug would; later ones run for real."""
    real = icetrace.analysis.diagnose
    calls = []

    def diagnose(rec):
        calls.append(rec)
        if len(calls) == 1:
            raise ValueError("boom in the diagnosis")
        return real(rec)

    monkeypatch.setattr(icetrace.analysis, "diagnose", diagnose)
    return calls


def test_exit_statuses_are_distinct():
    assert len({int(s) for s in ExitStatus}) == len(ExitStatus)
    assert ExitStatus.INTERNAL not in (ExitStatus.OK, ExitStatus.REGRESSION, ExitStatus.BAD_INPUT)


def test_a_crash_exits_internal_with_one_line_naming_it(diagnosis_crashes_once):
    out, err = io.StringIO(), io.StringIO()
    assert main(["analyze", str(SEED)], stdout=out, stderr=err) == ExitStatus.INTERNAL
    lines = err.getvalue().splitlines()
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("icetrace: internal error: ValueError: boom in the diagnosis")
    assert f" at {DIAGNOSE_CALL};" in line  # the innermost icetrace frame, not the test's
    assert "report it to the icetrace issue tracker" in line and "--traceback" in line
    assert "Traceback" not in err.getvalue()
    assert diagnosis_crashes_once  # the real run got as far as the diagnosis


def test_traceback_option_prints_the_traceback_and_keeps_the_status(diagnosis_crashes_once):
    err = io.StringIO()
    assert main(["--traceback", "analyze", str(SEED)], stdout=io.StringIO(), stderr=err) == ExitStatus.INTERNAL
    text = err.getvalue()
    assert text.startswith("Traceback (most recent call last):")
    assert 'analysis.py", line ' + DIAGNOSE_CALL.rsplit(":", 1)[1] in text
    assert "ValueError: boom in the diagnosis" in text
    assert text.splitlines()[-1].startswith("icetrace: internal error: ValueError")


def test_unreadable_input_is_bad_input_not_a_crash(tmp_path):
    garbage = tmp_path / "notes.pcap"
    garbage.write_bytes(b"this is not a capture at all\n" * 4)
    err = io.StringIO()
    assert main(["analyze", str(garbage)], stdout=io.StringIO(), stderr=err) == ExitStatus.BAD_INPUT
    assert "internal error" not in err.getvalue() and str(garbage) in err.getvalue()


def test_check_reports_a_crashing_capture_as_an_error_and_runs_the_others(tmp_path, monkeypatch):
    shutil.copy(SEED, tmp_path / "a-seed.pcap")
    shutil.copy(FAILED_CALL, tmp_path / "b-failed.pcap")
    assert main(["check", str(tmp_path), "--update"], stdout=io.StringIO()) == ExitStatus.OK
    golden = tmp_path / "b-failed.pcap.expected.json"
    doc = json.loads(golden.read_text())
    doc["verdicts"].append("NO_SUCH_VERDICT")
    golden.write_text(json.dumps(doc))

    calls: list[object] = []
    real = icetrace.analysis.diagnose

    def diagnose(rec):
        calls.append(rec)
        if len(calls) == 1:
            raise KeyError("component")
        return real(rec)

    monkeypatch.setattr(icetrace.analysis, "diagnose", diagnose)
    out, err = io.StringIO(), io.StringIO()
    status = main(["check", str(tmp_path)], stdout=out, stderr=err)
    assert status == ExitStatus.INTERNAL  # a changed capture too, but the crash is what must show
    listing = out.getvalue()
    assert (
        f"ERROR    {tmp_path / 'a-seed.pcap'}\n    internal error: KeyError: 'component' at {DIAGNOSE_CALL}\n"
        in listing
    )
    assert f"CHANGED  {tmp_path / 'b-failed.pcap'}\n" in listing and "NO_SUCH_VERDICT" in listing
    assert listing.endswith("2 captures, 1 changed, 0 without golden file, 0 unreadable, 1 crashed\n")
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"icetrace: internal error in {tmp_path / 'a-seed.pcap'}: KeyError")
    assert len(calls) == 2

    # the same corpus without the bug: the change alone is status 1
    monkeypatch.setattr(icetrace.analysis, "diagnose", real)
    assert main(["check", str(tmp_path)], stdout=io.StringIO(), stderr=io.StringIO()) == ExitStatus.REGRESSION


def test_check_with_traceback_prints_it_for_the_crashing_capture(tmp_path, diagnosis_crashes_once):
    shutil.copy(SEED, tmp_path / "a.pcap")
    shutil.copy(SEED, tmp_path / "b.pcap")
    out, err = io.StringIO(), io.StringIO()
    assert main(["--traceback", "check", str(tmp_path)], stdout=out, stderr=err) == ExitStatus.INTERNAL
    assert err.getvalue().count("Traceback (most recent call last):") == 1
    assert "ValueError: boom in the diagnosis" in err.getvalue()
    assert f"NEW      {tmp_path / 'b.pcap'}" in out.getvalue()


def test_check_reports_unreadable_captures_and_golden_files_as_bad_input(tmp_path):
    shutil.copy(SEED, tmp_path / "a.pcap")
    assert main(["check", str(tmp_path), "--update"], stdout=io.StringIO()) == ExitStatus.OK
    (tmp_path / "b.pcap").write_bytes(b"\xd4\xc3\xb2\xa1 truncated")
    out = io.StringIO()
    assert main(["check", str(tmp_path)], stdout=out, stderr=io.StringIO()) == ExitStatus.BAD_INPUT
    assert f"ok       {tmp_path / 'a.pcap'}" in out.getvalue()
    assert f"ERROR    {tmp_path / 'b.pcap'}" in out.getvalue() and "1 unreadable, 0 crashed" in out.getvalue()

    (tmp_path / "b.pcap").unlink()
    (tmp_path / "a.pcap.expected.json").write_text('{"streams": [')
    out = io.StringIO()
    assert main(["check", str(tmp_path)], stdout=out, stderr=io.StringIO()) == ExitStatus.BAD_INPUT
    assert "golden file is not JSON" in out.getvalue()


def test_a_multi_line_message_keeps_its_first_and_last_lines():
    try:
        raise RuntimeError("the decoding process failed:\nTraceback ...\n  File x\nKeyError: 'x'\n")
    except RuntimeError as exc:
        text = describe(exc)
    assert text == "RuntimeError: the decoding process failed: ... KeyError: 'x'"  # raised in a test: no icetrace frame
    assert "\n" not in text


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no-such-dir/ladder.png", "no such directory"),
        ("ladder.xyz", "must end in .png, .svg or .pdf"),
        ("ladder", "must end in .png, .svg or .pdf"),
    ],
)
def test_plot_to_a_place_it_cannot_write_is_bad_input(tmp_path, name, message):
    err = io.StringIO()
    target = tmp_path / name
    assert main(["plot", str(SEED), "--out", str(target)], stdout=io.StringIO(), stderr=err) == ExitStatus.BAD_INPUT
    text = err.getvalue()
    assert text.startswith(f"icetrace: --out {target}: ") and message in text and text.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_help_states_every_exit_status():
    out = io.StringIO()
    assert main([], stdout=out) == ExitStatus.OK
    text = " ".join(out.getvalue().split())
    for status in ExitStatus:
        assert f"{int(status)} " in text.split("exit status:", 1)[1]
