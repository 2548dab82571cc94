"""A service's three STUN servers, one transaction id, answers of a non-standard message type.

Pattern seen in a real capture of a streaming service: its client asks three STUN servers with
Binding requests that all carry one transaction id, three times each; every request is answered
by its server with that id but with message type 0x0002 (RFC 3489's Shared Secret Request value;
here a vendor answer), the mapped address in a comprehension-optional vendor attribute. The
vendor attribute code 0x8041 and its XOR-MAPPED-ADDRESS layout are invented for the scenario.
Addresses are documentation ranges; the capture is on the client's LAN.

Usage: python captures/synthetic/nonstandard_stun_answers.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, Capture, tid  # noqa: E402

from dissectors.codec import Attr, encode_stun  # noqa: E402

NAME = "nonstandard_stun_answers"
CLIENT = ("192.168.7.20", 51000)
PUBLIC = ("203.0.113.70", 41000)  # the client's NAT mapping, as the vendor attribute says
SERVERS = [("198.51.100.31", 3478), ("198.51.100.32", 3478), ("198.51.100.33", 3478)]
VENDOR_MAPPED = 0x8041  # invented vendor attribute: XOR-MAPPED-ADDRESS layout
TRANSACTION = tid("nonstandard-binding")
REQUESTS_PER_SERVER = 3


def _xor_address(address: tuple[str, int]) -> bytes:
    ip = bytes(int(x) for x in address[0].split("."))
    port = address[1] ^ 0x2112
    return bytes([0, 1]) + port.to_bytes(2, "big") + bytes(a ^ b for a, b in zip(ip, b"\x21\x12\xa4\x42"))


def build() -> tuple[Capture, dict]:
    cap = Capture()
    request = encode_stun(0x0001, TRANSACTION, [("SOFTWARE", "streamer 4.2")])
    answer = encode_stun(0x0002, TRANSACTION, [Attr(VENDOR_MAPPED, raw=_xor_address(PUBLIC))])
    for round_ in range(REQUESTS_PER_SERVER):
        for index, server in enumerate(SERVERS):
            t = round_ * 1.0 + index * 0.002
            cap.udp(t, CLIENT, server, request)
            cap.udp(t + 0.030 + index * 0.004, server, CLIENT, answer)
    truth = {
        "scenario": NAME,
        "description": (
            "One client socket asks three STUN servers with Binding requests sharing one transaction id, "
            "three times each; each server answers every request with that id and message type 0x0002 "
            "(the mapped address in vendor attribute 0x8041). Every request was answered; no ICE session."
        ),
        "expected_outcome": "connected",
        "vantage_points": {"capture.pcap": "the client's LAN"},
        "agents": {},
        "expected_verdicts": ["NONSTANDARD-ANSWER"],
        "forbidden_verdicts": ["D1", "D2"],
        "servers": [f"{ip}:{port}" for ip, port in SERVERS],
    }
    return cap, truth


def write(folder: Path = HERE / NAME) -> Path:
    cap, truth = build()
    return cap.write(folder, truth)


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / NAME))
