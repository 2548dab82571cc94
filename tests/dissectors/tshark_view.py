"""Helpers for cross-checking against tshark: its per-frame view of STUN, and our payloads."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.utils import PcapReader

from tests import testdata

FIELDS = (
    "frame.number",
    "stun.type",
    "stun.id",
    "stun.att.type",
    "stun.att.ipv4",
    "stun.att.port",
    "stun.att.error.class",
    "stun.att.error",
    "classicstun.type",
    "classicstun.id",
    "classicstun.att.type",
    "classicstun.att.ipv4",
    "classicstun.att.port",
)


@dataclass
class TsharkStun:
    frame: int
    types: list[int]
    ids: list[str]
    attribute_types: list[int]
    ipv4: list[str]
    ports: list[int]
    error_codes: list[int]
    classic: bool


def have_tshark() -> bool:
    return shutil.which("tshark") is not None


def public_captures() -> list:
    """The public captures, and the project's own recordings (pcap copies), as parametrisation cases;
    not the captures cut from those recordings (captures/derived): their frames are the recordings'."""
    public = testdata.cases(testdata.PUBLIC, suffixes=(".pcap", ".pcapng"))
    return public + testdata.cases(
        testdata.CAPTURES, "*/*/*.pcap", exclude=[testdata.PUBLIC, testdata.CAPTURES / "derived"]
    )


def tshark_stun(path: Path) -> dict[int, TsharkStun]:
    # Auto: tshark then detects MS-TURN (no padding) instead of misreading it as 5389
    cmd = ["tshark", "-n", "-o", "stun.stunversion:Auto", "-r", str(path)]
    cmd += ["-Y", "stun || classicstun", "-T", "fields"]
    cmd += ["-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120).stdout
    result: dict[int, TsharkStun] = {}

    def ints(text: str) -> list[int]:
        return [int(x, 0) for x in text.split(",") if x]

    for line in out.splitlines():
        c = line.split("|")
        classic = bool(c[8])
        result[int(c[0])] = TsharkStun(
            frame=int(c[0]),
            types=ints(c[8] if classic else c[1]),
            ids=[x for x in (c[9] if classic else c[2]).split(",") if x],
            attribute_types=ints(c[10] if classic else c[3]),
            ipv4=[x for x in (c[11] if classic else c[4]).split(",") if x],
            ports=ints(c[12] if classic else c[5]),
            error_codes=[a * 100 + b for a, b in zip(ints(c[6]), ints(c[7]))],
            classic=classic,
        )
    return result


def transport_payloads(path: Path) -> dict[int, tuple[str, bytes]]:
    """frame number -> (transport, payload) for every UDP/TCP packet with a payload."""
    out: dict[int, tuple[str, bytes]] = {}
    with PcapReader(str(path)) as reader:
        for number, pkt in enumerate(reader, start=1):
            ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
            if ip is None:
                continue
            if ip.haslayer(UDP) and not (IP in pkt and pkt[IP].frag):
                out[number] = ("udp", bytes(ip[UDP].payload))
            elif ip.haslayer(TCP) and len(ip[TCP].payload):
                out[number] = ("tcp", bytes(ip[TCP].payload))
    return out
