"""Write a large synthetic VoIP capture: mostly RTP, some STUN/TURN, ChannelData, SIP, TCP.

Usage: python benchmarks/make_capture.py OUT.pcap --size-mb 1000
Packets are assembled from templates with struct (no Scapy per packet) so a
gigabyte takes seconds. The mix imitates a busy media network: ~97% RTP.
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dissectors.codec import encode_channel_data, encode_stun  # noqa: E402


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ipv4(src: str, dst: str, proto: int, payload: bytes) -> bytes:
    import socket

    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(payload),
        0,
        0x4000,
        64,
        proto,
        0,
        socket.inet_aton(src),
        socket.inet_aton(dst),
    )
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def ether(ip: bytes) -> bytes:
    return b"\x00\x11\x22\x33\x44\x55\x00\x66\x77\x88\x99\xaa\x08\x00" + ip


def udp(src: str, sport: int, dst: str, dport: int, payload: bytes) -> bytes:
    return ether(ipv4(src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload))


def tcp(src: str, sport: int, dst: str, dport: int, seq: int, payload: bytes) -> bytes:
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x18, 65535, 0, 0)
    return ether(ipv4(src, dst, 6, header + payload))


SDP = (
    "v=0\r\no=- 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\n"
    "m=audio 50000 RTP/AVP 0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
    "a=candidate:1 1 UDP 2130706431 192.168.1.10 50000 typ host\r\n"
    "a=candidate:2 1 UDP 1694498815 203.0.113.10 50000 typ srflx raddr 192.168.1.10 rport 50000\r\n"
)


def sip_invite(n: int) -> bytes:
    body = SDP.encode()
    head = (
        f"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK{n}\r\n"
        f"From: <sip:alice@example.com>;tag={n}\r\nTo: <sip:bob@example.com>\r\nCall-ID: call-{n}\r\n"
        f"CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--size-mb", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    limit = int(args.size_mb * 1e6)
    rtp_payload = bytes(rng.getrandbits(8) for _ in range(560))
    flows = [
        (f"10.0.{i // 250}.{i % 250 + 1}", 20000 + 2 * i, f"172.16.{i // 250}.{i % 250 + 1}", 30000 + 2 * i)
        for i in range(200)
    ]
    stun_count = rtp_count = other = 0
    t = 1_700_000_000.0
    seq = 1000
    with open(args.out, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        written = 24
        n = 0
        while written < limit:
            n += 1
            t += 0.0002
            r = n % 100
            if r < 97:
                src, sport, dst, dport = flows[n % len(flows)]
                rtp = struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, n * 160 & 0xFFFFFFFF, n % len(flows))
                frame = udp(src, sport, dst, dport, rtp + rtp_payload)
                rtp_count += 1
            elif r == 97:
                tid = rng.getrandbits(96).to_bytes(12, "big")
                msg = encode_stun(
                    0x0001,
                    tid,
                    [("USERNAME", b"abcd:efgh"), ("PRIORITY", 1845494271), ("ICE-CONTROLLING", 42)],
                    integrity_key=b"k" * 22,
                    fingerprint=True,
                )
                frame = udp("192.168.1.10", 50000, "203.0.113.20", 40000 + n % 50, msg)
                stun_count += 1
            elif r == 98:
                if n % 7 == 0:
                    frame = udp("192.168.1.10", 5060, "198.51.100.5", 5060, sip_invite(n))
                    other += 1
                elif n % 3 == 0:
                    inner = encode_stun(
                        0x0101,
                        rng.getrandbits(96).to_bytes(12, "big"),
                        [("XOR-MAPPED-ADDRESS", ("203.0.113.10", 50000))],
                        fingerprint=True,
                    )
                    frame = udp("198.51.100.9", 3478, "192.168.1.10", 50001, encode_channel_data(0x4000, inner))
                    stun_count += 1
                else:
                    msg = encode_stun(
                        0x0003,
                        rng.getrandbits(96).to_bytes(12, "big"),
                        [("REQUESTED-TRANSPORT", 17), ("LIFETIME", 600)],
                        fingerprint=True,
                    )
                    frame = udp("192.168.1.10", 50001, "198.51.100.9", 3478, msg)
                    stun_count += 1
            else:
                payload = bytes(600)
                frame = tcp("192.168.1.20", 443, "192.168.1.10", 50123, seq, payload)
                seq += len(payload)
                other += 1
            sec = int(t)
            fh.write(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(frame), len(frame)))
            fh.write(frame)
            written += 16 + len(frame)
    print(f"{args.out}: {n} packets, {written / 1e6:.0f} MB, {rtp_count} RTP, {stun_count} STUN/TURN, {other} other")


if __name__ == "__main__":
    main()
