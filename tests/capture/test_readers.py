"""Capture readers against tshark, and damaged files made by the tests."""

from __future__ import annotations

import gzip
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from icetrace.capture.reader import CaptureReader, read_frames
from icetrace.errors import InputError
from tests import testdata

ALL_CAPTURES = (
    testdata.cases(testdata.PUBLIC, suffixes=testdata.CAPTURE_SUFFIXES)
    + testdata.cases(testdata.NETMON2_DERIVED, suffixes=testdata.CAPTURE_SUFFIXES)
    + testdata.cases(testdata.NETMON_FORMAT_ONLY, suffixes=testdata.CAPTURE_SUFFIXES)
)
needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


def tshark_frames(path: Path) -> list[tuple[int, str, int]]:
    out = subprocess.run(
        [
            "tshark",
            "-n",
            "-r",
            str(path),
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "frame.time_epoch",
            "-e",
            "frame.len",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    rows = []
    for line in out.splitlines():
        number, epoch, length = line.split("\t")
        rows.append((int(number), epoch, int(length)))
    return rows


@pytest.mark.tshark
@needs_tshark
@pytest.mark.parametrize("path", ALL_CAPTURES, ids=lambda p: p.name)
def test_frames_match_tshark(path):
    reader = CaptureReader(path)
    ours = list(reader)
    theirs = tshark_frames(path)
    assert len(ours) == len(theirs)
    for frame, (number, epoch, length) in zip(ours, theirs):
        assert frame.number == number
        assert frame.orig_len == length
        # tshark prints nanoseconds; compare to the microsecond or better
        assert abs(frame.time - float(epoch)) < 1e-6, (number, frame.time, epoch)
    assert reader.problems == []


def _pcap(records: list[bytes], linktype: int = 1, nanos: bool = False, big: bool = False) -> bytes:
    e = ">" if big else "<"
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)
    for i, data in enumerate(records):
        out += struct.pack(e + "IIII", 1700000000 + i, 500, len(data), len(data)) + data
    return out


FRAME = bytes(14) + b"\x45" + bytes(19)


@pytest.mark.parametrize("nanos", [False, True])
@pytest.mark.parametrize("big", [False, True])
def test_pcap_variants(tmp_path, nanos, big):
    path = tmp_path / "x.pcap"
    path.write_bytes(_pcap([FRAME, FRAME], nanos=nanos, big=big))
    frames = list(read_frames(path))
    assert [f.number for f in frames] == [1, 2]
    assert frames[1].time == pytest.approx(1700000001 + (500e-9 if nanos else 500e-6))


def test_gzip_capture(tmp_path):
    path = tmp_path / "x.pcap.gz"
    path.write_bytes(gzip.compress(_pcap([FRAME] * 3)))
    assert len(list(read_frames(path))) == 3


def test_truncated_pcap_keeps_intact_frames_and_says_where(tmp_path):
    data = _pcap([FRAME] * 3)
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:-5])
    problems = []
    frames = list(read_frames(path, problems))
    assert len(frames) == 2
    assert len(problems) == 1
    text = str(problems[0])
    assert "cut.pcap" in text and "frame 3" in text and f"offset {24 + 2 * (16 + len(FRAME))}" in text


def test_corrupt_pcapng_block_length(tmp_path):
    src = testdata.require(testdata.PUBLIC / "ntop_nDPI" / "stun_zoom.pcapng")
    data = bytearray(src.read_bytes())
    good = list(read_frames(src))
    # corrupt the length of the 6th block
    pos, blocks = 0, 0
    while blocks < 6:
        length = struct.unpack_from("<I", data, pos + 4)[0]
        pos += length
        blocks += 1
    data[pos + 4 : pos + 8] = struct.pack("<I", 7)
    path = tmp_path / "bad.pcapng"
    path.write_bytes(bytes(data))
    problems = []
    frames = list(read_frames(path, problems))
    # pcapng repeats each block's length after it: reading resumes at the next intact block
    assert len(frames) == len(good) - 1
    assert [f.data for f in frames] == [f.data for f in good[:4] + good[5:]]
    assert len(problems) == 1
    assert "corrupt block length 7; skipped" in str(problems[0])
    assert f"offset {pos}" in str(problems[0])


def test_pcapng_block_whose_trailer_disagrees_is_skipped(tmp_path):
    src = testdata.require(testdata.PUBLIC / "ntop_nDPI" / "stun_zoom.pcapng")
    data = bytearray(src.read_bytes())
    good = list(read_frames(src))
    pos = 0
    for _ in range(8):  # the 9th block: a packet, its length field plausible but wrong (+8)
        pos += struct.unpack_from("<I", data, pos + 4)[0]
    length = struct.unpack_from("<I", data, pos + 4)[0]
    data[pos + 4 : pos + 8] = struct.pack("<I", length + 8)
    path = tmp_path / "bad.pcapng"
    path.write_bytes(bytes(data))
    problems = []
    frames = list(read_frames(path, problems))
    assert len(frames) == len(good) - 1
    assert len(problems) == 1 and f"offset {pos}" in str(problems[0])
    assert f"block length {length + 8} disagrees with its trailer; skipped" in str(problems[0])


def test_pcapng_damage_with_nothing_intact_after_it(tmp_path):
    src = testdata.require(testdata.PUBLIC / "ntop_nDPI" / "stun_zoom.pcapng")
    data = bytearray(src.read_bytes())
    last = len(data) - struct.unpack_from("<I", data, len(data) - 4)[0]
    data[last + 4 : last + 8] = struct.pack("<I", 7)
    path = tmp_path / "bad.pcapng"
    path.write_bytes(bytes(data))
    problems = []
    frames = list(read_frames(path, problems))
    assert len(frames) == len(list(read_frames(src))) - 1
    assert "no intact block follows, stopping" in str(problems[0])


def test_not_a_capture(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not a capture\n")
    with pytest.raises(InputError, match="notes.txt: not a capture file"):
        list(read_frames(path))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot open"):
        list(read_frames(tmp_path / "absent.pcap"))


def test_unknown_link_type_frames_are_read_but_carry_no_ip(tmp_path):
    from icetrace.capture.packet_source import PacketSource

    path = tmp_path / "odd.pcap"
    path.write_bytes(_pcap([FRAME], linktype=147))
    source = PacketSource([path])
    assert list(source) == []
    assert not source.problems
    from icetrace.capture import fast_reader

    assert source.frames_read == (0 if fast_reader.available() else 1)  # no IP: the C skimmer keeps it back
