"""The C skimmer against the plain Python path: same packets, same media counts, same warnings.

Every capture here is built by the test with a mix the skimmer must get right:
media on every link type it follows, media it must hand back (IPv6 extension
headers, fragments), STUN, ChannelData, SIP, ICMP, TCP flows followed and given up
on, Ethernet padding, empty datagrams, and pcapng with several interfaces, sections,
byte orders and timestamp resolutions.
"""

from __future__ import annotations

import functools
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.contrib.mpls import MPLS
from scapy.layers.dot11 import Dot11, Dot11QoS, RadioTap
from scapy.layers.inet import GRE, ICMP, IP, TCP, UDP, fragment
from scapy.layers.inet6 import IPv6, IPv6ExtHdrHopByHop
from scapy.layers.l2 import ARP, LLC, SNAP, CookedLinux, Dot1Q, Ether, Loopback
from scapy.layers.ppp import PPP, PPPoE
from scapy.layers.vxlan import VXLAN

from dissectors.codec import encode_channel_data, encode_stun
from dissectors.framing import frame_rfc4571
from icetrace.capture import fast_reader, packet_source
from icetrace.capture.packet_source import PacketSource
from icetrace.capture.reader import CaptureReader
from tests import testdata

pytestmark = pytest.mark.skipif(not fast_reader.available(), reason="the C skimmer is not compiled")

TID = bytes(range(12))
BINDING = encode_stun(0x0001, TID, [("PRIORITY", 1845494271), ("USERNAME", b"a:b")], fingerprint=True)
SUCCESS = encode_stun(0x0101, TID, [("XOR-MAPPED-ADDRESS", ("203.0.113.7", 40000))], fingerprint=True)
RTP = b"\x80\x00\x00\x01" + bytes(8) + bytes(160)
RTCP = b"\x81\xc8\x00\x06" + bytes(24)
DTLS = b"\x16\xfe\xfd" + bytes(40)
ZRTP = b"\x10\x00\x00\x01" + bytes(30)
SIP = (
    b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nCall-ID: c1\r\n"
    b"CSeq: 1 INVITE\r\nContent-Length: 600\r\n\r\n" + b"v=0\r\n" + b"a=x\r\n" * 119
)


def ip4(payload, sport=50000, dport=3478, src="192.0.2.1", dst="198.51.100.2", **ip):
    return IP(src=src, dst=dst, **ip) / UDP(sport=sport, dport=dport) / payload


def ip6(payload, sport=50000, dport=3478):
    return IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=sport, dport=dport) / payload


def mixed_ip_packets():
    """IP datagrams (no link layer) covering every decision the skimmer makes."""
    packets = [ip4(BINDING), ip4(SUCCESS, 3478, 50000, "198.51.100.2", "192.0.2.1")]
    for _ in range(5):
        packets += [
            ip4(RTP, 6000, 7000),
            ip4(RTCP, 6001, 7001),
            ip4(DTLS, 6002, 7002),
            ip4(ZRTP, 6003, 7003),
            ip6(RTP, 6004, 7004),
            ip4(RTP, 6005, 7005, options=b"\x01\x01\x01\x01"),  # IPv4 with options
        ]
    packets.append(IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrHopByHop() / UDP(sport=1, dport=2) / RTP)
    packets.append(ip4(b""))  # an empty datagram
    packets.append(ip4(encode_channel_data(0x4000, BINDING), 3478, 50000, "198.51.100.2", "192.0.2.1"))
    packets.append(ip4(b"\x7f" + bytes(30), 9000, 9001))  # neither media nor STUN
    packets += fragment(ip4(SIP, 5060, 5060), fragsize=256)
    packets.append(IP(src="198.51.100.2", dst="192.0.2.1") / ICMP(type=3, code=3) / bytes(ip4(BINDING))[:28])
    # mirrored through tunnels: GRE carrying IP, VXLAN carrying Ethernet
    packets.append(IP(src="192.0.2.100", dst="192.0.2.200") / GRE(proto=0x0800) / ip4(SUCCESS, 3478, 50002))
    vxlan = UDP(sport=40000, dport=4789) / VXLAN(vni=7) / ethernet(ip4(BINDING, 50003))
    packets.append(IP(src="192.0.2.100", dst="192.0.2.200") / vxlan)
    # a TCP flow carrying nothing of interest (given up on), and one carrying STUN (followed)
    seq = 1000
    for _ in range(6):
        segment = TCP(sport=443, dport=50123, seq=seq, flags="A") / bytes(200)
        packets.append(IP(src="192.0.2.9", dst="192.0.2.1") / segment)
        seq += 200
    framed = frame_rfc4571(BINDING)
    for seq in (1, 1 + len(framed)):
        packets.append(
            IP(src="192.0.2.1", dst="198.51.100.2") / TCP(sport=50001, dport=443, seq=seq, flags="PA") / framed
        )
    return packets


def dot11(p):
    """A QoS data frame from the distribution system, LLC/SNAP encapsulated."""
    snap = SNAP(code=0x86DD if p.version == 6 else 0x0800)
    return Dot11(type=2, subtype=8, FCfield="from_DS", addr1="00:11:22:33:44:55") / Dot11QoS() / LLC() / snap / p


def ethernet(p):
    return Ether(src="00:11:22:33:44:55", dst="66:77:88:99:aa:bb") / p


LINKS = {
    "ethernet": (ethernet, 1),
    "vlan": (lambda p: ethernet(Dot1Q(vlan=7) / p), 1),
    "qinq": (lambda p: ethernet(Dot1Q(vlan=7, type=0x8100) / Dot1Q(vlan=8) / p), 1),
    "sll": (lambda p: CookedLinux(proto=0x86DD if p.version == 6 else 0x0800) / p, 113),
    "802.11": (lambda p: dot11(p), 105),
    "radiotap": (lambda p: RadioTap() / dot11(p), 127),
    "pppoe": (lambda p: ethernet(PPPoE(sessionid=9) / PPP(proto=0x0057 if p.version == 6 else 0x0021) / p), 1),
    "mpls": (lambda p: ethernet(MPLS(label=16, s=0) / MPLS(label=17, s=1) / p), 1),
    "raw": (lambda p: p, 101),
    "null": (lambda p: Loopback(type=30 if p.version == 6 else 2) / p, 0),
}


@functools.cache
def frames_for(link: str) -> tuple[list[bytes], int]:
    make, linktype = LINKS[link]
    frames = [bytes(make(p)) for p in mixed_ip_packets()]
    if linktype == 1:
        # Ethernet padding after a short IP datagram, and a frame that is not IP at all
        frames.append(bytes(ethernet(ip4(RTP[:12], 6000, 7000))) + b"\x00" * 20)
        frames.append(bytes(ethernet(ARP())))
    return frames, linktype


def pcap_bytes(frames: list[bytes], linktype: int, *, big: bool = False, nanos: bool = False) -> bytes:
    e = ">" if big else "<"
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = [struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)]
    for i, frame in enumerate(frames):
        frac = (123456789 if nanos else 123456) + i
        out.append(struct.pack(e + "IIII", 1700000000 + i, frac, len(frame), len(frame)) + frame)
    return b"".join(out)


def block(e: str, btype: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    return struct.pack(e + "II", btype, len(body) + 12) + body + struct.pack(e + "I", len(body) + 12)


def shb(e: str) -> bytes:
    return block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(e: str, linktype: int, tsresol: int | None = None) -> bytes:
    options = b""
    if tsresol is not None:
        options = struct.pack(e + "HH", 9, 1) + bytes([tsresol, 0, 0, 0]) + struct.pack(e + "HH", 0, 0)
    return block(e, 1, struct.pack(e + "HHI", linktype, 0, 0) + options)


def epb(e: str, iface: int, ticks: int, frame: bytes) -> bytes:
    return block(e, 6, struct.pack(e + "IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF, len(frame), len(frame)) + frame)


def pcapng_bytes(pairs: int | None = None, sll_frames: int | None = None) -> bytes:
    """Two sections (little then big endian); interfaces of different link types and resolutions;
    a statistics block and a Simple Packet Block between the packets. `pairs` and `sll_frames` keep
    the file small (the fuzzing seed): at most that many Ethernet and raw IP frames, and SLL frames."""
    eth, raw, sll = (frames_for(link)[0] for link in ("ethernet", "raw", "sll"))
    eth, raw, sll = eth[:pairs], raw[:pairs], sll[:sll_frames]
    parts = [shb("<"), idb("<", 1), idb("<", 101, 9)]
    for i, (a, b) in enumerate(zip(eth, raw)):
        parts.append(epb("<", 0, 1700000000_000000 + i, a))
        parts.append(epb("<", 1, 1700000000_000000000 + 7 * i, b))
        if i == 3:
            parts.append(block("<", 5, struct.pack("<IIII", 0, 0, 0, 0)))  # Interface Statistics Block
            parts.append(block("<", 3, struct.pack("<I", len(a)) + a))  # Simple Packet Block
    parts += [shb(">"), idb(">", 113, 0x80 | 20)]
    parts += [epb(">", 0, (1700000000 << 20) + i, f) for i, f in enumerate(sll)]
    return b"".join(parts)


def netmon_bytes(
    frames: list[bytes], minor: int, *, shuffled: bool = False, table_first: bool = False, media: int = 1
) -> bytes:
    """A Network Monitor 2.x file as Network Monitor writes it: frames (with gaps between some),
    per-frame media type and UTC time in the trailer (2.1+/2.3), the frame table at the end."""
    trailer_size = {0: 0, 1: 2, 2: 6, 3: 15}[minor]
    start = 128 + 4 * len(frames) if table_first else 128
    body, table = b"", []
    for i, frame in enumerate(frames):
        if i % 7 == 3:
            body += b"\xee" * 5  # a hole between frames, as some NetMon files have
        table.append(start + len(body))
        trailer = b""
        if trailer_size:
            trailer = struct.pack("<HI", media, 0)[:trailer_size]
        if trailer_size == 15:
            filetime = 116444736000000000 + (1700000000 + i) * 10_000_000 if i % 2 else 0  # 0: use the delta
            trailer = struct.pack("<HIQB", media, 0, filetime, 0)
        body += struct.pack("<QII", 1000 * i, len(frame), len(frame)) + frame + trailer
    if shuffled:  # the table's order is the frames' numbering, whatever the file order
        table = table[1::2] + table[0::2]
    header = b"GMBU" + bytes([minor, 2]) + struct.pack("<H", 1) + struct.pack("<8H", 2026, 11, 0, 22, 12, 0, 0, 0)
    packed_table = struct.pack(f"<{len(table)}I", *table)
    if table_first:
        header += struct.pack("<II", 128, 4 * len(table))
        return header.ljust(128, b"\0") + packed_table + body
    header += struct.pack("<II", 128 + len(body), 4 * len(table))
    return header.ljust(128, b"\0") + body + packed_table


def plain(monkeypatch):
    """The plain Python path: no skimmer, no numpy pass, every frame decoded in Python."""
    monkeypatch.setattr(packet_source, "CaptureReader", lambda path, **_: CaptureReader(path))


def run(path: Path):
    source = PacketSource([path])
    packets = list(source)
    return packets, source.summary().media_flows, [str(p) for p in source.problems]


CASES = {
    **{f"pcap-{link}": (lambda link=link: pcap_bytes(*frames_for(link))) for link in LINKS},
    **{f"netmon-2.{minor}": (lambda minor=minor: netmon_bytes(frames_for("vlan")[0], minor)) for minor in range(4)},
    "netmon-shuffled": lambda: netmon_bytes(frames_for("ethernet")[0], 3, shuffled=True),
    # Wi-Fi in monitor mode: Network Monitor's own radio header (version 2, 32 bytes) before 802.11
    "netmon-wifi": lambda: netmon_bytes(
        [struct.pack("<BH", 2, 32).ljust(32, b"\0") + f for f in frames_for("802.11")[0]], 1, media=6
    ),
    "pcap-big-endian-nanoseconds": lambda: pcap_bytes(*frames_for("vlan"), big=True, nanos=True),
    "pcapng": pcapng_bytes,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_skimmer_equals_the_python_path(tmp_path, monkeypatch, case):
    path = tmp_path / "t.cap"
    path.write_bytes(CASES[case]())
    fast = run(path)
    packets, flows, problems = fast
    assert not problems
    assert {f.kind for f in flows if f.packets >= 5} >= {"rtp", "rtcp", "dtls", "zrtp"}
    if case != "netmon-shuffled":  # (there the frames come in another order: equality below is the test)
        assert any(p.payload == SIP for p in packets)  # reassembled from fragments
        assert [p.transport for p in packets].count("tcp") == 2  # the STUN-over-TCP segments only
    with monkeypatch.context() as m:
        m.setattr(fast_reader, "Skimmer", None)
        assert run(path) == fast  # numpy pass (Ethernet pcap) or plain path
    plain(monkeypatch)
    assert run(path) == fast


@pytest.mark.parametrize("case", ["pcap-vlan", "pcapng", "netmon-2.3", "netmon-shuffled"])
def test_windows_smaller_than_frames_change_nothing(tmp_path, monkeypatch, case):
    """Frames straddling windows or larger than one: the buffer grows (pcap, pcapng) or the
    frame is read on its own (Network Monitor)."""
    path = tmp_path / "t.cap"
    path.write_bytes(CASES[case]())
    expected = run(path)
    monkeypatch.setattr(fast_reader, "WINDOW", 300)
    assert run(path) == expected


def test_skimmer_hands_back_only_what_python_needs(tmp_path):
    path = tmp_path / "t.pcap"
    path.write_bytes(pcap_bytes(*frames_for("vlan")))
    reader = CaptureReader(path, media_sink=lambda *flow: None)
    numbers = [frame.number for frame in reader]
    assert reader._fast is not None
    # 5 rounds of RTP, RTCP, DTLS, ZRTP, IPv6 RTP, RTP with IP options; the padded RTP frame
    assert reader._fast._skimmer.counted == 31
    assert len(numbers) == reader._fast._skimmer.number - 31
    assert numbers == sorted(numbers)


@pytest.mark.parametrize(
    "case, media",
    # 5 rounds of the 6 media datagrams, and (Ethernet) the padded RTP frame
    [("pcap-802.11", 30), ("pcap-radiotap", 30), ("netmon-wifi", 30), ("pcap-pppoe", 31), ("pcap-mpls", 31)],
)
def test_media_under_other_link_layers_is_counted_in_c(tmp_path, case, media):
    path = tmp_path / "t.cap"
    path.write_bytes(CASES[case]())
    reader = CaptureReader(path, media_sink=lambda *flow: None)
    list(reader)
    assert reader._fast._skimmer.counted == media


def test_given_up_tcp_flows_are_skipped_in_c(tmp_path, monkeypatch):
    frames = [
        bytes(ethernet(IP(src="192.0.2.9", dst="192.0.2.1") / TCP(sport=443, dport=5, seq=1 + 100 * i) / bytes(100)))
        for i in range(300)
    ]
    path = tmp_path / "t.pcap"
    path.write_bytes(pcap_bytes(frames, 1))
    # the skimmer learns a flow was given up on at the next window; make windows small
    monkeypatch.setattr(fast_reader, "WINDOW", 4096)
    source = PacketSource([path])
    assert list(source) == []
    assert 0 < source.frames_read < 100  # the rest never reached Python


def test_damaged_netmon_reads_alike_on_both_paths(tmp_path, monkeypatch):
    good = netmon_bytes(frames_for("ethernet")[0], 3)
    first = netmon_bytes(frames_for("ethernet")[0], 3, table_first=True)  # the last frame ends the file
    last = struct.unpack_from("<I", first, 128 + 4 * (len(frames_for("ethernet")[0]) - 1))[0]
    cuts = {
        "table-cut": good[:-6],  # the frame table loses its last entries
        "frame-cut": first[: last + 30],  # the last frame's bytes are missing
        "header-cut": first[: last + 7],  # and here its header too
    }
    for name, data in cuts.items():
        (tmp_path / f"{name}.cap").write_bytes(data)
    results = {name: run(tmp_path / f"{name}.cap") for name in cuts}
    for name, result in results.items():
        assert len(result[2]) == 1, (name, result[2])
    plain(monkeypatch)
    for name in cuts:
        assert run(tmp_path / f"{name}.cap") == results[name], name


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_damage_on_the_fast_path_matches_the_plain_path(tmp_path, monkeypatch, fmt):
    good = pcap_bytes(*frames_for("ethernet")) if fmt == "pcap" else pcapng_bytes()
    last = frames_for("ethernet")[0][-1] if fmt == "pcap" else frames_for("sll")[0][-1]
    last_size = 16 + len(last) if fmt == "pcap" else len(epb(">", 0, 0, last))
    cuts = {"cut": good[:-7], "header-cut": good[: len(good) - last_size + 5]}
    corrupt = bytearray(good)
    if fmt == "pcap":
        corrupt[24 + 8 : 24 + 12] = (0x7FFFFFFF).to_bytes(4, "little")
    else:
        first = frames_for("ethernet")[0][0]
        second = len(shb("<")) + len(idb("<", 1)) + len(idb("<", 101, 9)) + len(epb("<", 0, 0, first))
        corrupt[second + 4 : second + 8] = (7).to_bytes(4, "little")
    cuts["corrupt"] = bytes(corrupt)
    if fmt == "pcapng":
        # a plausible length that the block's trailer contradicts
        wrong = bytearray(good)
        wrong[second + 4 : second + 8] = (struct.unpack_from("<I", good, second + 4)[0] + 4).to_bytes(4, "little")
        cuts["trailer"] = bytes(wrong)
    results = {}
    (tmp_path / f"good.{fmt}").write_bytes(good)
    for name, data in cuts.items():
        path = tmp_path / f"{name}.{fmt}"
        path.write_bytes(data)
        results[name] = run(path)
        assert len(results[name][2]) == 1, name  # one warning
    if fmt == "pcapng":  # pcapng resynchronises: the frames after the damaged block are read
        assert len(results["corrupt"][0]) == len(results["trailer"][0]) == len(run(tmp_path / "good.pcapng")[0]) - 1
    plain(monkeypatch)
    for name in cuts:
        assert run(tmp_path / f"{name}.{fmt}") == results[name], name


def record_offsets(data: bytes, fmt: str) -> list[int]:
    """Where each pcap record or pcapng block starts (past the magic)."""
    if fmt == "cap":  # the frame table's entries, and the frames they point to
        table_at, table_length = struct.unpack_from("<II", data, 24)
        frames = list(struct.unpack_from(f"<{table_length // 4}I", data, table_at))
        return frames + list(range(table_at, table_at + table_length, 4)) + [24]
    offsets, pos, endian = [], 24 if fmt == "pcap" else 0, "<"
    while pos + 16 <= len(data):
        offsets.append(pos)
        if fmt == "pcap":
            pos += 16 + struct.unpack_from("<I", data, pos + 8)[0]
            continue
        if data[pos : pos + 4] == b"\x0a\x0d\x0d\x0a":
            endian = "<" if data[pos + 8 : pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        pos += struct.unpack_from(endian + "I", data, pos + 4)[0]
    return [o for o in offsets if o >= 4]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_files_read_alike_on_both_paths(tmp_path, monkeypatch, data):
    """Random damage (bytes overwritten, the file cut) to a pcap or pcapng: the skimmer and the
    plain reader agree on every packet, every media count and every warning, and neither raises."""
    fmt = data.draw(st.sampled_from(["pcap", "pcapng", "cap"]))
    if fmt == "cap":
        good = bytearray(netmon_bytes(frames_for("vlan")[0], data.draw(st.integers(0, 3))))
    elif fmt == "pcap":
        good = bytearray(pcap_bytes(*frames_for(data.draw(st.sampled_from(sorted(LINKS))))))
    else:
        good = bytearray(pcapng_bytes())
    heads = record_offsets(bytes(good), fmt)
    for _ in range(data.draw(st.integers(1, 4))):
        if data.draw(st.booleans()):  # somewhere in a record header or block header
            at = data.draw(st.sampled_from(heads)) + data.draw(st.sampled_from([0, 4, 8, 12, 20]))
        else:  # anywhere but the magic: a file that still says what it is
            at = data.draw(st.integers(4, len(good) - 4))
        good[at : at + 4] = data.draw(st.binary(min_size=4, max_size=4))
    cut = data.draw(st.integers(len(good) // 2, len(good)))
    path = tmp_path / f"damaged.{fmt}"
    path.write_bytes(bytes(good[:cut]))
    fast = run(path)
    with monkeypatch.context() as m:
        m.setattr(packet_source, "CaptureReader", lambda p, **_: CaptureReader(p))
        assert run(path) == fast


REAL = (
    testdata.cases(testdata.CAPTURES, suffixes=testdata.CAPTURE_SUFFIXES, exclude=[testdata.PUBLIC])
    + testdata.cases(testdata.PUBLIC, suffixes=testdata.CAPTURE_SUFFIXES)
    + testdata.cases(testdata.NETMON2_DERIVED, suffixes=testdata.CAPTURE_SUFFIXES)
    + testdata.cases(testdata.NETMON_FORMAT_ONLY, suffixes=testdata.CAPTURE_SUFFIXES)
)


@pytest.mark.parametrize("path", REAL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_skimmer_equals_the_python_path_on_real_captures(monkeypatch, path):
    fast = run(path)
    plain(monkeypatch)
    assert run(path) == fast
