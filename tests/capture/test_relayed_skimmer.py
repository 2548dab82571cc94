"""Relayed media counted by the C skimmer against the plain Python path.

On a relay's capture the skimmer counts UDP ChannelData and Send/Data indications (MS-TURN Send
requests and Data indications) that carry no STUN, keyed as records/relayed.py keys them, and
hands back everything else. Counting every message in Python must give the same flows (frame,
time, packets and bytes per key), the same records kept and the same `analyze` output, on
generated relay captures, on captures that start mid-call and on damaged messages.
"""

from __future__ import annotations

import io
import random
import struct
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap, wrpcapng

from dissectors.codec import encode_channel_data, encode_stun
from icetrace.capture import fast_reader
from icetrace.capture.packet_source import PacketSource
from icetrace.cli import main
from icetrace.records.extract import RecordExtractor
from icetrace.records.relayed import RelayedCounter
from tests.testdata import script

pytestmark = pytest.mark.skipif(not fast_reader.available(), reason="the C skimmer is not compiled")

ROOT = Path(__file__).resolve().parents[2]
TID = bytes(range(12))
MS_TID = bytes(range(16))
CLIENT, SERVER = ("192.0.2.10", 50000), ("198.51.100.1", 3478)
PEER, PEER6 = ("203.0.113.9", 7000), ("2001:db8::9", 7002)
RTP = b"\x80\x00\x00\x01" + bytes(8) + bytes(160)
RTCP = b"\x81\xc8\x00\x06" + bytes(24)
DTLS = b"\x16\xfe\xfd" + bytes(40)
CHECK = encode_stun(0x0001, TID, [("PRIORITY", 1845494271), ("USERNAME", b"a:b")], fingerprint=True)
MS_COOKIE = ("MAGIC-COOKIE", 0x72C64BC6)


def _tally(path: Path) -> tuple[dict, list[str], list, float, int]:
    """What analyze keeps of one capture: relayed flows, records, media, the capture's end, packets handed on."""
    source = PacketSource([path], count_relayed=True)
    extractor, counter, kept, packets = RecordExtractor(), RelayedCounter(), [], 0
    for packet in source:
        packets += 1
        for record in extractor.feed(packet):
            if not counter.add(record):
                kept.append(repr(record))
    summary = source.summary()
    for count in summary.relayed:
        counter.include(count)
    flows = {
        key: (f.first_frame, f.first_time, f.last_frame, f.last_time, f.packets, f.bytes)
        for key, f in counter.flows.items()
    }
    return flows, kept, summary.media_flows, summary.end, packets


def _both(path: Path, monkeypatch) -> tuple[tuple, tuple]:
    fast = _tally(path)
    with monkeypatch.context() as m:
        m.setattr(fast_reader, "Skimmer", None)
        plain = _tally(path)
    return fast, plain


def _cli(*args: str) -> str:
    out = io.StringIO()
    assert main(list(args), stdout=out, stderr=io.StringIO()) == 0
    return out.getvalue()


def _cli_both(monkeypatch, *args: str) -> tuple[str, str]:
    fast = _cli(*args)
    with monkeypatch.context() as m:
        m.setattr(fast_reader, "Skimmer", None)
        plain = _cli(*args)
    return fast, plain


def _assert_same(path: Path, monkeypatch) -> tuple:
    fast, plain = _both(path, monkeypatch)
    assert fast[0] == plain[0]  # every relayed flow, key and values
    assert fast[1] == plain[1]  # the records kept
    assert fast[2] == plain[2]  # media per 5-tuple
    assert fast[3] == plain[3]  # how long the capture ran
    return fast, plain


def _make_capture():
    return script(ROOT / "benchmarks" / "make_capture.py", "make_capture")


@pytest.mark.parametrize("kind", ["turn-server", "av-edge"])
def test_a_relay_capture_counts_the_same_on_both_paths(kind, tmp_path, monkeypatch):
    path = tmp_path / f"{kind}.pcap"
    _make_capture().relay_capture(str(path), kind, 400_000, random.Random(1))
    fast, plain = _assert_same(path, monkeypatch)
    assert sum(v[4] for v in fast[0].values()) > 1000
    # the skimmer did the counting: fewer packets reached Python (the first message of each
    # client's 5-tuple always does)
    assert fast[4] < plain[4]
    for args in (("analyze", "--json", "-"), ("messages", "--format", "csv", "--no-media")):
        fast_text, plain_text = _cli_both(monkeypatch, *args, str(path))
        assert fast_text == plain_text
    everything = _cli("messages", "--format", "jsonl", "--jobs", "1", str(path)).splitlines()
    no_media = _cli("messages", "--format", "jsonl", "--no-media", str(path)).splitlines()
    assert 0 < len(no_media) < len(everything) // 5


def test_the_mid_call_relay_capture(monkeypatch):
    """ChannelData from the first frame, before any STUN on its 5-tuple: the TURN port makes it ChannelData."""
    path = ROOT / "captures" / "synthetic" / "relayed_mid_call" / "capture.pcap"
    fast, _ = _assert_same(path, monkeypatch)
    udp_channel_data = [v for k, v in fast[0].items() if k[2] == "udp" and k[3] == "channeldata"]
    assert udp_channel_data and min(v[0] for v in udp_channel_data) == 1
    fast_text, plain_text = _cli_both(monkeypatch, "analyze", "--json", "-", str(path))
    assert fast_text == plain_text


def _udp(payload: bytes, src=CLIENT, dst=SERVER, v6: bool = False):
    ip = IPv6(src="2001:db8::10", dst="2001:db8::1") if v6 else IP(src=src[0], dst=dst[0])
    return Ether(src="00:00:5e:00:53:01", dst="00:00:5e:00:53:02") / ip / UDP(sport=src[1], dport=dst[1]) / payload


def _write(tmp_path: Path, packets, name: str = "relayed.pcap", times=None, ng: bool = False) -> Path:
    for i, p in enumerate(packets):
        p.time = times[i] if times else 1_700_000_000 + i / 100
    path = tmp_path / name
    (wrpcapng if ng else wrpcap)(str(path), packets)
    return path


def _send(data: bytes, peer=PEER, *extra) -> bytes:
    return encode_stun(0x0016, TID, [("XOR-PEER-ADDRESS", peer), ("DATA", data), *extra])


def _data(data: bytes, peer=PEER) -> bytes:
    return encode_stun(0x0017, TID, [("XOR-PEER-ADDRESS", peer), ("DATA", data)])


def _ms_send(data: bytes, peer=PEER, cookie=True) -> bytes:
    attrs = [MS_COOKIE] if cookie else []
    return encode_stun(0x0004, MS_TID, [*attrs, ("DESTINATION-ADDRESS", peer), ("DATA", data)], cookie=False)


def _ms_data(data: bytes, peer=PEER) -> bytes:
    return encode_stun(
        0x0115, MS_TID, [MS_COOKIE, ("REMOTE-ADDRESS", peer), ("DATA", data)], dialect="ms-turn", cookie=False
    )


def _attribute(code: int, value: bytes, pad: bool = True) -> bytes:
    return struct.pack("!HH", code, len(value)) + value + (bytes(-len(value) % 4) if pad else b"")


def _message(msg_type: int, body: bytes, cookie: bool = True) -> bytes:
    head = struct.pack("!HH", msg_type, len(body))
    return head + (b"\x21\x12\xa4\x42" + TID if cookie else MS_TID) + body


def _damaged() -> list[bytes]:
    """Send indications and ChannelData the skimmer must count, or leave to Python, as Python would."""
    peer = _send(RTP)[20:32]  # a well-formed XOR-PEER-ADDRESS attribute
    return [
        _send(RTP),
        _send(CHECK),  # a relayed check: a record of its own
        _send(b""),  # empty DATA: counted as "data"
        _send(RTP, PEER6),
        _data(DTLS, PEER6),
        _data(RTCP),
        _message(0x0016, peer + _attribute(0x0013, CHECK) + _attribute(0x0013, RTP)),  # two DATA
        _message(0x0016, _attribute(0x0012, bytes(7)) + peer + _attribute(0x0013, RTP)),  # a bad peer first
        _message(0x0016, _attribute(0x0013, RTP)),  # no peer
        _message(0x0016, peer + struct.pack("!HH", 0x0013, 400) + RTP),  # DATA overruns the message
        _message(0x0016, peer + _attribute(0x0013, RTP[:-1], pad=False)),  # last padding missing
        _send(RTP)[:-1],  # the header's length lies
        _send(RTP, PEER, ("MS-VERSION", 3)),  # an MS-TURN marker: another dialect
        _send(RTP, PEER, ("FINGERPRINT", 0)),  # a wrong FINGERPRINT does not matter to the count
        _message(0x0016, peer + _attribute(0x0013, RTP), cookie=False),  # no cookie: classic STUN
        _ms_send(RTP),
        _ms_send(RTP[:-1]),  # odd DATA length, unpadded
        _message(0x0004, _attribute(0x000F, struct.pack("!I", 0x72C64BC6)) + _attribute(0x0013, RTP[:-3])),  # padded
        _ms_send(RTP, cookie=False),  # no MAGIC-COOKIE: classic dialect
        _message(0x0004, _attribute(0x0013, RTP)),  # the RFC 5389 cookie, no MAGIC-COOKIE: a Refresh
        _ms_send(DTLS, PEER6),
        _ms_data(RTP),
        encode_channel_data(0x4001, RTP),
        encode_channel_data(0x4001, RTCP) + b"\0\0\0",  # padded
        encode_channel_data(0x4001, RTP) + b"\0\0\0\0",  # too much padding: not ChannelData
        encode_channel_data(0x4001, RTP)[:-1],  # the length field lies
        encode_channel_data(0x4001, CHECK),
        b"\x40\x01\x00\x00\x02",  # no payload, a padding byte below 4: Python decides
        b"\x40\x01\x00\x00",
        encode_channel_data(0x4FFF, b"\x50zz"),
        b"\xff\x10\x00\x0c" + bytes(8) + RTP[:4],  # MS multiplexed TURN
    ]


@pytest.mark.parametrize("ng", [False, True], ids=["pcap", "pcapng"])
def test_damaged_and_odd_relayed_messages_are_counted_or_left_alike(tmp_path, monkeypatch, ng):
    packets = []
    for payload in _damaged():
        packets.append(_udp(payload))  # before any STUN on the 5-tuple: only ChannelData is counted
    packets.append(_udp(CHECK))  # the 5-tuple carried STUN from here on
    for payload in _damaged():
        packets += [_udp(payload), _udp(payload, SERVER, CLIENT)]
    # the same off the TURN port: ChannelData needs a 5-tuple that carried STUN
    other = ("198.51.100.1", 40000)
    packets += [_udp(p, CLIENT, other) for p in _damaged()] + [_udp(CHECK, other, CLIENT)]
    packets += [_udp(p, CLIENT, other) for p in _damaged()]
    packets += [_udp(_send(RTP), v6=True), _udp(CHECK, v6=True), _udp(_send(RTP, PEER6), v6=True)]
    path = _write(tmp_path, packets, ng=ng)
    fast, plain = _assert_same(path, monkeypatch)
    assert fast[4] < plain[4]  # the skimmer counted some
    vias = {k[3] for k in fast[0]}
    assert vias >= {"channeldata", "send-indication", "data-indication", "ms-send-request", "ms-data-indication"}
    kinds = {k[7] for k in fast[0]}
    assert kinds >= {"rtp", "rtcp", "dtls", "data"}
    fast_text, plain_text = _cli_both(monkeypatch, "analyze", "--json", "-", str(path))
    assert fast_text == plain_text


def test_time_going_backwards(tmp_path, monkeypatch):
    """First and last are by frame; the latest time of a counted indication still ends the capture."""
    packets = [_udp(CHECK), *[_udp(_send(RTP)) for _ in range(5)], _udp(_ms_data(RTP), SERVER, CLIENT)]
    times = [100.0, 105.0, 101.0, 109.0, 102.0, 103.0, 104.0]
    path = _write(tmp_path, packets, times=times)
    fast, _ = _assert_same(path, monkeypatch)
    (send,) = [v for k, v in fast[0].items() if k[3] == "send-indication"]
    assert send == (2, 105.0, 6, 103.0, 5, 5 * len(RTP))
    assert fast[3] == 109.0


def test_truncated_frames(tmp_path, monkeypatch):
    """A snap length that cuts the datagram: the IP length no longer matches, both paths see the same bytes."""
    packets = [_udp(CHECK), _udp(_send(RTP)), _udp(encode_channel_data(0x4001, RTP)), _udp(_ms_send(RTP))]
    path = _write(tmp_path, packets)
    data = bytearray(path.read_bytes())
    out, pos = bytearray(data[:24]), 24
    while pos < len(data):
        sec, frac, incl, orig = struct.unpack_from("<IIII", data, pos)
        body = data[pos + 16 : pos + 16 + incl]
        cut = incl if incl < 100 else incl - 30
        out += struct.pack("<IIII", sec, frac, cut, orig) + body[:cut]
        pos += 16 + incl
    cut_path = tmp_path / "cut.pcap"
    cut_path.write_bytes(bytes(out))
    fast, _ = _assert_same(cut_path, monkeypatch)
    assert fast[0] == {}


def test_relayed_media_does_not_depend_on_the_order_of_the_counts():
    """The fast path hands the correlator the same counts in another order: ties in time go by frame."""
    from icetrace.ice.relaying import relayed_media
    from icetrace.records.endpoint import Endpoint
    from icetrace.records.relayed import RelayedCount

    client, server = Endpoint(*CLIENT), Endpoint(*SERVER)
    udp = RelayedCount(
        src=client,
        dst=server,
        transport="udp",
        via="channeldata",
        channel=0x4001,
        client=None,
        peer=None,
        kind="rtp",
        first_frame=7,
        first_time=10.0,
        last_frame=20,
        last_time=12.0,
        packets=5,
        bytes=800,
    )
    tcp = RelayedCount(
        src=client,
        dst=server,
        transport="tcp",
        via="channeldata",
        channel=0x4001,
        client=client,
        peer=None,
        kind="rtp",
        first_frame=3,
        first_time=10.0,
        last_frame=9,
        last_time=12.0,
        packets=4,
        bytes=640,
    )
    one, other = relayed_media([udp, tcp], [], {}), relayed_media([tcp, udp], [], {})
    assert repr(one) == repr(other)
    assert (one[0].first_frame, one[0].last_frame, one[0].packets) == (3, 20, 9)


def test_a_check_in_ms_multiplexed_turn_is_decoded_whatever_its_session_id(tmp_path, monkeypatch):
    """0xFF10 frames carry an 8-byte session id before the data: its first byte is not the data's."""
    inner_tid = bytes(range(1, 13))
    inner = encode_stun(0x0001, inner_tid, [("PRIORITY", 1845494271), ("USERNAME", b"c:d")], fingerprint=True)
    session = bytes.fromhex("9001020304050607")

    def multiplexed(data: bytes) -> bytes:
        return b"\xff\x10" + struct.pack("!H", 8 + len(data)) + session + data

    path = _write(tmp_path, [_udp(CHECK), _udp(multiplexed(inner)), _udp(multiplexed(RTP))])
    fast, plain = _assert_same(path, monkeypatch)
    # counted as multiplexed TURN carrying RTP, never as ChannelData of "channel" 0xFF10 holding the session id
    assert {(key[3], key[7]) for key in fast[0] if key[4] == 0xFF10} == {("ms-multiplexed", "rtp")}
    fast_text, plain_text = _cli_both(monkeypatch, "messages", "--no-media", "--format", "csv", str(path))
    assert fast_text == plain_text and inner_tid.hex() in fast_text


def test_a_send_indication_with_two_data_attributes_is_read_by_its_first(tmp_path, monkeypatch):
    """The check in the first DATA is decoded; the wrapper is not also counted as the second's RTP."""
    path = _write(tmp_path, [_udp(CHECK), _udp(_send(CHECK, PEER, ("DATA", RTP)))])
    fast, _ = _assert_same(path, monkeypatch)
    assert not fast[0]  # nothing counted as relayed media
    assert sum(TID.hex() in r or repr(TID) in r for r in fast[1]) >= 2  # the direct check and the relayed one
