"""Write a capture whose cost once grew faster than its size: many short HTTP connections, or
records too short to hold IP.

Usage: python benchmarks/make_hostile.py OUT.pcap --kind closed-http|zero-length --count N

closed-http: N HTTP connections, each a SYN, SYN-ACK, a GET, its 200 response, both FINs and the
last ACK (7 frames, 561 bytes per connection), from N client addresses to one server: what a busy
web signaling server's capture holds. Analysing it should cost memory for the open connections
only. zero-length: N pcap records of no bytes (16 bytes each); reading them should cost no more
per record than reading RTP.
"""

from __future__ import annotations

import argparse
import struct
from pathlib import Path

SERVER = bytes([203, 0, 113, 80])
REQUEST = b"GET /poll HTTP/1.1\r\nHost: x\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)


def tcp(src: bytes, sport: int, dst: bytes, dport: int, seq: int, flags: int, payload: bytes = b"") -> bytes:
    """One Ethernet/IPv4/TCP frame (checksums are not read)."""
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, 1, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 0, 0, 64, 6, 0, src, dst)
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + header + payload


def connection(i: int) -> list[bytes]:
    client, port = bytes([10, i >> 16 & 255, i >> 8 & 255, i & 255]), 1024 + i % 60000
    return [
        tcp(client, port, SERVER, 80, 100, 0x02),
        tcp(SERVER, 80, client, port, 500, 0x12),
        tcp(client, port, SERVER, 80, 101, 0x18, REQUEST),
        tcp(SERVER, 80, client, port, 501, 0x18, RESPONSE),
        tcp(client, port, SERVER, 80, 101 + len(REQUEST), 0x11),
        tcp(SERVER, 80, client, port, 501 + len(RESPONSE), 0x11),
        tcp(client, port, SERVER, 80, 102 + len(REQUEST), 0x10),
    ]


def write(out: Path, kind: str, count: int) -> None:
    with open(out, "wb") as fh:
        fh.write(HEADER)
        for i in range(count):
            frames = connection(i) if kind == "closed-http" else [b""]
            fh.write(
                b"".join(struct.pack("<IIII", 1700000000 + i // 1000, i % 1000, len(f), len(f)) + f for f in frames)
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--kind", choices=("closed-http", "zero-length"), required=True)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args()
    write(args.out, args.kind, args.count)


if __name__ == "__main__":
    main()
