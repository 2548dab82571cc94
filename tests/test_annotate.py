"""`icetrace annotate`: the analysis as pcapng packet comments, read back with tshark; the frames
themselves (numbers, times, bytes) unchanged."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

import icetrace
from icetrace.capture.pcapng_writer import write_annotated
from icetrace.capture.reader import read_frames
from icetrace.cli import main
from tests.capture.test_wifi_and_netmon_media import DATAGRAM, netmon, wifi

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "captures/lync/seed-call"
needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


def tshark(path: Path, *args: str) -> list[list[str]]:
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), *args], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return [line.split("\t") for line in out.splitlines()]


def comments(path: Path, display_filter: str = "frame.comment") -> dict[int, list[str]]:
    rows = tshark(
        path,
        "-Y",
        display_filter,
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=|",
        "-e",
        "frame.number",
        "-e",
        "frame.comment",
    )
    return {int(n): c.split("|") for n, c in rows}


def frames(path: Path) -> list[tuple[int, float, bytes, int]]:
    return [(f.number, f.time, f.data, f.orig_len) for f in read_frames(path)]


def frame_times(path: Path) -> list[list[str]]:
    return tshark(path, "-T", "fields", "-e", "frame.number", "-e", "frame.time_epoch", "-e", "frame.len")


@pytest.fixture(scope="module")
def seed():
    return icetrace.analyze([SEED / "capture.pcap"])


@pytest.mark.tshark
@needs_tshark
@pytest.mark.parametrize("name", ["capture.pcap", "capture.pcapng", "capture.cap"])
def test_seed_call_comments_read_back_with_tshark(tmp_path, seed, name):
    out = tmp_path / "annotated.pcapng"
    stdout = io.StringIO()
    assert main(["annotate", str(SEED / name), "-o", str(out)], stdout=stdout) == 0
    assert str(out) in stdout.getvalue()
    assert out.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"

    d8 = seed.verdicts[seed.verdicts.code == "D8"]
    evidence = sorted({int(f) for frames in d8.frames for f in frames})
    assert evidence
    assert sorted(comments(out, 'frame.comment contains "D8"')) == evidence

    notes = comments(out)
    checks = seed.checks
    # every check request is named, with its direction and retransmission number
    retransmitted = checks[checks.retransmissions >= 2].iloc[0]
    first = notes[int(retransmitted.frame)]
    assert any(n.startswith("check c→d pair host ") and "retransmission" not in n for n in first)
    # a success names its round-trip time as the Transactions table has it
    answered = seed.transactions[
        (seed.transactions.outcome == "success") & seed.transactions.transaction_id.isin(checks.transaction_id)
    ]
    row = answered.iloc[0]
    assert f"success rtt {row.rtt_ms:.1f} ms" in " ".join(notes[int(row.response_frame)])
    # the later sends of the retransmitted check say which retransmission they are
    lines = [n for texts in notes.values() for n in texts]
    assert sum("retransmission 2" in n for n in lines) == int((checks.retransmissions >= 2).sum())
    selected = seed.pairs[seed.pairs.selected]
    assert sum(n.startswith("selected pair ") for n in lines) == len(selected)
    assert sum(n.startswith("nominated ") for n in lines) == int(seed.pairs.nominated.sum())
    allocations = seed.to_dict()["allocations"]
    for a in allocations:
        assert any(n.startswith(f"allocation {a['client']}") and a["relayed"] in n for n in notes[a["frame"]])
    # the stream's cause on each frame it cites
    cause = seed.reconstruction.streams[0].cause
    assert cause is not None and cause.evidence_frames
    assert sorted(comments(out, f'frame.comment contains "cause {cause.code}"')) == cause.evidence_frames


@pytest.mark.tshark
@needs_tshark
@pytest.mark.parametrize("name", ["capture.pcap", "capture.pcapng", "capture.cap"])
def test_frames_are_unchanged(tmp_path, name):
    source = SEED / name
    out = tmp_path / "annotated.pcapng"
    write_annotated(source, out, {1: ["first"], 15: ["two", "notes"]})
    assert frames(out) == frames(source)
    assert frame_times(out) == frame_times(source)
    assert comments(out) == {1: ["first"], 15: ["two", "notes"]}


def _block(endian: str, btype: int, body: bytes) -> bytes:
    return struct.pack(endian + "II", btype, 12 + len(body)) + body + struct.pack(endian + "I", 12 + len(body))


def _opt(endian: str, code: int, value: bytes) -> bytes:
    return struct.pack(endian + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _section(endian: str, packets: list[tuple[str, bytes]], t0: int) -> bytes:
    """SHB, an Ethernet IDB in nanoseconds, a name resolution block, then EPBs ("epb", "epb+comment") or SPBs."""
    shb = _block(endian, 0x0A0D0D0A, struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb = _block(endian, 1, struct.pack(endian + "HHI", 1, 0, 0) + _opt(endian, 9, b"\x09") + _opt(endian, 0, b""))
    nrb_record = _opt(endian, 1, bytes([192, 0, 2, 1]) + b"alice.example\0") + _opt(endian, 0, b"")
    blocks = [shb, idb, _block(endian, 4, nrb_record)]
    for i, (kind, data) in enumerate(packets):
        padded = data + b"\0" * (-len(data) % 4)
        if kind == "spb":
            blocks.append(_block(endian, 3, struct.pack(endian + "I", len(data)) + padded))
            continue
        ts = t0 + i * 1_000_000_123
        options = b""
        if kind == "epb+comment":
            options = _opt(endian, 1, b"from the capturer") + _opt(endian, 0x8001, b"\x01\x02") + _opt(endian, 0, b"")
        head = struct.pack(endian + "IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
        blocks.append(_block(endian, 6, head + padded + options))
    return b"".join(blocks)


@pytest.mark.tshark
@needs_tshark
def test_pcapng_sections_blocks_and_options_are_kept(tmp_path):
    from scapy.layers.l2 import Ether

    packet = bytes(Ether() / DATAGRAM)
    source = tmp_path / "two-sections.pcapng"
    source.write_bytes(
        _section("<", [("epb+comment", packet), ("spb", packet), ("epb", packet)], 1_767_225_600_000_000_000)
        + _section(">", [("epb", packet), ("epb+comment", packet)], 1_767_225_700_000_000_000)
    )
    out = tmp_path / "annotated.pcapng"
    notes = {1: ["check one"], 2: ["on a simple packet block"], 4: ["big-endian section"], 5: ["added"]}
    assert write_annotated(source, out, notes) == []
    assert frames(out) == frames(source)
    # the SPB became an EPB to carry its comment (as Wireshark saves it): time 0 where it had none
    theirs = frame_times(source)
    assert theirs[1] == ["2", "", "86"]
    assert frame_times(out) == [*theirs[:1], ["2", "0.000000000", "86"], *theirs[2:]]
    assert comments(out) == {
        1: ["from the capturer", "check one"],
        2: ["on a simple packet block"],
        4: ["big-endian section"],
        5: ["from the capturer", "added"],
    }
    # the name resolution blocks came along: tshark resolves 192.0.2.1 from them
    names = tshark(out, "-N", "n", "-T", "fields", "-e", "ip.src_host")
    assert {row[0] for row in names} == {"alice.example"}
    assert out.read_bytes().count(b"\x0a\x0d\x0d\x0a") + out.read_bytes().count(b"\x0a\x0d\x0d\x0a"[::-1]) >= 2


@pytest.mark.tshark
@needs_tshark
def test_network_monitor_media_types_become_pcapng_link_types(tmp_path):
    from scapy.layers.l2 import Ether

    netmon_radio = struct.pack("<BHII", 2, 32, 1, 0).ljust(32, b"\0")
    source = tmp_path / "media.cap"
    source.write_bytes(
        netmon(
            [
                (1, bytes(Ether() / DATAGRAM)),
                (6, netmon_radio + wifi(True)),
                (9, bytes(DATAGRAM)),
                (0xE000 + 101, bytes(DATAGRAM)),
                (0xFFFD, b"network information, not a packet"),
            ]
        )
    )
    out = tmp_path / "annotated.pcapng"
    write_annotated(source, out, {n: [f"note {n}"] for n in range(1, 6)})
    # the network-information record is no packet: Wireshark shows no frame for it, nor does the copy
    assert comments(out) == {n: [f"note {n}"] for n in range(1, 5)}
    assert frame_times(out)[0][1] == frame_times(source)[0][1]
    assert [row[1] for row in frame_times(out)] == [row[1] for row in frame_times(source)]
    assert [r[0] for r in tshark(out, "-Y", "stun", "-T", "fields", "-e", "frame.number")] == ["1", "2", "3", "4"]
    links = tshark(out, "-T", "fields", "-e", "frame.encap_type")
    assert [row[0] for row in links][:4] == ["1", "20", "7", "7"]  # Ethernet, IEEE 802.11, raw IP twice
    # only the Network Monitor radio header is gone; the 802.11 frame is the same bytes
    ours, theirs = frames(out), frames(source)[:4]
    assert ours[1][2] == theirs[1][2][32:] and [f for i, f in enumerate(ours) if i != 1] == [
        f for i, f in enumerate(theirs) if i != 1
    ]


def test_output_may_not_overwrite_the_capture(tmp_path):
    copy = tmp_path / "capture.pcap"
    copy.write_bytes((SEED / "capture.pcap").read_bytes())
    err = io.StringIO()
    assert main(["annotate", str(copy), "-o", str(copy)], stderr=err) == 2
    assert "overwrite" in err.getvalue()
    assert copy.read_bytes() == (SEED / "capture.pcap").read_bytes()


@pytest.mark.tshark
@needs_tshark
@pytest.mark.parametrize("name", ["capture.pcap", "capture.pcapng", "capture.cap"])
def test_frames_outside_keep_lose_their_bytes_but_not_their_number(tmp_path, name):
    source = SEED / name
    out = tmp_path / "kept.pcapng"
    write_annotated(source, out, {}, keep={15, 16})
    ours, theirs = frames(out), frames(source)
    assert [f[:2] for f in ours] == [f[:2] for f in theirs]
    assert [f[2] for f in ours if f[2]] == [theirs[14][2], theirs[15][2]]
    assert [r[1] for r in frame_times(out)] == [r[1] for r in frame_times(source)]
    assert [r[0] for r in tshark(out, "-Y", "stun", "-T", "fields", "-e", "frame.number")] == ["15", "16"]


@pytest.mark.tshark
@needs_tshark
def test_gzip_input_and_the_tshark_engine_give_the_same_comments(tmp_path):
    import gzip

    packed = tmp_path / "capture.pcapng.gz"
    packed.write_bytes(gzip.compress((SEED / "capture.pcapng").read_bytes()))
    native, through_tshark = tmp_path / "native.pcapng", tmp_path / "tshark.pcapng"
    assert main(["annotate", str(packed), "-o", str(native)], stdout=io.StringIO()) == 0
    assert (
        main(
            ["annotate", "--engine", "tshark", str(SEED / "capture.pcap"), "-o", str(through_tshark)],
            stdout=io.StringIO(),
        )
        == 0
    )
    assert comments(native) and comments(native) == comments(through_tshark)
    assert frame_times(native) == frame_times(SEED / "capture.pcap")


def test_damage_is_skipped_as_the_reader_skips_it(tmp_path):
    """A pcap record with an implausible length: the reader resynchronises on the next plausible
    record, and the copy keeps the reader's frame numbers after it."""
    raw = bytearray((SEED / "capture.pcap").read_bytes())
    source = tmp_path / "damaged.pcap"
    # frame 3's record header starts after the file header and two records
    offset = 24
    for _ in range(2):
        offset += 16 + struct.unpack_from("<I", raw, offset + 8)[0]
    struct.pack_into("<I", raw, offset + 8, 0x7FFFFFFF)
    source.write_bytes(bytes(raw))
    out = tmp_path / "annotated.pcapng"
    problems = write_annotated(source, out, {5: ["five"]})
    assert problems and "implausible" in problems[0].message
    assert frames(out) == frames(source)
    assert [f[0] for f in frames(out)][:4] == [1, 2, 3, 4]
    clean: list = []
    list(read_frames(out, clean))
    assert clean == []  # the copy itself is undamaged


@pytest.mark.tshark
@needs_tshark
def test_a_damaged_network_monitor_frame_keeps_its_number(tmp_path):
    from scapy.layers.l2 import Ether

    packet = bytes(Ether() / DATAGRAM)
    raw = bytearray(netmon([(1, packet), (1, packet), (1, packet)]))
    table = len(raw) - 12
    struct.pack_into("<I", raw, table + 4, len(raw) + 1000)  # frame 2's table entry points past the end
    source = tmp_path / "damaged.cap"
    source.write_bytes(bytes(raw))
    out = tmp_path / "annotated.pcapng"
    problems = write_annotated(source, out, {3: ["three"]})
    assert [p.frame for p in problems] == [2]
    assert [f.number for f in read_frames(source)] == [1, 3]
    notes = comments(out)
    assert notes[3] == ["three"] and "damaged" in notes[2][0]
    assert [f[2] for f in frames(out)] == [packet, b"", packet]


def test_a_pipe_is_refused_rather_than_read_twice(tmp_path):
    import os

    fifo = tmp_path / "capture.pipe"
    os.mkfifo(fifo)
    err = io.StringIO()
    assert main(["annotate", str(fifo), "-o", str(tmp_path / "out.pcapng")], stderr=err) == 2
    assert "not a regular file" in err.getvalue()
    assert not (tmp_path / "out.pcapng").exists()
