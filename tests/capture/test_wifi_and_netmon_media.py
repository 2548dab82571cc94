"""802.11 link layers (plain, radiotap, Network Monitor's radio header) and Network Monitor
media types, each checked against what tshark finds in the same file."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from scapy.layers.dot11 import Dot11, Dot11QoS, RadioTap
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import LLC, SNAP, Ether
from scapy.utils import wrpcap

from dissectors.codec import encode_stun
from icetrace.capture.packet_source import PacketSource
from icetrace.reading import capture_records

BINDING = encode_stun(0x0001, bytes(range(12)), [("PRIORITY", 1845494271), ("USERNAME", b"a:b")], fingerprint=True)
DATAGRAM = IP(src="192.0.2.1", dst="198.51.100.2") / UDP(sport=50000, dport=3478) / BINDING


def wifi(qos: bool, flags: str = "to_DS") -> bytes:
    header = Dot11(type=2, subtype=8 if qos else 0, FCfield=flags, addr1="00:11:22:33:44:55", addr2="66:77:88:99:aa:bb")
    body = LLC(dsap=0xAA, ssap=0xAA, ctrl=3) / SNAP(code=0x0800) / DATAGRAM
    return bytes(header / Dot11QoS() / body) if qos else bytes(header / body)


def netmon(frames: list[tuple[int, bytes]]) -> bytes:
    """A Network Monitor 2.1 file: each frame with its media type in the 2-byte trailer."""
    body, table = b"", []
    for media, data in frames:
        table.append(128 + len(body))
        body += struct.pack("<QII", 1000 * len(table), len(data), len(data)) + data + struct.pack("<H", media)
    header = b"GMBU" + bytes([1, 2]) + struct.pack("<H", 1) + struct.pack("<8H", 2026, 11, 0, 22, 12, 0, 0, 0)
    header += struct.pack("<II", 128 + len(body), 4 * len(table))
    return header.ljust(128, b"\0") + body + struct.pack(f"<{len(table)}I", *table)


def tshark_stun_frames(path: Path) -> list[int]:
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", "stun", "-T", "fields", "-e", "frame.number"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return [int(line) for line in out.split()]


def pcap_with(frames: list[bytes], linktype: int, path: Path) -> Path:
    from scapy.packet import Raw

    packets = [Raw(f) for f in frames]
    for i, p in enumerate(packets):
        p.time = 1700000000 + i
    wrpcap(str(path), packets, linktype=linktype)
    return path


# link type, frames, the frames that carry a readable check (a protected frame is encrypted)
CASES = {
    "802.11": (
        105,
        lambda: [wifi(False), wifi(True), wifi(True, "to_DS+from_DS"), wifi(True, "to_DS+protected")],
        [1, 2, 3],
    ),
    "radiotap": (127, lambda: [bytes(RadioTap()) + wifi(True), bytes(RadioTap()) + wifi(False, "from_DS")], [1, 2]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_wifi_link_types(tmp_path, name):
    linktype, make, expected = CASES[name]
    frames = make()
    path = pcap_with(frames, linktype, tmp_path / "wifi.pcap")
    found = [r.frame for r in capture_records(path)]
    assert found == expected
    if shutil.which("tshark"):
        assert tshark_stun_frames(path) == expected


def test_netmon_media_types(tmp_path):
    netmon_radio = struct.pack("<BHII", 2, 32, 1, 0).ljust(32, b"\0")  # version 2, header length 32
    frames = [
        (1, bytes(Ether() / DATAGRAM)),  # Ethernet
        (0, bytes(Ether() / DATAGRAM)),  # 0: Ethernet in NetMon 3.4 VPN captures
        (6, netmon_radio + wifi(True)),  # 802.11 with Network Monitor's radio header
        (9, bytes(DATAGRAM)),  # raw IP
        (0xE000 + 101, bytes(DATAGRAM)),  # a pcap link type (raw IP) wrapped by Network Monitor
        (0xE000 + 127, bytes(RadioTap()) + wifi(False)),  # radiotap
        (0xFFFD, b"network information, not a packet"),
    ]
    path = tmp_path / "media.cap"
    path.write_bytes(netmon(frames))
    source = PacketSource([path])
    assert [p.frame for p in source] == [1, 2, 3, 4, 5, 6]
    assert source.frames_read == 7 and not source.problems
    if shutil.which("tshark"):
        assert tshark_stun_frames(path) == [1, 2, 3, 4, 5, 6]
