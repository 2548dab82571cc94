"""Relayed media rows written by the C skimmer (`_relayed_rows.c`) against the Python path.

`icetrace messages` with the skimmer writes the rows of UDP ChannelData, Send/Data indications and
MS-TURN Send requests/Data indications in C; without it (the reference here) every frame becomes a
record in Python. The output must be the same bytes in every format, whatever the capture holds:
odd layouts, channel bindings learned before, after or where the skimmer cannot see them, every
timestamp format, TCP and fragments between the rows.
"""

from __future__ import annotations

import io
import random
import struct
from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP, UDP, fragment
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

from dissectors.codec import encode_channel_data, encode_stun
from icetrace.capture import fast_reader
from icetrace.capture.packet_source import PacketSource
from icetrace.cli import main
from icetrace.commands import message_pipeline
from tests.capture.test_fast_reader import epb, idb, shb
from tests.capture.test_relayed_skimmer import (
    CHECK,
    CLIENT,
    DTLS,
    MS_COOKIE,
    MS_TID,
    PEER,
    PEER6,
    RTCP,
    RTP,
    SERVER,
    TID,
    _attribute,
    _damaged,
    _make_capture,
    _message,
    _send,
)

pytestmark = pytest.mark.skipif(not fast_reader.available(), reason="the C skimmer is not compiled")

FORMATS = ["csv", "jsonl", "table"]
BIND = 0x0009


def messages(path: Path, fmt: str, jobs: str = "1") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["messages", "--format", fmt, "--jobs", jobs, str(path)], stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def assert_same_rows(path: Path, monkeypatch, fmt: str, jobs: str = "1") -> str:
    """The listing with the skimmer writing rows equals the Python path's, byte for byte."""
    fast = messages(path, fmt, jobs)
    with monkeypatch.context() as m:
        m.setattr(fast_reader, "Skimmer", None)
        plain = messages(path, fmt, jobs)
    assert fast[0] == 0
    assert fast == plain
    return fast[1]


class _Rows:
    def __init__(self, fmt: str = "csv") -> None:
        self.format = fmt
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)


def rows_in_c(path: Path) -> int:
    """How many rows the skimmer wrote itself."""
    rows = _Rows()
    for _ in PacketSource([path], relayed_rows=rows):
        pass
    return "".join(rows.parts).count("\n")


def ether(ip) -> bytes:
    return bytes(Ether(src="00:00:5e:00:53:01", dst="00:00:5e:00:53:02") / ip)


def udp(payload: bytes, src=CLIENT, dst=SERVER) -> bytes:
    if ":" in src[0]:
        return ether(IPv6(src=src[0], dst=dst[0]) / UDP(sport=src[1], dport=dst[1]) / payload)
    return ether(IP(src=src[0], dst=dst[0]) / UDP(sport=src[1], dport=dst[1]) / payload)


def tcp(payload: bytes, seq: int, src=CLIENT, dst=SERVER, flags: str = "PA") -> bytes:
    return ether(IP(src=src[0], dst=dst[0]) / TCP(sport=src[1], dport=dst[1], flags=flags, seq=seq) / payload)


def pcap(frames: list[bytes], ticks: list[int] | None = None, *, nanos: bool = False) -> bytes:
    unit = 10**9 if nanos else 10**6
    ticks = ticks or [1_700_000_000 * unit + 20_000 * i for i in range(len(frames))]
    out = [struct.pack("<IHHiIII", 0xA1B23C4D if nanos else 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for tick, frame in zip(ticks, frames):
        out.append(struct.pack("<IIII", tick // unit, tick % unit, len(frame), len(frame)) + frame)
    return b"".join(out)


def pcapng(frames: list[bytes], ticks: list[int], tsresol: int | None) -> bytes:
    parts = [shb("<"), idb("<", 1, tsresol)]
    parts += [epb("<", 0, tick, frame) for tick, frame in zip(ticks, frames)]
    return b"".join(parts)


def netmon(frames: list[bytes], times: list[tuple[int, int]], start: tuple[int, ...]) -> bytes:
    """Network Monitor 2.3: each frame's (microseconds after the start, UTC FILETIME or 0)."""
    body, table = b"", []
    for frame, (delta, filetime) in zip(frames, times):
        table.append(128 + len(body))
        body += struct.pack("<QII", delta, len(frame), len(frame)) + frame + struct.pack("<HIQB", 1, 0, filetime, 0)
    header = b"GMBU" + bytes([3, 2]) + struct.pack("<H", 1) + struct.pack("<8H", *start)
    header += struct.pack("<II", 128 + len(body), 4 * len(table))
    return header.ljust(128, b"\0") + body + struct.pack(f"<{len(table)}I", *table)


def _write(tmp_path: Path, data: bytes, name: str = "relayed.pcap") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def channel_bind(channel: int, peer, *, cookie: bool = True, tid: bytes = TID) -> bytes:
    if cookie:
        return encode_stun(BIND, tid, [("CHANNEL-NUMBER", channel), ("XOR-PEER-ADDRESS", peer)])
    return encode_stun(BIND, MS_TID, [("CHANNEL-NUMBER", channel), ("XOR-PEER-ADDRESS", peer)], cookie=False)


# -- captures a relay writes ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["turn-server", "av-edge"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_relay_capture_lists_the_same_rows(kind, fmt, tmp_path, monkeypatch):
    """ChannelData (UDP, and framed on TURN/TCP between the rows), indications, MS-TURN: calls
    running before the capture began, so the first ChannelData has no binding yet."""
    path = tmp_path / f"{kind}.pcap"
    _make_capture().relay_capture(str(path), kind, 300_000, random.Random(2))
    text = assert_same_rows(path, monkeypatch, fmt)
    assert rows_in_c(path) > 0.8 * text.count("\n")
    if kind == "turn-server":
        assert "channeldata peer=" in text or '"via": "channeldata"' in text or "via channeldata peer=" in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_processes_write_the_rows_in_place(fmt, tmp_path, monkeypatch):
    """The rows written here while the child decodes the rest (started at once, as on a big capture)."""
    monkeypatch.setattr(message_pipeline, "_DECODED_HERE", 0)
    path = tmp_path / "turn-server.pcap"
    _make_capture().relay_capture(str(path), "turn-server", 300_000, random.Random(3))
    one = assert_same_rows(path, monkeypatch, fmt, "1")
    assert assert_same_rows(path, monkeypatch, fmt, "2") == one


# -- layouts ----------------------------------------------------------------------------------


def _more_layouts() -> list[bytes]:
    """Attributes the rows name or leave to Python: integrity, FINGERPRINT, unknown codes, addresses."""
    peer = _send(RTP)[20:32]
    data = _attribute(0x0013, RTP)
    return [
        _send(RTP, PEER, ("FINGERPRINT", 0)),  # a wrong FINGERPRINT: the row says so, in Python
        encode_stun(0x0016, TID, [("XOR-PEER-ADDRESS", PEER), ("DATA", RTP)], fingerprint=True),
        encode_stun(0x0017, TID, [("XOR-PEER-ADDRESS", PEER6), ("DATA", DTLS)], fingerprint=True),
        _message(0x0016, peer + data + _attribute(0x8022, b"relay 1.0")),  # SOFTWARE
        _message(0x0016, peer + _attribute(0x001A, b"") + data),  # DONT-FRAGMENT
        _message(0x0016, peer + _attribute(0x001A, b"x") + data),  # DONT-FRAGMENT with a value: an anomaly
        _message(0x0016, peer + data + _attribute(0xC001, b"abc")),  # an unknown attribute
        _message(0x0016, peer + peer + data),  # two peers: the first is the address
        _message(0x0016, peer + data + _attribute(0x0008, bytes(20))),  # MESSAGE-INTEGRITY last
        _message(0x0016, peer + _attribute(0x0008, bytes(20)) + data),  # DATA after it: an anomaly
        _message(0x0016, peer + data + _attribute(0x0009, b"\0\0\x04\x01x")),  # ERROR-CODE: Python's
        _message(0x0016, peer + _attribute(0x0013, b"") + data),  # an empty DATA first
        _message(0x0016, peer + _attribute(0x0013, RTP) + _attribute(0x0013, CHECK)),  # a check second
        _message(0x0016, peer + _attribute(0x0013, b"\x30\x00\x00\x00" + bytes(16))),  # DTLS-ish, STUN-sized
        encode_stun(
            0x0004, MS_TID, [MS_COOKIE, ("MS-VERSION", 2), ("DESTINATION-ADDRESS", PEER), ("DATA", RTP)], cookie=False
        ),
        encode_stun(0x0115, MS_TID, [MS_COOKIE, ("REMOTE-ADDRESS", PEER6), ("DATA", RTCP)], cookie=False),
        encode_stun(
            0x0004,
            MS_TID,
            [MS_COOKIE, ("MS-SEQUENCE-NUMBER", (bytes(20), 7)), ("DESTINATION-ADDRESS", PEER), ("DATA", RTP)],
            cookie=False,
        ),
        encode_channel_data(0xFF10, RTP, session_id=b"12345678"),
        encode_channel_data(0xFF10, CHECK, session_id=b"12345678"),
        encode_channel_data(0xFF10, b"", session_id=b"12345678"),
        b"\xff\x10\x00\x04" + bytes(8),  # a length below the session id
        b"\xff\x10\x00\x08" + bytes(5),  # too short for a session id
        b"\xff\x11\x00\x08" + bytes(8),
        encode_channel_data(0x4000, RTP) + b"\0\0",
        encode_channel_data(0x4001, b"\x01" + bytes(30)),  # data whose first byte says STUN, not STUN-sized
    ]


@pytest.mark.parametrize("ng", [False, True], ids=["pcap", "pcapng"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_odd_layouts_are_written_or_left_alike(ng, fmt, tmp_path, monkeypatch):
    layouts = _damaged() + _more_layouts()
    other = ("198.51.100.1", 40000)
    client6, server6 = ("2001:db8::10", 50000), ("2001:db8::1", 3478)
    frames = [udp(p) for p in layouts]  # before any STUN on the 5-tuple
    frames.append(udp(CHECK))  # the 5-tuple carried STUN from here on
    for payload in layouts:
        frames += [udp(payload), udp(payload, SERVER, CLIENT)]
    frames += [udp(p, CLIENT, other) for p in layouts] + [udp(CHECK, other, CLIENT)]
    frames += [udp(p, CLIENT, other) for p in layouts]
    frames += [udp(CHECK, client6, server6)] + [udp(p, server6, client6) for p in layouts]
    ticks = [1_700_000_000_000_000 + 1013 * i for i in range(len(frames))]
    data = pcapng(frames, ticks, None) if ng else pcap(frames, ticks)
    path = _write(tmp_path, data)
    text = assert_same_rows(path, monkeypatch, fmt)
    listed = rows_in_c(path)
    assert 0 < listed < text.count("\n") - 50  # some written in C, many left to Python


# -- channel bindings -------------------------------------------------------------------------


def _bindings_capture() -> list[bytes]:
    """Bindings learned in capture order: none yet (a call running before the capture), then
    ChannelBind (and rebinding), a ChannelBind the skimmer cannot read (no cookie, over TCP,
    fragmented), MS multiplexed TURN bound both ways, an IPv6 client."""
    cd = encode_channel_data
    # (fragments make their two IP addresses opaque, whatever the ports: another client address)
    tcp_client, frag_client, v6_client = (CLIENT[0], 50100), ("192.0.2.11", 50200), ("2001:db8::10", 50300)
    v6_server = ("2001:db8::1", 3478)
    frames = [udp(cd(0x4001, RTP)), udp(cd(0x4001, RTP), SERVER, CLIENT)]  # no binding yet
    frames += [udp(channel_bind(0x4001, PEER)), udp(cd(0x4001, RTP)), udp(cd(0x4001, RTCP), SERVER, CLIENT)]
    frames += [udp(channel_bind(0x4001, PEER6)), udp(cd(0x4001, RTP)), udp(cd(0x4001, DTLS), SERVER, CLIENT)]
    bad_peer = _message(BIND, _attribute(0x000C, b"\x40\x02\0\0") + _attribute(0x0012, bytes(7)))
    frames += [udp(bad_peer), udp(cd(0x4002, RTP))]  # a peer address the codec rejects: no binding
    classic, longer = (CLIENT[0], 50400), (CLIENT[0], 50500)
    frames += [udp(channel_bind(0x4003, PEER, cookie=False), classic), udp(cd(0x4003, RTP), classic)]  # Python's
    frames += [udp(channel_bind(0x4004, PEER) + b"\x00", longer), udp(cd(0x4004, RTP), longer)]  # not STUN
    frames += [tcp(channel_bind(0x4005, PEER), 1000, tcp_client), udp(cd(0x4005, RTP), tcp_client)]
    big_bind = encode_stun(BIND, TID, [("CHANNEL-NUMBER", 0x4006), ("XOR-PEER-ADDRESS", PEER), ("SOFTWARE", "x" * 900)])
    pieces = fragment(
        IP(src=frag_client[0], dst=SERVER[0]) / UDP(sport=frag_client[1], dport=SERVER[1]) / big_bind, 400
    )
    frames += [ether(p) for p in pieces] + [udp(cd(0x4006, RTP), frag_client)]
    frames += [udp(CHECK), udp(cd(0xFF10, RTP, session_id=b"s" * 8)), udp(channel_bind(0xFF10, PEER))]
    frames += [udp(cd(0xFF10, RTP, session_id=b"s" * 8)), udp(cd(0xFF10, RTCP, session_id=b"s" * 8), SERVER, CLIENT)]
    frames += [
        udp(channel_bind(0x4001, PEER, tid=bytes(12)), v6_client, v6_server),
        udp(cd(0x4001, RTP), v6_client, v6_server),
    ]
    frames += [udp(cd(0x4001, RTP), v6_server, v6_client), udp(cd(0x4001, RTP))]
    return frames


@pytest.mark.parametrize("fmt", FORMATS)
def test_channel_bindings_name_the_peer_in_capture_order(fmt, tmp_path, monkeypatch):
    path = _write(tmp_path, pcap(_bindings_capture()))
    text = assert_same_rows(path, monkeypatch, fmt)
    peers = {"csv": "channeldata peer=", "jsonl": '"peer": "', "table": "via channeldata peer="}[fmt]
    assert text.count(peers) >= 8
    rows = _Rows()
    for _ in PacketSource([path], relayed_rows=rows):
        pass
    written = "".join(rows.parts)
    assert written.count("\n") >= 12
    assert "channeldata peer=203.0.113.9:7000" in written and "channeldata peer=[2001:db8::9]:7002" in written
    assert "ms-multiplexed peer=" in written


# -- times ------------------------------------------------------------------------------------


def _times(rng: random.Random, unit: int) -> list[int]:
    """Ticks of `unit` per second: whole seconds, microsecond fractions, the largest digits, times
    before 1e-4 s and after 2^33 s (left to Python), going backwards now and then."""
    picks = [0, 1, unit // 2, unit, 10**4 * unit, 1_700_000_000 * unit, (1 << 33) * unit + 1, (1 << 40) * unit]
    for _ in range(300):
        base = rng.choice([1_700_000_000, 1_234_567, 86_399, 3, 0, 8_388_607, 8_388_608, 4_294_967_295])
        picks.append(base * unit + rng.randrange(unit))
    picks += [1_700_000_000 * unit + unit - 1, 1_700_000_000 * unit + unit // 1000 * 999]
    return picks


@pytest.mark.parametrize(
    "case",
    ["pcap-us", "pcap-ns", "pcapng-ms", "pcapng-ns", "pcapng-2^-20", "pcapng-ps", "netmon"],
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_times_are_written_as_python_writes_them(case, fmt, tmp_path, monkeypatch):
    rng = random.Random(case)
    frame = udp(encode_channel_data(0x4001, RTP))
    if case == "netmon":
        times = [(rng.randrange(10**9), 0) for _ in range(200)]
        times += [(0, 116444736000000000 + rng.randrange(10**17)) for _ in range(200)]
        times += [(0, 116444736000000000 + 17_000_000_000_000_000 + i) for i in range(20)]
        data = netmon([frame] * len(times), times, (2026, 11, 0, 22, 12, 0, 0, 0))
    elif case.startswith("pcap-"):
        nanos = case == "pcap-ns"
        unit = 10**9 if nanos else 10**6
        ticks = [t for t in _times(rng, unit) if t // unit < 1 << 32]  # a pcap's seconds are 32 bits
        data = pcap([frame] * len(ticks), ticks, nanos=nanos)
    else:
        resol = {"pcapng-ms": (3, 10**3), "pcapng-ns": (9, 10**9), "pcapng-2^-20": (0x80 | 20, 1 << 20)}
        resol["pcapng-ps"] = (12, 10**12)
        code, unit = resol[case]
        ticks = [t for t in _times(rng, unit) if t < 1 << 64]
        data = pcapng([frame] * len(ticks), ticks, code)
    path = _write(tmp_path, data, "times.cap")
    text = assert_same_rows(path, monkeypatch, fmt)
    assert rows_in_c(path) > 0.7 * text.count("\n")


# -- ChannelData framed on TURN/TCP --------------------------------------------------------------


def _tcp_stream(data: bytes, cuts: list[int], seq: int, src, dst, *, order=None, syn: bool = False) -> list[bytes]:
    """`data` in segments cut at the offsets `cuts` (in `order` when given), from sequence number `seq`."""
    bounds = [0, *cuts, len(data)]
    segments = [(bounds[i], data[bounds[i] : bounds[i + 1]]) for i in range(len(bounds) - 1)]
    frames = [tcp(b"", seq - 1, src, dst, flags="S")] if syn else []
    for i in order if order is not None else range(len(segments)):
        start, chunk = segments[i]
        frames.append(tcp(chunk, seq + start, src, dst))
        frames.append(tcp(b"", 1, dst, src, flags="A"))  # the other side's ACK
    return frames


def _stream_cases() -> dict[str, list[bytes]]:
    cd = encode_channel_data
    client, server = (CLIENT[0], 51000), SERVER
    rtp = [cd(0x4001, RTP, stream=True) for _ in range(6)]
    whole = b"".join(rtp)
    frame = len(rtp[0])
    bind = channel_bind(0x4001, PEER)
    cases = {
        "whole frames": _tcp_stream(whole, [frame, 3 * frame, 4 * frame], 1000, client, server),
        "frames cut across segments": _tcp_stream(
            whole, [frame + 7, 2 * frame + 2, 4 * frame - 1], 1000, client, server
        ),
        "a header cut": _tcp_stream(whole, [frame + 2, 2 * frame], 1000, client, server),
        "binding in the stream": _tcp_stream(
            rtp[0] + bind + rtp[1] + rtp[2], [frame, frame + len(bind)], 1000, client, server
        ),
        "binding cut": _tcp_stream(
            rtp[0] + bind + rtp[1] + rtp[2], [frame + 9, frame + len(bind)], 1000, client, server
        ),
        "a check inside": _tcp_stream(
            rtp[0] + cd(0x4001, CHECK, stream=True) + rtp[1], [frame, 2 * frame + 8], 1000, client, server
        ),
        "out of order": _tcp_stream(whole, [frame, 2 * frame, 3 * frame], 1000, client, server, order=[0, 2, 1, 3]),
        "retransmitted": _tcp_stream(whole, [frame, 2 * frame, 3 * frame], 1000, client, server, order=[0, 1, 1, 2, 3]),
        "from the SYN": _tcp_stream(whole, [frame, 2 * frame], 5000, client, server, syn=True),
        "MS multiplexed": _tcp_stream(
            rtp[0] + cd(0xFF10, RTP, stream=True, session_id=b"s" * 8) + rtp[1], [frame], 1000, client, server
        ),
        "channel above 0x4FFF": _tcp_stream(
            rtp[0] + cd(0x5001, RTP, stream=True) + rtp[1], [frame], 1000, client, server
        ),
        "junk": _tcp_stream(rtp[0] + b"\x99" * 40 + rtp[1] + rtp[2], [frame, frame + 40], 1000, client, server),
        "STUN first": _tcp_stream(CHECK + whole, [len(CHECK), len(CHECK) + frame], 1000, client, server),
        "not a TURN port": _tcp_stream(whole, [frame], 1000, client, ("198.51.100.1", 4000)),
    }
    back = b"".join(cd(0x4001, RTCP, stream=True) for _ in range(4))
    cases["both ways"] = _tcp_stream(bind + whole, [len(bind), len(bind) + frame], 1000, client, server) + _tcp_stream(
        back, [len(back) // 4, len(back) // 2], 9000, server, client
    )
    return cases


@pytest.mark.parametrize("fmt", FORMATS)
def test_channel_data_on_turn_tcp_is_listed_as_python_lists_it(fmt, tmp_path, monkeypatch):
    """Each case on a connection of its own, then all of them interleaved: same rows either way."""
    cases = _stream_cases()
    frames, port = [], 51000
    for frames_of in cases.values():
        frames += [_on_port(f, port) for f in frames_of]
        frames.append(udp(encode_channel_data(0x4001, RTP)))  # UDP rows between
        port += 1
    path = _write(tmp_path, pcap(frames))
    text = assert_same_rows(path, monkeypatch, fmt)
    assert text.count("tcp") > 40
    written = _rows_written(path)
    assert written.count("tcp") >= 10  # the plain cases are listed in C
    assert "channeldata peer=203.0.113.9:7000" in assert_same_rows(path, monkeypatch, "csv")


def _on_port(frame: bytes, port: int) -> bytes:
    """A frame of the test client moved to `port` (its other side's address unchanged)."""
    packet = Ether(frame)
    transport = packet[TCP] if TCP in packet else packet[UDP]
    if packet[IP].src == CLIENT[0]:
        transport.sport = port
    else:
        transport.dport = port
    del packet[IP].chksum, transport.chksum
    return bytes(packet)


def _rows_written(path: Path) -> str:
    rows = _Rows()
    for _ in PacketSource([path], relayed_rows=rows):
        pass
    return "".join(rows.parts)


def test_random_turn_tcp_streams(tmp_path, monkeypatch):
    """Streams of ChannelData, ChannelBinds and checks, cut at random and now and then reordered or
    repeated: the rows are Python's whatever the segments."""
    rng = random.Random(7)
    cd = encode_channel_data
    frames = []
    for connection in range(30):
        client = (f"192.0.2.{20 + connection % 5}", 52000 + connection)
        pieces = []
        for i in range(rng.randrange(3, 12)):
            pick = rng.random()
            if pick < 0.75:
                pieces.append(cd(0x4000 + rng.randrange(3), rng.choice([RTP, RTCP, DTLS, RTP[:13]]), stream=True))
            elif pick < 0.85:
                pieces.append(channel_bind(0x4000 + rng.randrange(3), rng.choice([PEER, PEER6]), tid=bytes([i]) * 12))
            elif pick < 0.95:
                pieces.append(cd(0x4001, CHECK, stream=True))
            else:
                pieces.append(CHECK)
        data = b"".join(pieces)
        starts = [sum(len(p) for p in pieces[:i]) for i in range(1, len(pieces))]  # mostly between frames
        cuts = {c for c in starts if rng.random() < 0.7} | {
            rng.randrange(1, len(data)) for _ in range(rng.randrange(2))
        }
        cuts = sorted(cuts) or [len(data) // 2]
        order = list(range(len(cuts) + 1))
        if rng.random() < 0.2:
            i = rng.randrange(len(order) - 1)
            order[i], order[i + 1] = order[i + 1], order[i]
        if rng.random() < 0.2:
            order.insert(rng.randrange(len(order)), rng.choice(order))
        frames += _tcp_stream(data, cuts, rng.randrange(1 << 32), client, SERVER, order=order, syn=rng.random() < 0.3)
        frames.append(udp(cd(0x4000 + connection % 3, RTP), client))
    path = _write(tmp_path, pcap(frames))
    for fmt in FORMATS:
        assert_same_rows(path, monkeypatch, fmt)
    assert _rows_written(path).count("tcp") > 20


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_rows_of_several_captures_start_with_their_capture(fmt, jobs, tmp_path, monkeypatch):
    """Listing a TURN server's and an A/V Edge's captures together: the rows written in C start with
    the capture being read, as the rows written in Python do."""
    monkeypatch.setattr(message_pipeline, "_DECODED_HERE", 0)
    paths = [tmp_path / "turn-server.pcap", tmp_path / "av-edge.pcap"]
    for path, seed in zip(paths, (4, 5)):
        _make_capture().relay_capture(str(path), path.stem, 120_000, random.Random(seed))

    def listing() -> str:
        out = io.StringIO()
        args = ["messages", "--format", fmt, "--jobs", jobs, *map(str, paths)]
        assert main(args, stdout=out, stderr=io.StringIO()) == 0
        return out.getvalue()

    fast = listing()
    with monkeypatch.context() as m:
        m.setattr(fast_reader, "Skimmer", None)
        assert listing() == fast
    assert all(rows_in_c(path) > 0 for path in paths)
    lines = fast.splitlines()[0 if fmt == "jsonl" else 1 :]
    lead = {"csv": "{},", "jsonl": '{{"capture": "{}", ', "table": "{} "}[fmt]
    names = [p.name.ljust(len("turn-server.pcap")) if fmt == "table" else p.name for p in paths]
    held = [next(i for i, name in enumerate(names) if line.startswith(lead.format(name))) for line in lines]
    assert held == sorted(held) and set(held) == {0, 1}  # the first capture's rows, then the second's
