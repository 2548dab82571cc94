"""`icetrace messages` decoded in a second process gives the very bytes of the one-process path."""

from __future__ import annotations

import io
import os

import pytest

from icetrace.cli import main
from icetrace.commands import message_pipeline
from icetrace.commands.messages import Formatter
from icetrace.reading import capture_records
from icetrace.records.stun_record import RelayHop
from icetrace.tables.message_rows import csv_fields, csv_line, line_row
from tests import testdata

CAPTURES = [
    testdata.SEED_CALL,  # MS-TURN Send/Data indications
    testdata.CAPTURES / "real" / "aioice-turn-tcp" / "public.pcapng",  # TURN over TCP
    testdata.CAPTURES / "real" / "aioice-relay-only" / "left-lan.pcap",  # ChannelData
    testdata.PUBLIC / "ntop_nDPI" / "teams.pcap",
]
needs_fork = pytest.mark.skipif(not message_pipeline.available(), reason="needs fork and two cores")


def messages(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["messages", *args], stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@needs_fork
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "table"])
@pytest.mark.parametrize("decoded_here", [0, 100, 100_000], ids=["child-first", "child-later", "no-child"])
def test_two_processes_write_what_one_writes(fmt, decoded_here, monkeypatch):
    """The child starts after `decoded_here` packets, from the state learned until then."""
    monkeypatch.setattr(message_pipeline, "_DECODED_HERE", decoded_here)
    paths = [str(testdata.require(p)) for p in CAPTURES]
    one = messages("--jobs", "1", "--format", fmt, *paths)
    two = messages("--jobs", "2", "--format", fmt, *paths)
    assert one[0] == two[0] == 0
    assert one[1].count("\n") > 100
    assert two == one


@needs_fork
def test_damaged_capture_warns_once_in_both_modes(tmp_path):
    data = CAPTURES[0].read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:-9])
    one, two = messages("--jobs", "1", str(cut)), messages("--jobs", "2", str(cut))
    assert one == two
    assert two[2].count("warning") == 1 and "file truncated" in two[2]


@needs_fork
def test_a_failure_in_the_decoding_process_is_raised_here(monkeypatch):
    parent = os.getpid()
    original = Formatter.format

    def broken(self, records, capture=0):
        if os.getpid() != parent:
            raise ValueError("formatter broke")
        return original(self, records, capture)

    monkeypatch.setattr(Formatter, "format", broken)
    monkeypatch.setattr(message_pipeline, "_DECODED_HERE", 0)
    status, _out, err = messages("--jobs", "2", str(CAPTURES[0]))
    assert status == 3  # a bug in icetrace, reported on one line
    assert len(err.splitlines()) == 1
    assert "RuntimeError: the decoding process failed: ... ValueError: formatter broke at icetrace/commands/" in err


def reference_csv_line(record) -> str:
    """The declared line (line_row, flattened by csv_fields) written by csv.writer."""
    import csv

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(csv_fields(line_row(record)))
    return buffer.getvalue()


def test_csv_lines_are_what_csv_writer_writes():
    paths = testdata.require_files(testdata.CAPTURES, "**/*.pcap", exclude=[testdata.PUBLIC])
    paths += testdata.require_files(testdata.PUBLIC, "**/*.pcap*", skip_suffixes=(".json",))  # not golden files
    count = 0
    for path in paths:
        for record in capture_records(path):
            assert csv_line(record) == reference_csv_line(record), (path, record.frame)
            count += 1
    assert count > 3000
    # fields that need quoting: a delimiter and a quote in an anomaly, several attributes
    record = next(capture_records(CAPTURES[0]))
    record.anomalies = ('attribute/X: "odd", really', "trailer: 3 bytes")
    record.relay = RelayHop(via="data-indication", client=record.src, server=record.dst, peer=None)
    assert csv_line(record) == reference_csv_line(record)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_progress_line_on_a_terminal_ends_with_the_totals(jobs):
    from icetrace.capture.reader import read_frames

    err = _Terminal()
    assert main(["messages", "--jobs", jobs, str(CAPTURES[0])], stdout=io.StringIO(), stderr=err) == 0
    frames = sum(1 for _ in read_frames(CAPTURES[0]))
    last = err.getvalue().split("\r")[-1]
    assert last.endswith("\n") and f"{frames:,} frames" in last
    size_mb = CAPTURES[0].stat().st_size / 1e6
    assert f"{size_mb:.1f} MB" in last
    quiet = io.StringIO()  # not a terminal: nothing at all
    assert main(["messages", "--jobs", jobs, str(CAPTURES[0])], stdout=io.StringIO(), stderr=quiet) == 0
    assert quiet.getvalue() == ""
