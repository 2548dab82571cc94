"""Data lost silently: a lost TCP segment under STUN framing, and a damaged pcap record length.
Every message the damage did not touch is kept, and a warning says where the damage was."""

from __future__ import annotations

import struct

import pytest
from scapy.layers.inet import IP, TCP

from dissectors.codec import encode_stun
from dissectors.framing import frame_msturn_tcp, frame_rfc4571, resync_offset
from icetrace.capture import fast_reader
from icetrace.reading import capture_records
from tests.capture.test_fast_reader import BINDING, ethernet, frames_for, ip4, pcap_bytes, plain, run

FRAMINGS = {
    "stun": lambda message: message,
    "rfc4571": frame_rfc4571,
    "ms-turn-tcp": lambda message: frame_msturn_tcp(2, message),
}


def _messages() -> list[bytes]:
    """Binding requests of varied sizes, each told apart by its transaction id."""
    return [
        encode_stun(0x0001, bytes([i]) * 12, [("SOFTWARE", "x" * (i % 7 + 1))], fingerprint=True) for i in range(16)
    ]


def _segments(stream: bytes, cuts: list[int]) -> list[tuple[int, bytes]]:
    bounds = [0, *cuts, len(stream)]
    return [(a, stream[a:b]) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def _capture(segments: list[tuple[int, bytes]], lost: int) -> bytes:
    frames = []
    for index, (start, data) in enumerate(segments):
        if index == lost:
            continue
        packet = IP(src="192.0.2.1", dst="198.51.100.2") / TCP(sport=50000, dport=443, flags="PA", seq=1000 + start)
        frames.append(bytes(ethernet(packet / data)))
    return pcap_bytes(frames, 1)


@pytest.mark.parametrize("framing", sorted(FRAMINGS))
@pytest.mark.parametrize("cut", ["between-messages", "inside-messages"])
def test_stun_over_tcp_resynchronises_after_a_lost_segment(tmp_path, monkeypatch, framing, cut):
    framed = [FRAMINGS[framing](m) for m in _messages()]
    stream = b"".join(framed)
    ends = [sum(len(f) for f in framed[: i + 1]) for i in range(len(framed))]
    cuts = ends[:-1] if cut == "between-messages" else list(range(37, len(stream), 37))
    segments = _segments(stream, cuts)
    lost = len(segments) // 2
    gone = range(segments[lost][0], segments[lost][0] + len(segments[lost][1]))
    starts = [0, *ends[:-1]]
    expected = [
        bytes([i]) * 12
        for i, (a, b) in enumerate(zip(starts, ends, strict=True))
        if b <= gone.start or a >= gone.stop  # messages the lost bytes did not touch
    ]
    assert len(expected) >= len(framed) - 3
    path = tmp_path / "lost.pcap"
    path.write_bytes(_capture(segments, lost))
    records = list(capture_records(path))
    assert sorted(r.transaction_id for r in records) == sorted(t.hex() for t in expected)
    packets, flows, problems = run(path)
    assert len(problems) == 1 and f"{len(gone)} bytes never captured" in problems[0]
    plain(monkeypatch)
    assert run(path) == (packets, flows, problems)


def test_resync_finds_no_start_in_noise_and_the_first_start_after_it():
    noise = bytes(range(7, 200))
    assert resync_offset(noise, "stun") is None
    assert resync_offset(noise + BINDING, "stun") == len(noise)
    assert resync_offset(noise + frame_rfc4571(BINDING), "rfc4571") == len(noise)
    assert resync_offset(noise + frame_msturn_tcp(2, BINDING), "ms-turn-tcp") == len(noise)
    # a cookie whose length field disagrees with the framing is no start
    wrong = frame_rfc4571(BINDING)
    assert resync_offset(noise + b"\x00\x09" + wrong[2:], "rfc4571") is None


def _stun_frames(count: int) -> list[bytes]:
    return [bytes(ethernet(ip4(encode_stun(0x0001, bytes([i]) * 12, fingerprint=True)))) for i in range(count)]


@pytest.mark.parametrize("damaged", [0, 7, 19])
@pytest.mark.parametrize("path_kind", ["skimmer", "numpy", "plain"])
def test_pcap_with_one_damaged_record_length_reads_the_rest(tmp_path, monkeypatch, damaged, path_kind):
    frames = _stun_frames(20)
    data = bytearray(pcap_bytes(frames, 1))
    at = 24 + sum(16 + len(f) for f in frames[:damaged])
    data[at + 8 : at + 12] = struct.pack("<I", 0x7FFFFFF0)
    path = tmp_path / "damaged.pcap"
    path.write_bytes(bytes(data))
    if path_kind == "numpy":
        monkeypatch.setattr(fast_reader, "Skimmer", None)
    elif path_kind == "plain":
        plain(monkeypatch)
    packets, _, problems = run(path)
    kept = sorted(p.payload[8:20] for p in packets)
    assert kept == sorted(bytes([i]) * 12 for i in range(20) if i != damaged)
    assert len(problems) == 1 and f"offset {at}" in problems[0]
    assert "record length 2147483632 is implausible" in problems[0]
    if damaged < 19:
        assert "skipped" in problems[0]


def test_pcap_damage_reads_alike_on_every_path(tmp_path, monkeypatch):
    frames, linktype = frames_for("ethernet")
    data = bytearray(pcap_bytes(frames, linktype))
    at = 24 + sum(16 + len(f) for f in frames[:5])
    data[at + 8 : at + 12] = b"\xff\xff\xff\x7f"
    path = tmp_path / "damaged.pcap"
    path.write_bytes(bytes(data))
    fast = run(path)
    with monkeypatch.context() as m:
        m.setattr(fast_reader, "Skimmer", None)
        assert run(path) == fast
    plain(monkeypatch)
    assert run(path) == fast


def test_sip_over_tcp_resynchronises_after_a_lost_segment(tmp_path):
    from icetrace.signaling.collect import SipCollector

    def options(i: int) -> bytes:
        return f"OPTIONS sip:u{i}@example.org SIP/2.0\r\nCall-ID: call-{i}\r\nCSeq: {i} OPTIONS\r\nContent-Length: 0\r\n\r\n".encode()

    stream = b"".join(options(i) for i in range(10))
    segments = _segments(stream, list(range(45, len(stream), 45)))
    lost = len(segments) // 2
    gone = range(segments[lost][0], segments[lost][0] + len(segments[lost][1]))
    path = tmp_path / "sip.pcap"
    frames = []
    for index, (start, data) in enumerate(segments):
        if index != lost:
            packet = IP(src="192.0.2.1", dst="198.51.100.2") / TCP(sport=5061, dport=5060, flags="PA", seq=1 + start)
            frames.append(bytes(ethernet(packet / data)))
    path.write_bytes(pcap_bytes(frames, 1))
    from icetrace.capture.packet_source import PacketSource

    collector = SipCollector("sip.pcap")
    for packet in PacketSource([path]):
        collector.feed(packet)
    found = sorted(m.call_id for _, m in collector.messages)
    starts = [sum(len(options(j)) for j in range(i)) for i in range(10)]
    expected = sorted(
        f"call-{i}" for i in range(10) if starts[i] + len(options(i)) <= gone.start or starts[i] >= gone.stop
    )
    assert found == expected and len(expected) >= 8


def test_fragments_pushed_out_by_the_bound_are_reported(tmp_path):
    from icetrace.capture.network import MAX_PENDING_DATAGRAMS
    from icetrace.capture.packet_source import PacketSource

    extra = 5
    first = bytes(ethernet(IP(src="192.0.2.1", dst="198.51.100.2", flags="MF", proto=17) / bytes(8)))
    # the same first fragment under distinct IP ids (bytes 18-19: Ethernet 14 + IP 4)
    frames = [first[:18] + struct.pack("!H", i) + first[20:] for i in range(MAX_PENDING_DATAGRAMS + extra)]
    path = tmp_path / "fragments.pcap"
    # all within one second, so none times out: only the bound drops them
    records = b"".join(struct.pack("<IIII", 1700000000, i, len(f), len(f)) + f for i, f in enumerate(frames))
    path.write_bytes(pcap_bytes([], 1) + records)
    source = PacketSource([path])
    assert list(source) == []
    assert [str(p).split(": ", 1)[1] for p in source.problems] == [
        f"{extra} fragmented IP datagrams never completed: dropped after 30 s, or when 4096 datagrams or 64 MB"
        " were waiting for fragments"
    ]


def test_a_gap_holds_data_back_for_a_bounded_time_only():
    from icetrace.capture.tcp_stream import GAP_WAIT, TcpDirection

    direction = TcpDirection(next_seq=1000)
    assert direction.accept(1010, b"later", False, 2, 0.0) == []  # 10 bytes missing before it
    assert direction.accept(1015, b"more", False, 3, GAP_WAIT / 2) == []
    released = direction.accept(1019, b"end", False, 4, GAP_WAIT + 0.5)
    assert released == [(b"later", 2, 0.0, 10), (b"more", 3, GAP_WAIT / 2, 0), (b"end", 4, GAP_WAIT + 0.5, 0)]
    assert direction.gaps_skipped == 1
    # the lost segment's retransmission, too late: already skipped
    assert direction.accept(1000, b"0123456789", False, 5, GAP_WAIT + 1) == []
