"""Calls seen through tunnels (GRE, ERSPAN II/III, VXLAN) and under PPPoE or MPLS: the inner
packets are the story, on the skimmer and the plain path alike, and tshark finds the same STUN frames."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from scapy.contrib.erspan import ERSPAN_II, ERSPAN_III
from scapy.contrib.mpls import MPLS
from scapy.layers.inet import GRE, IP, UDP
from scapy.layers.l2 import Ether
from scapy.layers.ppp import PPP, PPPoE
from scapy.layers.vxlan import VXLAN
from scapy.utils import wrpcap

from dissectors.codec import encode_stun
from icetrace.capture import packet_source
from icetrace.capture.packet_source import PacketSource
from icetrace.capture.reader import CaptureReader

BINDING = encode_stun(0x0001, bytes(range(12)), [("PRIORITY", 1845494271), ("USERNAME", b"a:b")], fingerprint=True)
RTP = b"\x80\x00\x00\x01" + bytes(8) + bytes(160)


def ether():
    """Addresses given: Scapy would otherwise resolve them, slowly, for every packet."""
    return Ether(src="00:11:22:33:44:55", dst="66:77:88:99:aa:bb")


def inner(payload: bytes, sport: int = 50000):
    return IP(src="10.1.1.1", dst="10.2.2.2") / UDP(sport=sport, dport=3478) / payload


def outer(proto_layer):
    return ether() / IP(src="192.0.2.100", dst="192.0.2.200") / proto_layer


TUNNELS = {
    "gre-ip": lambda p: outer(GRE(proto=0x0800) / p),
    "gre-key-seq": lambda p: outer(GRE(proto=0x0800, key_present=1, key=7, seqnum_present=1, sequence_number=3) / p),
    "gre-ethernet": lambda p: outer(GRE(proto=0x6558) / ether() / p),
    "erspan-ii": lambda p: outer(GRE(proto=0x88BE, seqnum_present=1) / ERSPAN_II(session_id=5) / ether() / p),
    "erspan-iii": lambda p: outer(GRE(proto=0x22EB, seqnum_present=1) / ERSPAN_III(session_id=5) / ether() / p),
    "vxlan": lambda p: outer(UDP(sport=40000, dport=4789) / VXLAN(vni=42) / ether() / p),
    "vxlan-in-gre": lambda p: outer(GRE(proto=0x0800) / IP() / UDP(sport=1, dport=4789) / VXLAN(vni=1) / ether() / p),
    "pppoe": lambda p: ether() / PPPoE(sessionid=3) / PPP(proto=0x0021) / p,
    "mpls": lambda p: ether() / MPLS(label=100, s=1) / p,
}


def write(tmp_path: Path, packets) -> Path:
    path = tmp_path / "t.pcap"
    for i, p in enumerate(packets):
        p.time = 1700000000 + i
    wrpcap(str(path), packets)
    return path


def run(path: Path):
    source = PacketSource([path])
    packets = list(source)
    return packets, source.summary().media_flows, [str(p) for p in source.problems]


@pytest.mark.parametrize("name", sorted(TUNNELS))
def test_tunnelled_calls(tmp_path, monkeypatch, name):
    wrap = TUNNELS[name]
    path = write(tmp_path, [wrap(inner(BINDING))] + [wrap(inner(RTP, 6000)) for _ in range(20)])
    fast = run(path)
    packets, flows, problems = fast
    assert [(str(p.src), str(p.dst), p.payload) for p in packets] == [("10.1.1.1:50000", "10.2.2.2:3478", BINDING)]
    assert [(str(f.src), f.kind, f.packets) for f in flows] == [("10.1.1.1:6000", "rtp", 20)]
    assert not problems
    monkeypatch.setattr(packet_source, "CaptureReader", lambda p, **_: CaptureReader(p))
    assert run(path) == fast  # the plain path opens the same tunnels
    if shutil.which("tshark"):
        out = subprocess.run(
            ["tshark", "-n", "-r", str(path), "-Y", "stun", "-T", "fields", "-e", "frame.number", "-e", "ip.src"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.split()
        assert out[0] == "1" and "10.1.1.1" in out[1]


def test_tunnels_nest_two_deep_at_most(tmp_path):
    three = outer(GRE(proto=0x0800) / IP() / GRE(proto=0x0800) / IP() / GRE(proto=0x0800) / inner(BINDING))
    two = outer(GRE(proto=0x0800) / IP() / GRE(proto=0x0800) / inner(BINDING))
    packets = list(PacketSource([write(tmp_path, [two, three])]))
    assert [p.frame for p in packets] == [1]
