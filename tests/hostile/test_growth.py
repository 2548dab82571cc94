"""Inputs whose cost grew faster than their size: 10x the input must cost at most about 10x.

Each case is timed at n and 10n (CPU time, best of three runs, so a busy machine only adds noise upward
to both); a quadratic cost shows a ratio near 100, a linear one near 10. The bound allows 35.
"""

from __future__ import annotations

import gc
import struct
import time
import tracemalloc
from collections.abc import Callable

import pytest

from icetrace.capture.network import MAX_PENDING_DATAGRAMS, IpDecoder
from icetrace.capture.tcp_stream import TcpDirection
from icetrace.signaling.candidate import MAX_CANDIDATE_LINE
from icetrace.signaling.sdp import parse_sdp
from icetrace.signaling.sources import sip_from_text

RATIO = 35


def _cost(make: Callable[[int], object], run: Callable[[object], object], n: int) -> float:
    best = float("inf")
    for _ in range(3):
        data = make(n)
        gc.disable()  # a collection's cost grows with everything alive, not with this input
        try:
            start = time.process_time()
            run(data)
            best = min(best, time.process_time() - start)
        finally:
            gc.enable()
    return best


def _assert_linear(make: Callable[[int], object], run: Callable[[object], object], n: int) -> None:
    small, large = _cost(make, run, n), _cost(make, run, 10 * n)
    assert large <= RATIO * small, f"10x input cost {large / small:.0f}x ({small:.4f} s -> {large:.4f} s)"


def _ipv4_fragment(ident: int, offset: int, more: bool, payload: bytes) -> bytes:
    flags = (0x2000 if more else 0) | (offset // 8)
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags, 64, 17, 0, bytes(4), bytes(4))
    return header + payload


def test_never_completed_first_fragments():
    """Distinct IDs, each a first fragment only: past the pending bound each evicts the oldest in O(1)."""

    def make(n: int) -> list[bytes]:
        return [_ipv4_fragment(i & 0xFFFF, 0, True, bytes([i & 0xFF]) * 8) for i in range(n)]

    def run(frames: list[bytes]) -> None:
        decoder = IpDecoder()
        for i, frame in enumerate(frames):
            # IDs repeat every 65,536: vary the source too, so every datagram is distinct
            frame = frame[:12] + struct.pack("!I", i) + frame[16:]
            assert decoder.decode(frame, 0, 1.0) is None
        assert decoder.fragments_dropped == max(0, len(frames) - MAX_PENDING_DATAGRAMS)

    _assert_linear(make, run, 5000)


def test_one_datagram_in_eight_byte_fragments_last_first():
    def make(n: int) -> list[bytes]:
        data = bytes(range(256)) * (8 * n // 256 + 1)
        return [_ipv4_fragment(7, 8 * i, i < n - 1, data[8 * i : 8 * i + 8]) for i in reversed(range(n))]

    def run(frames: list[bytes]) -> None:
        decoder = IpDecoder()
        results = [decoder.decode(frame, 0, 1.0) for frame in frames]
        whole = results[-1]
        assert whole is not None and len(whole.payload) == 8 * len(frames)
        assert all(r is None for r in results[:-1])

    _assert_linear(make, run, 800)  # 8,000 fragments is near the 8,191 an IPv4 datagram allows


def test_datagram_with_overlapping_fragments_completes_once_covered():
    decoder = IpDecoder()
    assert decoder.decode(_ipv4_fragment(9, 0, True, b"a" * 16), 0, 1.0) is None
    assert decoder.decode(_ipv4_fragment(9, 8, True, b"b" * 16), 0, 1.0) is None  # overlaps the first
    assert decoder.decode(_ipv4_fragment(9, 40, False, b"d" * 5), 0, 1.0) is None  # a gap at 24-40 remains
    whole = decoder.decode(_ipv4_fragment(9, 24, True, b"c" * 16), 0, 1.0)
    assert whole is not None and whole.payload == b"a" * 8 + b"b" * 16 + b"c" * 16 + b"d" * 5


def test_tcp_segments_in_descending_order_then_the_gap_filler():
    def make(n: int) -> list[tuple[int, bytes]]:
        return [(1001 + i, bytes([i & 0xFF])) for i in reversed(range(1, n))] + [(1001, b"\x00")]

    def run(segments: list[tuple[int, bytes]]) -> None:
        direction = TcpDirection(next_seq=1001)
        out = []
        for seq, data in segments:
            out += direction.accept(seq, data, False, 1, 0.0)
        assert b"".join(chunk[0] for chunk in out) == bytes(i & 0xFF for i in range(len(segments)))
        assert not direction.pending and direction.buffered == 0

    _assert_linear(make, run, 5000)


def test_tcp_sequence_numbers_wrap_while_segments_wait():
    direction = TcpDirection(next_seq=0xFFFFFFF0)
    assert direction.accept(0x00000004, b"tail", False, 2, 0.0) == []
    out = direction.accept(0xFFFFFFF0, b"x" * 20, False, 1, 0.0)
    assert [c[0] for c in out] == [b"x" * 20, b"tail"]
    assert direction.next_seq == 8


def test_text_log_of_start_lines_without_blank_lines():
    def make(n: int) -> str:
        return "\n".join(f"OPTIONS sip:u{i}@example.org SIP/2.0" for i in range(n))

    def run(text: str) -> None:
        messages = list(sip_from_text(text, "log"))
        assert len(messages) == text.count("\n") + 1
        assert all(m is not None and m.method == "OPTIONS" for _, m, _ in messages)

    _assert_linear(make, run, 2000)


def test_messages_without_blank_lines_between_them_are_each_read():
    text = "INVITE sip:a@b SIP/2.0\nCall-ID: 1\nSIP/2.0 200 OK\nCall-ID: 1\n\nBYE sip:a@b SIP/2.0\nCall-ID: 1\n"
    found = [(m.method or m.status, m.call_id) for _, m, _ in sip_from_text(text, "log") if m is not None]
    assert found == [("INVITE", "1"), (200, "1"), ("BYE", "1")]


@pytest.mark.parametrize("size", [1 << 20, 10 << 20])
def test_a_huge_candidate_line_is_refused_without_splitting_it(size):
    text = "v=0\nm=audio 5000 RTP/AVP 0\na=candidate:" + "1 " * (size // 2) + "\n"
    tracemalloc.start()
    try:
        desc = parse_sdp(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert desc.media[0].candidates == []
    assert any(f"longer than {MAX_CANDIDATE_LINE}" in p for p in desc.problems)
    assert peak < 8 * size  # the line and a few copies of it; its tokens would need ~35x


def test_a_stun_message_over_tcp_in_one_byte_segments():
    from dissectors.codec import encode_stun
    from icetrace.records.endpoint import Endpoint
    from icetrace.records.extract import RecordExtractor
    from icetrace.records.transport_packet import TransportPacket

    a, b = Endpoint("192.0.2.1", 50000), Endpoint("198.51.100.2", 443)

    def make(n: int) -> list[TransportPacket]:
        message = encode_stun(0x0016, bytes(12), [("DATA", bytes(4 * n))])
        # the header whole (the framing is told from it), then a byte per segment
        first = TransportPacket(frame=0, time=0.0, src=a, dst=b, transport="tcp", payload=message[:20])
        return [first] + [
            TransportPacket(frame=i, time=0.0, src=a, dst=b, transport="tcp", payload=message[i : i + 1])
            for i in range(20, len(message))
        ]

    def run(packets: list[TransportPacket]) -> None:
        extractor = RecordExtractor()
        records = [r for p in packets for r in extractor.feed(p)]
        assert len(records) == 1 and records[0].frame == packets[-1].frame

    _assert_linear(make, run, 1000)  # 40 KB at 10x


def test_a_sip_message_over_tcp_in_one_byte_segments():
    from icetrace.signaling.sip import SipStreamSplitter

    def make(n: int) -> bytes:
        body = b"a=x\r\n" * n
        return b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: %d\r\n\r\n" % len(body) + body

    def run(stream: bytes) -> None:
        splitter = SipStreamSplitter()
        out = [m for i in range(len(stream)) for m in splitter.feed(stream[i : i + 1])]
        assert out == [stream]

    _assert_linear(make, run, 2000)


def test_a_message_in_many_segments_is_split_once(monkeypatch):
    """Copying and splitting the whole buffer per segment grows as segments x size; splitting waits
    until the size the header announced is buffered."""
    from dissectors.codec import encode_stun
    from icetrace.records import extract
    from icetrace.records.endpoint import Endpoint
    from icetrace.records.transport_packet import TransportPacket

    calls = []
    real = extract.split_stun_stream
    monkeypatch.setattr(extract, "split_stun_stream", lambda buf: calls.append(len(buf)) or real(buf))
    a, b = Endpoint("192.0.2.1", 50000), Endpoint("198.51.100.2", 443)
    message = encode_stun(0x0016, bytes(12), [("DATA", bytes(4000))])
    extractor = extract.RecordExtractor()
    packets = [TransportPacket(frame=0, time=0.0, src=a, dst=b, transport="tcp", payload=message[:20])]
    packets += [
        TransportPacket(frame=i, time=0.0, src=a, dst=b, transport="tcp", payload=message[i : i + 10])
        for i in range(20, len(message), 10)
    ]
    records = [r for p in packets for r in extractor.feed(p)]
    assert len(records) == 1
    assert len(calls) == 2  # the header, then the whole message


def test_a_sip_head_is_searched_once_per_byte():
    from icetrace.signaling.sip import SipStreamSplitter

    head = b"MESSAGE sip:a@b SIP/2.0\r\n" + b"X-Pad: y\r\n" * 3000
    splitter = SipStreamSplitter()
    for i in range(0, len(head), 7):
        assert splitter.feed(head[i : i + 7]) == []
        assert splitter._scanned == len(splitter.buffer)  # nothing before this point is searched again
    assert splitter.feed(b"Content-Length: 2\r\n\r\nok") == [head + b"Content-Length: 2\r\n\r\nok"]


def test_a_sip_header_folded_over_many_lines():
    from icetrace.signaling.sip import parse_sip

    def make(n: int) -> bytes:
        return b"OPTIONS sip:a@b SIP/2.0\r\nSubject: s\r\n" + b" x\r\n" * n + b"Call-ID: c\r\n\r\n"

    def run(data: bytes) -> None:
        message = parse_sip(data)
        assert message.call_id == "c" and message.header("subject") == "s" + " x" * data.count(b" x\r\n")

    _assert_linear(make, run, 20000)


def test_sdp_with_many_media_sections_and_session_attributes():
    def make(n: int) -> str:
        session = "".join(f"a=x-{i}:y\r\n" for i in range(n)) + "a=ice-ufrag:abcd\r\n"
        return "v=0\r\n" + session + "m=audio 5000 RTP/AVP 0\r\n" * n

    def run(text: str) -> None:
        desc = parse_sdp(text)
        assert len(desc.media) == text.count("m=audio") and desc.media[-1].ice_ufrag == "abcd"

    _assert_linear(make, run, 300)


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_many_damaged_records_close_together(tmp_path, fmt):
    """Each damaged record costs its distance to the next intact one, not a whole read window."""
    from icetrace.capture.reader import read_frames
    from tests.capture.test_fast_reader import epb, idb, shb

    frame = bytes(range(14)) + b"\x45" + bytes(range(100, 140))

    def make(n: int) -> bytes:
        if fmt == "pcap":
            good = struct.pack("<IIII", 1700000000, 0, len(frame), len(frame)) + frame
            bad = struct.pack("<IIII", 1700000000, 0, 0x7FFFFFF0, 0x7FFFFFF0)
            # two intact records after each damaged one: the resynchronisation checks a record by the next
            return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + (bad + good + good) * n
        good = epb("<", 0, 0, frame)
        bad = b"\x06\x00\x00\x00\x07\x00\x00\x00"  # a block length that is no multiple of 4
        return shb("<") + idb("<", 1) + (bad + good) * n

    def run(data: bytes) -> None:
        path = tmp_path / f"many.{fmt}"
        path.write_bytes(data)
        problems: list = []
        frames = list(read_frames(path, problems))
        assert len(frames) == data.count(frame)
        assert len(problems) == data.count(frame) // (2 if fmt == "pcap" else 1)

    _assert_linear(make, run, 200)


# -- application signaling: HTTP bodies, WebSocket messages, browser dumps --------------------------


def _candidate_line(i: int) -> str:
    return (
        f"candidate:{i} 1 udp {2000000000 - i} 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255} {5000 + i % 60000} typ host"
    )


def test_one_http_post_with_many_trickled_candidates():
    """Comparing each candidate with every one kept before it would be quadratic."""
    import json

    from icetrace.records.endpoint import Endpoint
    from icetrace.records.transport_packet import TransportPacket
    from icetrace.signaling.app_model import build_app_model
    from icetrace.signaling.app_signaling import AppSignalingCollector
    from icetrace.signaling.model import SignalingModel
    from tests.hostile import hostile_call

    def make(n: int) -> list[TransportPacket]:
        offer = {"type": "offer", "sdp": hostile_call.sdp("tkLf", "x" * 24, "actpass", [])}
        body = json.dumps([offer, *({"candidate": _candidate_line(i), "sdpMid": "0"} for i in range(n))]).encode()
        wire = hostile_call.post(body)
        a, b = Endpoint("192.0.2.1", 40000), Endpoint("198.51.100.2", 80)
        return [
            TransportPacket(frame=i, time=1.0, src=a, dst=b, transport="tcp", payload=wire[at : at + 1400])
            for i, at in enumerate(range(0, len(wire), 1400))
        ]

    def run(packets: list[TransportPacket]) -> None:
        collector = AppSignalingCollector("t")
        for packet in packets:
            collector.feed(packet)
        model = build_app_model(collector.signals, SignalingModel())
        (call,) = model.calls
        assert len(call.exchanges[0].bodies[0].media[0].candidates) == len(collector.signals) - 1

    _assert_linear(make, run, 500)


def test_a_dump_with_many_distinct_descriptions():
    import json

    from icetrace.signaling.agent_dump import read_agent_dump
    from icetrace.signaling.model import SignalingModel
    from tests.hostile import hostile_call

    def make(n: int) -> str:
        log = []
        for i in range(n):
            sdp = hostile_call.sdp(f"u{i:06d}", "x" * 24, "actpass" if i % 2 == 0 else "active", [])
            kind = "setLocalDescription" if i % 2 == 0 else "setRemoteDescription"
            log.append(
                {"type": kind, "time": 1e12 + i, "value": f"type: {'offer' if i % 2 == 0 else 'answer'}, sdp: {sdp}"}
            )
            log.append(
                {"type": "addIceCandidate", "time": 1e12 + i, "value": f"sdpMid: 0, candidate: {_candidate_line(i)}"}
            )
        return json.dumps({"PeerConnections": {"1": {"updateLog": log, "stats": {}}}})

    def run(text: str) -> None:
        model = SignalingModel()
        read_agent_dump(text, "dump.json", model)
        assert len(model.calls) == text.count("type: offer")

    _assert_linear(make, run, 300)


def test_a_dump_with_many_trickled_candidates():
    """One description and N candidates added to it, as webrtc-internals logs them: each joins its
    m-line without being compared with every one added before."""
    import json

    from icetrace.signaling.agent_dump import read_agent_dump
    from icetrace.signaling.model import SignalingModel
    from tests.hostile import hostile_call

    def make(n: int) -> str:
        sdp = hostile_call.sdp("tkDp", "x" * 24, "actpass", [])
        log = [{"type": "setLocalDescription", "time": 1e12, "value": f"type: offer, sdp: {sdp}"}]
        log += [
            {"type": "onicecandidate", "time": 1e12 + i, "value": f"sdpMid: 0, candidate: {_candidate_line(i)}"}
            for i in range(n)
        ]
        return json.dumps({"PeerConnections": {"1": {"updateLog": log, "stats": {}}}})

    def run(text: str) -> None:
        model = SignalingModel()
        read_agent_dump(text, "dump.json", model)
        (call,) = model.calls
        assert len(call.exchanges[0].bodies[0].media[0].candidates) == text.count("typ host")

    _assert_linear(make, run, 500)


def test_a_chunked_trailer_without_its_line_end():
    """A trailer line without its CRLF is kept up to the head's bound, each byte searched once; past
    the bound the direction is no longer read."""
    from icetrace.signaling.http_stream import MAX_HEAD, HttpReader

    def make(n: int) -> list[bytes]:
        return [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"] + [b"x" * 7] * n

    def run(segments: list[bytes]) -> None:
        reader = HttpReader()
        problems = [p for s in segments for p in reader.feed(s, 1, 0.0)[1]]
        assert len(reader.buffer) <= MAX_HEAD
        assert problems == (
            [f"HTTP trailer field over {MAX_HEAD} bytes: connection no longer read"]
            if 7 * (len(segments) - 1) > MAX_HEAD
            else []
        )

    _assert_linear(make, run, 8000)  # 56 KB, then 560 KB (past the bound: nothing more is kept)


@pytest.mark.parametrize("text", ["sdpMid: " * 1, "candidate: " * 1, "sdpMid: 0, sdpMLineIndex: " * 1])
def test_an_ice_candidate_event_of_repeated_labels(text):
    """The event text is read in one pass (a regular expression with two optional prefixes would
    backtrack over every position)."""
    from icetrace.signaling.agent_dump import _candidate_event

    def make(n: int) -> str:
        return text * (20 * n) + "candidate: candidate:1 1 udp 1 10.0.0.1 5000 typ host"

    def run(value: str) -> None:
        assert _candidate_event(value) is not None

    _assert_linear(make, run, 400)


def test_a_log_of_empty_json_lists_is_refused_before_it_costs_twenty_times_its_size(tmp_path):
    from icetrace.signaling.app_payload import MAX_CONTAINERS
    from icetrace.signaling.sources import load_signaling

    dump = tmp_path / "empty.webrtc-internals.json"
    text = '{"PeerConnections": {}, "x": [' + "[]," * (MAX_CONTAINERS + 10) + "[]]}"
    dump.write_text(text)
    tracemalloc.start()
    try:
        model = load_signaling(logs=[dump])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert any(f"over {MAX_CONTAINERS} arrays and objects" in p for p in model.problems)
    assert peak < 4 * len(text)  # the bytes, their text and a copy without strings; parsed, ~22x


@pytest.mark.parametrize("path_kind", ["skimmer", "numpy"])
def test_zero_length_records_never_reach_python(tmp_path, monkeypatch, path_kind):
    """A frame too short to hold IP is kept back by the skimmer (and the numpy pass) as media is
    counted there: as a Python Frame each, 16-byte records would cost ~20 times an RTP record."""
    import gzip

    from icetrace.capture import fast_reader
    from icetrace.capture.packet_source import PacketSource

    if path_kind == "numpy":
        monkeypatch.setattr(fast_reader, "Skimmer", None)
    elif not fast_reader.available():
        pytest.skip("the C skimmer is not built")
    count = 100_000
    record = struct.pack("<IIII", 1700000000, 0, 0, 0)
    path = tmp_path / "zero.pcap.gz"
    path.write_bytes(gzip.compress(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + record * count))
    source = PacketSource([path], count_relayed=True)
    assert list(source) == [] and not source.problems
    # none became a Frame for the Python loop, but for the last of each of the numpy pass's windows
    # (so that the capture ends at its last frame)
    assert source.frames_read <= (0 if path_kind == "skimmer" else 4)


def test_resynchronising_through_channeldata_lookalikes():
    """After a gap, every 12 bytes name the bound channel with a length that needs 64 KB to check:
    each lookalike is decided once, when the bytes that decide it are in."""
    from dissectors.codec import encode_stun
    from icetrace.records.endpoint import Endpoint
    from icetrace.records.extract import RecordExtractor
    from icetrace.records.transport_packet import TransportPacket

    a, b = Endpoint("192.0.2.1", 50000), Endpoint("198.51.100.2", 3478)
    bind = encode_stun(0x0009, bytes(12), [("CHANNEL-NUMBER", 0x4001), ("XOR-PEER-ADDRESS", ("198.51.100.9", 7000))])

    def make(n: int) -> list[TransportPacket]:
        # a lookalike every 12 bytes; 64 KB on (65,536 = 4 mod 12) the bytes are no frame header
        noise = (b"\x40\x01\xff\xfc" + b"\x80" * 8) * (9 * n)
        first = TransportPacket(frame=0, time=0.0, src=a, dst=b, transport="tcp", payload=bind)
        rest = [
            TransportPacket(frame=i, time=0.0, src=a, dst=b, transport="tcp", payload=noise[i : i + 100])
            for i in range(0, len(noise), 100)
        ]
        rest[0].gap_before = 7
        return [first, *rest]

    def run(packets: list[TransportPacket]) -> None:
        extractor = RecordExtractor()
        records = [r for p in packets for r in extractor.feed(p)]
        assert len(records) == 1  # the ChannelBind; the lookalikes are none

    _assert_linear(make, run, 2000)  # 200 KB, then 2 MB


def test_an_http_head_in_small_segments():
    """Each segment searches only the bytes it added for the head's end."""
    from icetrace.signaling.http_stream import HttpReader

    def make(n: int) -> list[bytes]:
        head = b"POST /x HTTP/1.1\r\n" + b"X-Pad: y\r\n" * n + b"Content-Length: 2\r\n\r\nok"
        return [head[i : i + 7] for i in range(0, len(head), 7)]

    def run(segments: list[bytes]) -> None:
        reader = HttpReader()
        messages = [m for s in segments for m in reader.feed(s, 1, 0.0)[0]]
        assert len(messages) == 1 and messages[0].body == b"ok"

    _assert_linear(make, run, 600)  # 6 KB, then 60 KB: under the 64 KB a head may take


def test_many_notes_on_one_frame():
    """One TCP segment may carry thousands of messages, each with its note on that frame."""
    from icetrace.report.annotate import _Notes

    def make(n: int) -> list[str]:
        return [f"check c→d pair host 10.0.0.1:{i} → host 10.0.0.2:5000 udp" for i in range(n)]

    def run(texts: list[str]) -> None:
        notes = _Notes()
        for text in texts + texts:  # each said twice, kept once
            notes.add(7, text)
        assert notes.by_frame[7] == texts

    _assert_linear(make, run, 2000)
