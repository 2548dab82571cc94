"""`icetrace messages` decoded in a second process gives the very bytes of the one-process path."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from icetrace.cli import main
from icetrace.commands import message_pipeline
from icetrace.commands.messages import Formatter

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared" / "captures"
CAPTURES = [
    ROOT / "captures" / "lync" / "seed-call" / "capture.pcap",  # MS-TURN Send/Data indications
    ROOT / "captures" / "real" / "aioice-turn-tcp" / "public.pcapng",  # TURN over TCP
    ROOT / "captures" / "real" / "aioice-relay-only" / "left-lan.pcap",  # ChannelData
    SHARED / "public" / "ntop_nDPI" / "teams.pcap",
]
needs_fork = pytest.mark.skipif(not message_pipeline.available(), reason="needs fork and two cores")


def messages(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["messages", *args], stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@needs_fork
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "table"])
def test_two_processes_write_what_one_writes(fmt):
    paths = [str(p) for p in CAPTURES if p.exists()]
    assert len(paths) >= 3
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
    def broken(self, records):
        raise ValueError("formatter broke")

    monkeypatch.setattr(Formatter, "format", broken)
    with pytest.raises(RuntimeError, match="decoding process failed(.|\\n)*formatter broke"):
        messages("--jobs", "2", str(CAPTURES[0]))
