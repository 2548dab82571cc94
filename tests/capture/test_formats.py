"""The format registry: every format it lists reads a file of its own, told by the file's magic number."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import pytest

from icetrace.capture.formats import registry
from icetrace.capture.formats.pcap import MAGIC_MICROS_BE, MAGIC_MICROS_LE, MAGIC_NANOS_BE, MAGIC_NANOS_LE
from icetrace.capture.input_file import open_capture
from icetrace.capture.reader import CaptureReader
from icetrace.errors import InputError
from tests.capture.test_fast_reader import frames_for, netmon_bytes, pcap_bytes, pcapng_bytes

ETHERNET, _ = frames_for("ethernet")
# pcapng_bytes: Ethernet and raw IP frames in pairs, one Simple Packet Block, then the SLL frames
PCAPNG_FRAMES = 2 * min(len(ETHERNET), len(frames_for("raw")[0])) + 1 + len(frames_for("sll")[0])

# one file per magic number each format claims: (format name, bytes, frames in it)
SAMPLES: dict[bytes, tuple[str, Callable[[], bytes], int]] = {
    MAGIC_MICROS_LE: ("pcap", lambda: pcap_bytes(ETHERNET, 1), len(ETHERNET)),
    MAGIC_MICROS_BE: ("pcap", lambda: pcap_bytes(ETHERNET, 1, big=True), len(ETHERNET)),
    MAGIC_NANOS_LE: ("pcap", lambda: pcap_bytes(ETHERNET, 1, nanos=True), len(ETHERNET)),
    MAGIC_NANOS_BE: ("pcap", lambda: pcap_bytes(ETHERNET, 1, big=True, nanos=True), len(ETHERNET)),
    b"\x0a\x0d\x0d\x0a": ("pcapng", pcapng_bytes, PCAPNG_FRAMES),
    b"GMBU": ("netmon2", lambda: netmon_bytes(ETHERNET, 3), len(ETHERNET)),
}


def test_every_registered_magic_has_a_sample_and_one_format():
    assert set(SAMPLES) == set(registry.BY_MAGIC)
    claimed = [magic for fmt in registry.FORMATS for magic in fmt.magics]
    assert len(claimed) == len(set(claimed)), "two formats claim one magic number"
    assert {name for name, _, _ in SAMPLES.values()} == {fmt.name for fmt in registry.FORMATS}


@pytest.mark.parametrize("magic", sorted(SAMPLES), ids=lambda m: m.hex())
@pytest.mark.parametrize("skimmed", [False, True], ids=["plain", "media-sink"])
def test_each_format_reads_its_own_file(tmp_path, magic, skimmed):
    name, make, frames = SAMPLES[magic]
    data = make()
    assert data[:4] == magic
    path = tmp_path / "capture.bin"  # the name says nothing: the magic number decides
    path.write_bytes(data)
    fmt = registry.format_of(data[:4])
    assert fmt is not None and fmt.name == name
    sink = (lambda *flow: None) if skimmed else None
    reader = CaptureReader(path, media_sink=sink)
    read = list(reader)
    assert reader.format == name
    assert reader.problems == []
    if not skimmed:
        assert [f.number for f in read] == list(range(1, frames + 1))
    # the format module alone, given a reader to report to, reads the same frames
    fh, _ = open_capture(path)
    with fh:
        direct = list(fmt.read(fh, CaptureReader(path, media_sink=sink)))
    assert direct == read


def test_a_gzipped_file_is_told_by_the_magic_inside(tmp_path):
    path = tmp_path / "capture.bin"
    path.write_bytes(gzip.compress(netmon_bytes(ETHERNET, 1)))
    reader = CaptureReader(path)
    assert len(list(reader)) == len(ETHERNET)
    assert reader.format == "netmon2"


@pytest.mark.parametrize(
    "data, message",
    [
        (b"RTSS" + bytes(60), "Network Monitor 1.x captures are not supported"),
        (b"", "empty file, not a capture"),
        (b"\x7fELF" + bytes(60), "not a capture file (pcap, pcapng or Network Monitor)"),
    ],
    ids=["netmon1", "empty", "other"],
)
def test_files_no_format_reads_are_refused_with_a_reason(tmp_path, data, message):
    path = tmp_path / "capture.bin"
    path.write_bytes(data)
    reader = CaptureReader(path)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        list(reader)
    assert reader.format == ""
