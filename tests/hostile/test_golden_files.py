"""`icetrace check` with damaged golden files: that capture is an ERROR naming the file, the run exits 2,
never 1 ("changed").
`check --update` never writes through a symbolic link."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from icetrace.cli import main

SEED = Path(__file__).resolve().parents[2] / "captures" / "lync" / "seed-call" / "capture.pcap"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED, folder / "call.pcap")
    return folder


def _check(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["check", *argv], stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


DAMAGE = {
    "not-json": (b'{"streams": [],\n  "verdicts": [}\n', "line 2, column"),
    "empty": (b"", "empty"),
    "blank": (b"  \n", "empty"),
    "not-utf8": (b'{"streams": [],\n"verdicts": ["\xff\xfe"]}\n', "line 2: golden file is not UTF-8"),
    "deep": (b"[" * 100_000 + b"]" * 100_000, "nests deeper"),
    "deep-but-readable": (b"[" * 500 + b"]" * 500, "not a capture summary"),
    "huge-number": (b'{"streams": ' + b"9" * 5000 + b"}", "unreadable value"),
    "not-an-object": (b"[1, 2]", "not a capture summary"),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_damaged_golden_file_is_bad_input(corpus, case):
    data, says = DAMAGE[case]
    golden = corpus / "call.pcap.expected.json"
    golden.write_bytes(data)
    status, out, err = _check(str(corpus))
    assert status == 2, out + err
    error = out.split("ERROR    ", 1)[1].splitlines()
    assert error[0].endswith("call.pcap") and error[1].strip().startswith(f"{golden}: ") and says in error[1]


def test_a_golden_directory_is_bad_input(corpus):
    (corpus / "call.pcap.expected.json").mkdir()
    status, out, err = _check(str(corpus))
    assert status == 2 and "call.pcap.expected.json: cannot read golden file" in out


def test_update_then_check_round_trips(corpus):
    assert _check("--update", str(corpus))[0] == 0
    status, out, _ = _check(str(corpus))
    assert status == 0 and "1 captures, 0 changed" in out


def test_update_never_writes_through_a_symlink(corpus, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    (corpus / "call.pcap.expected.json").symlink_to(outside)
    status, _, err = _check("--update", str(corpus))
    assert status == 2 and "symbolic link" in err
    assert outside.read_text() == "precious\n"


def test_update_does_not_create_the_target_of_a_dangling_symlink(corpus, tmp_path):
    target = tmp_path / "elsewhere.json"
    (corpus / "call.pcap.expected.json").symlink_to(target)
    status, _, _ = _check("--update", str(corpus))
    assert status == 2 and not target.exists()


def test_a_changed_golden_file_is_still_exit_one(corpus):
    assert _check("--update", str(corpus))[0] == 0
    golden = corpus / "call.pcap.expected.json"
    doc = json.loads(golden.read_text())
    doc["verdicts"] = ["NO-SUCH-VERDICT"]
    golden.write_text(json.dumps(doc))
    assert _check(str(corpus))[0] == 1
