"""A plain STUN Binding with long-term credentials (USERNAME, REALM) to a server: no ICE at all.

Pattern seen in a real capture: a client asks a STUN server on port 3478 for its mapping with a
Binding request carrying USERNAME ("name:device", a colon like an ICE USERNAME) and REALM; the
server challenges with 401 and a NONCE (RFC 8489 §9.2.4), the client retries with the NONCE and
gets its XOR-MAPPED-ADDRESS. ICE checks use short-term credentials and never carry REALM or NONCE
(RFC 8445 §7.2.2), so this is a server exchange, not an ICE session.

Invented: addresses (documentation ranges), credentials, timing. Capture on the client's LAN.
Usage: python captures/synthetic/long_term_binding.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, Capture, tid  # noqa: E402

from dissectors.checks import long_term_key  # noqa: E402
from dissectors.codec import encode_stun  # noqa: E402

NAME = "long_term_binding"
CLIENT = ("192.168.20.7", 40400)
MAPPED = ("203.0.113.77", 61400)
SERVER = ("198.51.100.80", 3478)
USER, REALM, PASSWORD, NONCE = "carol:laptop", "stun.example", "s3cret", "a1b2c3d4e5f6"


def build() -> tuple[Capture, dict]:
    cap = Capture()
    key = long_term_key(USER, REALM, PASSWORD)
    first = [("USERNAME", USER.encode()), ("REALM", REALM)]
    cap.udp(0.0, CLIENT, SERVER, encode_stun(0x0001, tid("lt-1"), first, integrity_key=key, fingerprint=True))
    challenge = [("ERROR-CODE", (401, "Unauthorized")), ("REALM", REALM), ("NONCE", NONCE)]
    cap.udp(0.025, SERVER, CLIENT, encode_stun(0x0111, tid("lt-1"), challenge, fingerprint=True))
    second = [("USERNAME", USER.encode()), ("REALM", REALM), ("NONCE", NONCE)]
    cap.udp(0.030, CLIENT, SERVER, encode_stun(0x0001, tid("lt-2"), second, integrity_key=key, fingerprint=True))
    cap.udp(
        0.055,
        SERVER,
        CLIENT,
        encode_stun(0x0101, tid("lt-2"), [("XOR-MAPPED-ADDRESS", MAPPED)], integrity_key=key, fingerprint=True),
    )
    truth = {
        "scenario": NAME,
        "description": (
            "A Binding request with USERNAME 'carol:laptop' and REALM to a STUN server, challenged with 401 "
            "and a NONCE, retried with it, answered with the client's mapping 203.0.113.77:61400. "
            "A server exchange with long-term credentials: no ICE session, no verdict against it."
        ),
        "expected_outcome": "connected",
        "vantage_points": {"capture.pcap": "the client's LAN"},
        "agents": {},
        "expected_verdicts": [],
        "forbidden_verdicts": ["D1", "D2", "D4", "D8", "D11", "D13", "FAILED"],
        "mapping": {"base": f"{CLIENT[0]}:{CLIENT[1]}", "mapped": f"{MAPPED[0]}:{MAPPED[1]}"},
    }
    return cap, truth


def write(folder: Path = HERE / NAME) -> Path:
    cap, truth = build()
    return cap.write(folder, truth)


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / NAME))
