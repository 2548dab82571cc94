"""RFC 7983 demultiplexing: the C skimmer, the numpy pass and the packet source answer as dissectors.demux does.

Every first byte, in several length classes, on a TURN port and off it: the media each path
counts per 5-tuple and kind is the one the demux table predicts. The same payloads relayed in
ChannelData, Send indications and MS-TURN Send requests: the relayed media the C skimmer counts
is what counting the records in Python gives, of the kind media_kind names.
"""

from __future__ import annotations

import struct
from collections import Counter
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from dissectors.classify import PayloadKind, classify_payload
from dissectors.codec import encode_channel_data, encode_stun
from dissectors.demux import COUNTED, FIRST_BYTE, TURN_PORTS, channel_data_fits, media_kind
from icetrace.capture import fast_reader, packet_source
from icetrace.capture.packet_source import PacketSource
from icetrace.capture.reader import CaptureReader
from icetrace.records.extract import RecordExtractor
from icetrace.records.relayed import RelayedCounter

TURN_PORT, OTHER_PORT = 3478, 40000
ETHER = Ether(src="00:00:5e:00:53:01", dst="00:00:5e:00:53:02")


def _payloads(b: int) -> list[bytes]:
    """One first byte in each length class: alone, a bare 4-byte header, a header whose length
    fits the datagram, one it overruns, one padded, and a 200-byte packet (second byte RTCP-like or not)."""
    return [
        bytes([b]),
        bytes([b, 0, 0, 0]),
        bytes([b, 0, 0, 4]) + b"abcd",
        bytes([b, 0, 0, 4]) + b"abc",
        bytes([b, 0, 0, 5]) + b"abcde\0\0\0",
        bytes([b, 200]) + bytes(198),
        bytes([b, 0]) + bytes(198),
    ]


def _expected(payload: bytes, port: int) -> str | None:
    """What the packet source counts the datagram as (None: not counted)."""
    kind = FIRST_BYTE[payload[0]]
    if payload[0] in COUNTED:
        return media_kind(payload)
    if kind == "channeldata" and port in TURN_PORTS and channel_data_fits(payload):
        return "channeldata"
    return None


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> tuple[Path, Counter]:
    frames, expected = [], Counter()
    for port in (TURN_PORT, OTHER_PORT):
        for b in range(256):
            for payload in _payloads(b):
                frames.append(
                    Ether() / IP(src="192.0.2.1", dst="198.51.100.2") / UDP(sport=50000, dport=port) / payload
                )
                kind = _expected(payload, port)
                if kind is not None:
                    expected[(port, kind)] += 1
    for i, f in enumerate(frames):
        f.time = 1700000000 + i / 1000
    path = tmp_path_factory.mktemp("demux") / "every-first-byte.pcap"
    wrpcap(str(path), frames)
    return path, expected


def _counted(path: Path) -> Counter:
    source = PacketSource([path])
    list(source)
    return Counter({(f.dst.port, f.kind): f.packets for f in source.summary().media_flows})


def test_the_c_skimmer_counts_what_the_demux_says(capture):
    if not fast_reader.available():
        pytest.skip("the C skimmer is not compiled")
    path, expected = capture
    assert _counted(path) == expected


def test_the_numpy_pass_and_the_plain_path_count_the_same(capture, monkeypatch):
    path, expected = capture
    with monkeypatch.context() as m:
        m.setattr(fast_reader, "Skimmer", None)
        assert _counted(path) == expected
    monkeypatch.setattr(packet_source, "CaptureReader", lambda path, **_: CaptureReader(path))
    assert _counted(path) == expected


def test_classify_agrees_with_the_demux_on_channel_data():
    for b in range(256):
        for payload in _payloads(b):
            is_cd = classify_payload(payload) == PayloadKind.CHANNEL_DATA
            assert is_cd == channel_data_fits(payload), payload


def test_a_first_byte_outside_64_79_is_never_channel_data():
    """0x50 (80) was a TURN channel under RFC 5766's 0x4000-0x7FFF; RFC 7983 and RFC 8656 end at 79."""
    data = bytes.fromhex("5000000461626364")
    assert not channel_data_fits(data) and media_kind(data) == "data"
    assert classify_payload(data) != PayloadKind.CHANNEL_DATA
    assert channel_data_fits(bytes.fromhex("4000000461626364"))


def _relayed_frame(data: bytes) -> bytes:
    """192.0.2.1:50000 -> 198.51.100.2:3478 over Ethernet, assembled directly (thousands are needed)."""
    udp = struct.pack("!HHHH", 50000, TURN_PORT, 8 + len(data), 0) + data
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([192, 0, 2, 1]), bytes([198, 51, 100, 2])
    )
    return bytes(6) + bytes(5) + b"\x01" + b"\x08\x00" + ip + udp


def _relayed_capture(path: Path) -> Counter:
    """Every payload of _payloads relayed three ways on a 5-tuple that carried STUN; the expected counts."""
    frames, expected = [_relayed_frame(encode_stun(0x0001, bytes(12), [("PRIORITY", 1)]))], Counter()
    peer = ("203.0.113.9", 7000)
    for b in range(256):
        for payload in _payloads(b):
            kind = media_kind(payload)
            wrapped = [
                ("channeldata", encode_channel_data(0x4000, payload)),
                ("send-indication", encode_stun(0x0016, bytes(12), [("XOR-PEER-ADDRESS", peer), ("DATA", payload)])),
                (
                    "ms-send-request",
                    encode_stun(
                        0x0004,
                        bytes(16),
                        [("MAGIC-COOKIE", 0x72C64BC6), ("DESTINATION-ADDRESS", peer), ("DATA", payload)],
                        cookie=False,
                    ),
                ),
            ]
            for via, data in wrapped:
                frames.append(_relayed_frame(data))
                if kind != "stun":
                    expected[(via, kind)] += 1
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames):
            fh.write(struct.pack("<IIII", 1700000000, i, len(frame), len(frame)) + frame)
    return expected


def _relayed_counted(path: Path) -> Counter:
    source = PacketSource([path], count_relayed=True)
    extractor, counter = RecordExtractor(), RelayedCounter()
    for packet in source:
        for record in extractor.feed(packet):
            counter.add(record)
    for count in source.summary().relayed:
        counter.include(count)
    return Counter({(f.via, f.kind): f.packets for f in counter.counts()})


def test_the_c_skimmer_counts_relayed_media_as_the_demux_says(tmp_path, monkeypatch):
    if not fast_reader.available():
        pytest.skip("the C skimmer is not compiled")
    path = tmp_path / "every-first-byte-relayed.pcap"
    expected = _relayed_capture(path)
    assert _relayed_counted(path) == expected
    with monkeypatch.context() as m:
        m.setattr(fast_reader, "Skimmer", None)
        assert _relayed_counted(path) == expected


def test_the_scapy_layer_dispatches_as_the_demux_says():
    """STUN(bytes) and dissect_payload agree on every first byte: ChannelData only where the
    frame fits (channels 0x4000-0x4FFF), Raw where RFC 7983 says the bytes are not STUN. The
    Scapy layer also takes a frame followed by more bytes (a TCP segment may hold several)."""
    from scapy.packet import Raw

    from dissectors.stun import STUN, TURNChannelData, dissect_payload

    for b in range(256):
        for payload in _payloads(b):
            layer = type(STUN(payload))
            if channel_data_fits(payload):
                assert layer is TURNChannelData is type(dissect_payload(payload)), payload
            elif channel_data_fits(payload, stream=True):  # more bytes follow, as in a TCP segment
                assert layer is TURNChannelData, payload
            elif FIRST_BYTE[b] != "stun" and b != 0xFF:
                assert layer is Raw is type(dissect_payload(payload)), payload
            else:
                assert layer is not TURNChannelData, payload
