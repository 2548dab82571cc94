"""What a TCP connection costs ends with it: after its FIN or RST nothing is kept for it (the packet
source, the C skimmer's ignore list, STUN framing, SIP splitting, HTTP and WebSocket reading), so a
capture of many short connections costs memory for the open ones only."""

from __future__ import annotations

import gc
import struct
from pathlib import Path

import pytest

from icetrace.capture import fast_reader
from icetrace.capture.packet_source import PacketSource
from icetrace.capture.tcp_stream import TcpDirection
from icetrace.records.extract import RecordExtractor
from icetrace.signaling.app_signaling import AppSignalingCollector
from icetrace.signaling.collect import SipCollector
from tests.capture.test_fast_reader import plain

SERVER = bytes([203, 0, 113, 80])
FIN, SYN, RST, PSH_ACK, ACK = 0x11, 0x02, 0x04, 0x18, 0x10
REQUEST = b"GET /poll HTTP/1.1\r\nHost: x\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
OPTIONS = b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: c\r\nContent-Length: 0\r\n\r\n"


def tcp(src: bytes, sport: int, dst: bytes, dport: int, seq: int, flags: int, payload: bytes = b"") -> bytes:
    """One Ethernet/IPv4/TCP frame (checksums are not read)."""
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, 1, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 0, 0, 64, 6, 0, src, dst)
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + header + payload


def _connection(i: int) -> list[bytes]:
    """Connection i, of one of four kinds: HTTP closed by both FINs, HTTP reset by the server, SIP
    whose last data travels with its FIN, and bytes nothing follows, closed."""
    client, port = bytes([10, i >> 16 & 255, i >> 8 & 255, i & 255]), 1024 + i % 60000
    kind = i % 4
    sent, answer = [(REQUEST, RESPONSE), (REQUEST, RESPONSE), (OPTIONS, b""), (b"\x17" * 40, b"")][kind]
    dport = 5060 if kind == 2 else 80
    frames = [tcp(client, port, SERVER, dport, 100, SYN), tcp(SERVER, dport, client, port, 500, SYN | ACK)]
    if kind == 2:
        return [*frames, tcp(client, port, SERVER, dport, 101, FIN | PSH_ACK, sent)]
    frames.append(tcp(client, port, SERVER, dport, 101, PSH_ACK, sent))
    if answer:
        frames.append(tcp(SERVER, dport, client, port, 501, PSH_ACK, answer))
    if kind == 1:
        return [*frames, tcp(SERVER, dport, client, port, 501 + len(answer), RST)]
    return [
        *frames,
        tcp(client, port, SERVER, dport, 101 + len(sent), FIN),
        tcp(SERVER, dport, client, port, 501 + len(answer), FIN),
        tcp(client, port, SERVER, dport, 102 + len(sent), ACK),
    ]


def _pcap(frames: list[bytes]) -> bytes:
    records = [struct.pack("<IIII", 1700000000 + n // 1000, n % 1000, len(f), len(f)) + f for n, f in enumerate(frames)]
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + b"".join(records)


def _kept(path: Path, last: int, monkeypatch) -> dict[str, int]:
    """What is kept once every connection has closed: the readers' per-direction state, the
    TcpDirection objects alive, and the C skimmer's ignored directions."""
    bodies: list[fast_reader.FastBody] = []
    real = fast_reader.FastBody.__init__

    def remember(self, *args, **kwargs):
        real(self, *args, **kwargs)
        bodies.append(self)

    monkeypatch.setattr(fast_reader.FastBody, "__init__", remember)
    source = PacketSource([path], count_relayed=True)
    extractor, sip, app = RecordExtractor(all_bytes=False), SipCollector("c"), AppSignalingCollector("c")
    alive = 0
    for packet in source:
        list(extractor.feed(packet))
        sip.feed(packet)
        app.feed(packet)
        if packet.frame == last:  # the capture's last frame: nothing flushed yet
            gc.collect()
            alive = sum(isinstance(o, TcpDirection) for o in gc.get_objects())
    return {
        "extractor": len(extractor._tcp_directions),
        "sip": len(sip._sip_splitters),
        "app": len(app._connections),
        "directions": alive,
        "ignored in C": sum(b.skimmer.ignoring for b in bodies),
        "sip messages": len(sip.messages),
    }


@pytest.mark.parametrize("path_kind", ["skimmer", "plain"])
def test_nothing_is_kept_for_closed_connections_however_many(tmp_path, monkeypatch, path_kind):
    if path_kind == "plain":
        plain(monkeypatch)
    elif not fast_reader.available():
        pytest.skip("the C skimmer is not built")
    counts = []
    for n in (200, 800):
        frames = [f for i in range(n) for f in _connection(i)]
        frames.append(tcp(bytes([10, 9, 9, 9]), 7, SERVER, 80, 1, PSH_ACK, REQUEST))  # one open, at the end
        path = tmp_path / f"{n}.pcap"
        path.write_bytes(_pcap(frames))
        counts.append(_kept(path, len(frames), monkeypatch))
    for kept in counts:
        assert kept["extractor"] <= 1 and kept["sip"] <= 1 and kept["app"] <= 1 and kept["directions"] <= 1, kept
        assert kept["ignored in C"] == 0, kept
    assert counts[1]["sip messages"] == 4 * counts[0]["sip messages"] == 800 // 4  # every one read


def test_a_body_that_runs_to_the_close_ends_at_the_fin(tmp_path):
    """RFC 9112 §6.3: a response with neither length nor chunking ends when the connection closes;
    a retransmitted request after the close is not a second request."""
    client = bytes([10, 0, 0, 1])
    body = b'{"type": "offer", "sdp": "v=0\\r\\na=ice-ufrag:fin1\\r\\na=setup:actpass\\r\\n"}'
    response = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + body
    frames = [
        tcp(client, 40000, SERVER, 80, 100, SYN),
        tcp(client, 40000, SERVER, 80, 101, PSH_ACK, REQUEST),
        tcp(SERVER, 80, client, 40000, 501, PSH_ACK, response),
        tcp(SERVER, 80, client, 40000, 501 + len(response), FIN),
        tcp(client, 40000, SERVER, 80, 101 + len(REQUEST), FIN),
        tcp(client, 40000, SERVER, 80, 101, PSH_ACK, REQUEST),  # a late retransmission
        tcp(bytes([10, 0, 0, 2]), 1, SERVER, 80, 1, PSH_ACK, REQUEST),  # the capture goes on
    ]
    path = tmp_path / "close.pcap"
    path.write_bytes(_pcap(frames))
    app = AppSignalingCollector("c")
    for packet in PacketSource([path]):
        app.feed(packet)
        if packet.frame == 4:
            (signal,) = app.signals  # whole at the FIN, before the capture ends
            assert signal.ref.position == 3 and not signal.upstream  # where its bytes were
    assert not app.problems and len(app.signals) == 1
    assert [key[0].ip for key in app._connections] == ["10.0.0.2"]  # the connection still open
