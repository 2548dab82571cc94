"""Shared building blocks for the synthetic scenarios in this folder.

Each scenario module here rebuilds, byte for byte with icetrace's own dissectors, one pattern seen
in real captures that the project could not record from a real agent. A scenario writes
`<name>/capture.pcap` and `<name>/truth.json` (schema: captures/README.md) and is deterministic:
fixed transaction ids, fixed times, so a test can regenerate it and compare bytes. The packets
are built here; the agents' part of truth.json by truth_agents.py.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scapy.layers.inet import IP, TCP, UDP  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.utils import wrpcap  # noqa: E402

from dissectors.codec import encode_stun  # noqa: E402

HERE = Path(__file__).resolve().parent
T0 = 1767225600.0  # 2026-01-01T00:00:00Z; every scenario starts here
TIE_BREAKER = 0x1C2D3E4F5A6B7C8D

Address = tuple[str, int]


def tid(label: str, size: int = 12) -> bytes:
    """A stable transaction id per label, so regenerating gives identical bytes."""
    return hashlib.sha256(label.encode()).digest()[:size]


def _mac(ip: str) -> str:
    digest = hashlib.sha256(ip.encode()).digest()
    return "02:" + ":".join(f"{b:02x}" for b in digest[:5])  # locally administered, stable per address


@dataclass
class Capture:
    """Packets in time order, each stamped T0 + t; Ethernet addresses derived from the IPs."""

    packets: list = field(default_factory=list)
    tcp_seq: dict = field(default_factory=dict)

    def udp(self, t: float, src: Address, dst: Address, payload: bytes) -> None:
        p = (
            Ether(src=_mac(src[0]), dst=_mac(dst[0]))
            / IP(src=src[0], dst=dst[0], id=len(self.packets) & 0xFFFF)
            / UDP(sport=src[1], dport=dst[1])
            / payload
        )
        p.time = T0 + t
        self.packets.append(p)

    def tcp(self, t: float, src: Address, dst: Address, payload: bytes) -> None:
        key = (src, dst)
        seq = self.tcp_seq.get(key, 1000 + (src[1] * 7) % 50000)
        for i in range(0, len(payload), 1360):
            chunk = payload[i : i + 1360]
            p = (
                Ether(src=_mac(src[0]), dst=_mac(dst[0]))
                / IP(src=src[0], dst=dst[0], id=len(self.packets) & 0xFFFF)
                / TCP(sport=src[1], dport=dst[1], flags="PA", seq=seq, ack=1, window=64240)
                / chunk
            )
            p.time = T0 + t + i / 1e7
            self.packets.append(p)
            seq += len(chunk)
        self.tcp_seq[key] = seq

    def write(self, folder: Path, truth: dict, beside: dict[str, str] | None = None) -> Path:
        """capture.pcap and truth.json in `folder`, with `beside` (file name -> text: the agents' SDP)."""
        folder.mkdir(parents=True, exist_ok=True)
        self.write_pcap(folder / "capture.pcap")
        (folder / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
        for name, body in (beside or {}).items():
            (folder / name).write_text(body)
        return folder / "capture.pcap"

    def write_pcap(self, path: Path) -> None:
        """The packets sorted by time (a stable sort: packets stamped alike keep their order)."""
        wrpcap(str(path), sorted(self.packets, key=lambda p: float(p.time)))


def priority(type_preference: int, component: int = 1, local_preference: int = 65535) -> int:
    """RFC 8445 §5.1.2.1 (local preference 65535: an agent with one address of each type)."""
    return (type_preference << 24) + (local_preference << 8) + (256 - component)


HOST_PRIORITY = priority(126)
PRFLX_PRIORITY = priority(110)
SRFLX_PRIORITY = priority(100)
RELAY_PRIORITY = priority(0)


def ice_check(
    label: str,
    sender_ufrag: str,
    receiver_ufrag: str,
    receiver_pwd: str,
    priority: int,
    controlling: bool,
    use_candidate: bool = False,
) -> bytes:
    """An RFC 8445 connectivity check: USERNAME, PRIORITY, role, optional USE-CANDIDATE, MI, FINGERPRINT."""
    attrs: list = [
        ("USERNAME", f"{receiver_ufrag}:{sender_ufrag}".encode()),
        ("PRIORITY", priority),
        ("ICE-CONTROLLING" if controlling else "ICE-CONTROLLED", TIE_BREAKER if controlling else 7),
    ]
    if use_candidate:
        attrs.append(("USE-CANDIDATE", True))
    return encode_stun(0x0001, tid(label), attrs, integrity_key=receiver_pwd.encode(), fingerprint=True)


def ice_success(label: str, mapped: Address, pwd: str) -> bytes:
    """The success response to `ice_check(label, ...)`, signed with the answering agent's password."""
    return encode_stun(
        0x0101, tid(label), [("XOR-MAPPED-ADDRESS", mapped)], integrity_key=pwd.encode(), fingerprint=True
    )


def ice_error(label: str, code: int, reason: str, pwd: str | None = None) -> bytes:
    """An error response (401 and 400 go unsigned, RFC 8445 §7.3.1.1; others signed when pwd is given)."""
    key = pwd.encode() if pwd is not None else None
    return encode_stun(0x0111, tid(label), [("ERROR-CODE", (code, reason))], integrity_key=key, fingerprint=True)


def turn_send(label: str, peer: Address, inner: bytes) -> bytes:
    """A TURN Send indication (RFC 8656 §11.1) carrying `inner` to `peer`."""
    return encode_stun(0x0016, tid("send-" + label), [("XOR-PEER-ADDRESS", peer), ("DATA", inner)])


def turn_data(label: str, peer: Address, inner: bytes) -> bytes:
    """A TURN Data indication (RFC 8656 §11.4) bringing `inner` from `peer`."""
    return encode_stun(0x0017, tid("data-" + label), [("XOR-PEER-ADDRESS", peer), ("DATA", inner)])


def audio_sdp(session: int, ip: str, ufrag: str, pwd: str, candidates: list[str], port: int) -> bytes:
    """An SDP body with one audio stream (RTP on `port`, RTCP on the next), its ICE credentials and candidates."""
    lines = [
        "v=0",
        f"o=- {session} 1 IN IP4 {ip}",
        "s=-",
        f"c=IN IP4 {ip}",
        "t=0 0",
        f"m=audio {port} RTP/AVP 0",
        f"a=rtcp:{port + 1}",
        f"a=ice-ufrag:{ufrag}",
        f"a=ice-pwd:{pwd}",
        *candidates,
        "a=rtpmap:0 PCMU/8000",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def rtp_payload(seq: int, ssrc: int, payload_type: int = 0) -> bytes:
    return (
        bytes([0x80, payload_type & 0x7F])
        + (seq & 0xFFFF).to_bytes(2, "big")
        + ((seq * 160) & 0xFFFFFFFF).to_bytes(4, "big")
        + ssrc.to_bytes(4, "big")
        + bytes(160)
    )


def dtls_record(content_type: int = 23, epoch: int = 1, seq: int = 0, size: int = 64) -> bytes:
    """A DTLS 1.2 record header (RFC 6347) with an opaque body: first byte 20-63 (RFC 7983)."""
    return (
        bytes([content_type, 0xFE, 0xFD])
        + epoch.to_bytes(2, "big")
        + seq.to_bytes(6, "big")
        + size.to_bytes(2, "big")
        + bytes(size)
    )
