"""Damaged gzip, hostile Network Monitor lengths, pipes and read errors: a warning or one line, exit 2."""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from icetrace.capture.reader import CaptureReader, read_frames
from icetrace.cli import main
from tests.capture.test_fast_reader import frames_for, netmon_bytes, plain, run

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "captures" / "lync" / "seed-call"


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def _frames(path: Path) -> tuple[int, list[str]]:
    problems: list = []
    count = sum(1 for _ in read_frames(path, problems))
    return count, [str(p) for p in problems]


@pytest.fixture(scope="module")
def seed_frames() -> int:
    return sum(1 for _ in read_frames(SEED / "capture.pcap"))


def test_truncated_gzip_analyses_what_decompressed(tmp_path, seed_frames):
    packed = gzip.compress((SEED / "capture.pcap").read_bytes())
    path = tmp_path / "cut.pcap.gz"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    count, problems = _frames(path)
    assert 0 < count < seed_frames
    assert any("gzip stream damaged" in p and "cut short" in p for p in problems)
    status, out, err = _cli("analyze", str(path))
    assert status == 0 and "gzip stream damaged" in out and err == ""


def test_gzip_with_a_bad_crc_is_analysed_whole_with_a_warning(tmp_path, seed_frames):
    packed = bytearray(gzip.compress((SEED / "capture.pcap").read_bytes()))
    packed[-8] ^= 0xFF  # the CRC-32 in the member trailer
    path = tmp_path / "crc.pcap.gz"
    path.write_bytes(bytes(packed))
    count, problems = _frames(path)
    assert count == seed_frames
    assert len(problems) == 1 and "CRC" in problems[0]


def test_gzip_with_trailing_garbage_is_analysed_whole_with_a_warning(tmp_path, seed_frames):
    path = tmp_path / "tail.pcapng.gz"
    path.write_bytes(gzip.compress((SEED / "capture.pcapng").read_bytes()) + b"not gzip at all")
    count, problems = _frames(path)
    assert count == seed_frames
    assert len(problems) == 1 and "gzip stream damaged" in problems[0]


def test_damaged_gzip_reads_alike_on_both_paths(tmp_path, monkeypatch):
    packed = gzip.compress((SEED / "capture.pcap").read_bytes())
    path = tmp_path / "cut.pcap.gz"
    path.write_bytes(packed[: len(packed) // 2])
    fast = run(path)
    assert any("gzip stream damaged" in p for p in fast[2])
    plain(monkeypatch)
    assert run(path) == fast


def test_gzipped_netmon_with_damage(tmp_path):
    path = tmp_path / "x.cap.gz"
    path.write_bytes(gzip.compress(netmon_bytes(frames_for("ethernet")[0], 3)) + b"junk")
    count, problems = _frames(path)
    assert count == len(frames_for("ethernet")[0])
    assert len(problems) == 1


def _limited(*argv: str) -> subprocess.CompletedProcess[str]:
    """icetrace in a child with a 1 GB address-space cap, as a hostile-input run would have."""
    code = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30));"
        "from icetrace.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60, cwd=ROOT, check=False
    )


def test_netmon_lengths_are_checked_against_the_file_before_reading(tmp_path):
    frames = frames_for("ethernet")[0]
    good = netmon_bytes(frames, 3, table_first=True)
    huge_frame = bytearray(good)
    first = struct.unpack_from("<I", good, 128)[0]
    huge_frame[first + 12 : first + 16] = struct.pack("<I", 0xFFFFFFFF)  # captured length
    huge_table = bytearray(netmon_bytes(frames, 3))
    huge_table[28:32] = struct.pack("<I", 0x7FFFFFFF)  # frame table length
    for name, data in (("frame.cap", huge_frame), ("table.cap", huge_table)):
        path = tmp_path / name
        path.write_bytes(bytes(data))
        result = _limited("analyze", str(path))
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        count, problems = _frames(path)
        assert len(problems) == 1
        assert count == len(frames) - (name == "frame.cap")


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_netmon_table_entry_past_the_end_is_skipped_and_the_rest_read(tmp_path, monkeypatch, where):
    frames = frames_for("ethernet")[0]
    data = bytearray(netmon_bytes(frames, 2))
    table_at = struct.unpack_from("<I", data, 24)[0]
    index = {"first": 0, "middle": len(frames) // 2, "last": len(frames) - 1}[where]
    data[table_at + 4 * index : table_at + 4 * index + 4] = struct.pack("<I", len(data) + 1000)
    path = tmp_path / "past.cap"
    path.write_bytes(bytes(data))
    count, problems = _frames(path)
    assert count == len(frames) - 1
    assert len(problems) == 1 and f"frame {index + 1}:" in problems[0] and "past the end" in problems[0]
    fast = run(path)
    assert len(fast[2]) == 1
    plain(monkeypatch)
    assert run(path) == fast


def _through_fifo(tmp_path: Path, data: bytes, *argv: str) -> subprocess.CompletedProcess[str]:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as fh:
            fh.write(data)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        return subprocess.run(
            [sys.executable, "-m", "icetrace", *argv, str(fifo)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            check=False,
        )
    finally:
        writer.join(5)


@pytest.mark.parametrize(
    "name, make",
    [
        ("pcap", lambda: (SEED / "capture.pcap").read_bytes()),
        ("netmon", lambda: (SEED / "capture.cap").read_bytes()),
        ("gzip", lambda: gzip.compress((SEED / "capture.pcapng").read_bytes())),
        ("gzip-netmon", lambda: gzip.compress((SEED / "capture.cap").read_bytes())),
    ],
)
def test_a_capture_through_a_fifo_is_read_once(tmp_path, name, make):
    expected = json.loads(_cli("analyze", "--json", "-", str(SEED / "capture.pcap"))[1])
    result = _through_fifo(tmp_path, make(), "analyze", "--json", "-")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert got.pop("sources") != expected.pop("sources")
    assert _captures_named(got) == {"pipe"} and _captures_named(expected) == {"capture.pcap"}
    assert _unnamed(got) == _unnamed(expected)


def _captures_named(doc: object) -> set[str]:
    """Every capture name the JSON document gives a row (its "capture" fields)."""
    if isinstance(doc, dict):
        own = {doc["capture"]} if isinstance(doc.get("capture"), str) else set()
        return own.union(*(_captures_named(v) for v in doc.values()))
    if isinstance(doc, list):
        return set().union(*(_captures_named(v) for v in doc))
    return set()


def _unnamed(doc: object) -> object:
    """The document without its capture names (a pipe is named for itself, not for the file it carried)."""
    if isinstance(doc, dict):
        return {k: _unnamed(v) for k, v in doc.items() if k != "capture"}
    if isinstance(doc, list):
        return [_unnamed(v) for v in doc]
    return doc


def test_a_read_error_is_one_line_and_exit_two():
    # reading /proc/self/mem at offset 0 fails with EIO: an unreadable medium, as a failing disk gives
    status, _, err = _cli("analyze", "/proc/self/mem")
    assert status == 2 and err == "icetrace: /proc/self/mem: read error: Input/output error\n"


def test_an_empty_capture_is_named_as_such(tmp_path):
    path = tmp_path / "empty.pcap"
    path.write_bytes(b"")
    with pytest.raises(Exception, match="empty file"):
        list(CaptureReader(path))
