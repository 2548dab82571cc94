"""The format registry: every format it lists reads a file of its own, told by the file's magic number."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import pytest

from icetrace.capture.formats import registry
from icetrace.capture.formats.base import CaptureFormat
from icetrace.capture.formats.pcap import MAGIC_MICROS_BE, MAGIC_MICROS_LE, MAGIC_NANOS_BE, MAGIC_NANOS_LE
from icetrace.capture.input_file import open_capture
from icetrace.capture.pcapng_writer import write_annotated
from icetrace.capture.reader import CaptureReader
from icetrace.errors import InputError
from tests.capture.test_fast_reader import frames_for, netmon_bytes, pcap_bytes, pcapng_bytes
from tests.testdata import ROOT

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


@pytest.mark.parametrize("magic", sorted(SAMPLES), ids=lambda m: m.hex())
def test_each_format_copies_its_own_file_as_pcapng(tmp_path, magic):
    """`icetrace annotate` finds the format by its magic number and lets it write the copy: the copy
    holds every frame with its number, time and bytes, and the notes given for it."""
    _, make, frames = SAMPLES[magic]
    source, copy = tmp_path / "capture.bin", tmp_path / "copy.pcapng"
    source.write_bytes(make())
    assert write_annotated(source, copy, {1: ["first note"], frames: ["last", "note"]}) == []
    original, copied = list(CaptureReader(source)), list(CaptureReader(copy))
    assert [(f.number, f.data) for f in copied] == [(f.number, f.data) for f in original]
    assert [f.time for f in copied] == pytest.approx([f.time for f in original], abs=1e-6)
    data = copy.read_bytes()
    assert data.count(b"first note") == data.count(b"last") == 1
    blank = tmp_path / "blank.pcapng"
    write_annotated(source, blank, {}, keep={1})
    assert [len(f.data) > 0 for f in CaptureReader(blank)] == [True] + [False] * (frames - 1)


def test_the_docs_checklist_names_every_part_of_a_format():
    """docs/capture-formats.md's "Adding a format" names each method a format implements, and every
    registered format implements them."""
    methods = [name for name in vars(CaptureFormat) if not name.startswith("_")]
    assert {"read", "copy_as_pcapng"} <= set(methods)
    text = (ROOT / "docs" / "capture-formats.md").read_text(encoding="utf-8")
    checklist = text[text.index("## Adding a format") :]
    assert [m for m in methods if f"`{m}(" not in checklist] == []
    for fmt in registry.FORMATS:
        assert all(callable(getattr(fmt, m)) for m in methods), fmt.name


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
