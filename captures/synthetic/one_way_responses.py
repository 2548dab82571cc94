"""A one-way capture: a TURN server's 19 responses, none of the client's requests.

Pattern seen in a real capture taken on one direction of a link (a SPAN port mirroring only
egress of the server's interface): the capture holds the server's answers to a client's
Binding, Allocate, Refresh and CreatePermission requests, and not one packet the other way. The
responses prove the requests were sent (RFC 8489 §6.3: a response echoes its request's
transaction id), so the story is "the direction client -> server is missing", not silence.

Invented: addresses (documentation ranges), credentials, timing. Usage:
python captures/synthetic/one_way_responses.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, Capture, tid  # noqa: E402

from dissectors.checks import long_term_key  # noqa: E402
from dissectors.codec import encode_stun  # noqa: E402

NAME = "one_way_responses"
CLIENT = ("203.0.113.40", 5000)
SERVER = ("198.51.100.30", 3478)
RELAYED = ("198.51.100.30", 60500)
PEER = ("203.0.113.41", 7000)
USER, REALM, PASSWORD, NONCE = "one-way", "relay.example", "pw", "0a0b0c0d"
RESPONSES = 19


def build() -> tuple[Capture, dict]:
    cap = Capture()
    key = long_term_key(USER, REALM, PASSWORD)
    t = 0.0
    cap.udp(t, SERVER, CLIENT, encode_stun(0x0101, tid("ow-bind"), [("XOR-MAPPED-ADDRESS", CLIENT)]))
    cap.udp(
        t + 0.1,
        SERVER,
        CLIENT,
        encode_stun(
            0x0113, tid("ow-alloc-0"), [("ERROR-CODE", (401, "Unauthorized")), ("REALM", REALM), ("NONCE", NONCE)]
        ),
    )
    cap.udp(
        t + 0.2,
        SERVER,
        CLIENT,
        encode_stun(
            0x0103,
            tid("ow-alloc-1"),
            [("XOR-RELAYED-ADDRESS", RELAYED), ("XOR-MAPPED-ADDRESS", CLIENT), ("LIFETIME", 600)],
            integrity_key=key,
        ),
    )
    cap.udp(t + 0.3, SERVER, CLIENT, encode_stun(0x0108, tid("ow-perm"), [], integrity_key=key))
    # keepalive Bindings every 2 s, then Refreshes: 19 responses in all
    sent = 4
    n = 0
    while sent < RESPONSES - 2:
        cap.udp(
            2.0 + 2.0 * n, SERVER, CLIENT, encode_stun(0x0101, tid(f"ow-keep-{n}"), [("XOR-MAPPED-ADDRESS", CLIENT)])
        )
        sent += 1
        n += 1
    for m in range(2):
        cap.udp(
            40.0 + m * 20,
            SERVER,
            CLIENT,
            encode_stun(0x0104, tid(f"ow-refresh-{m}"), [("LIFETIME", 600)], integrity_key=key),
        )
        sent += 1
    truth = {
        "scenario": NAME,
        "description": (
            f"Only the server's {RESPONSES} responses (Binding success x14, Allocate 401 and success, "
            "CreatePermission success, Refresh success x2) to a client whose requests are not in the capture: "
            f"the direction {CLIENT[0]}:{CLIENT[1]} -> {SERVER[0]}:{SERVER[1]} is missing."
        ),
        "expected_outcome": "connected",
        "vantage_points": {"capture.pcap": "one direction of the server's link (egress only)"},
        "agents": {},
        "expected_verdicts": ["ORPHAN-RESPONSES"],
        "forbidden_verdicts": ["D1", "D8"],
        "missing_directions": [f"{CLIENT[0]}:{CLIENT[1]} -> {SERVER[0]}:{SERVER[1]}"],
        "responses": RESPONSES,
    }
    return cap, truth


def write(folder: Path = HERE / NAME) -> Path:
    cap, truth = build()
    return cap.write(folder, truth)


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / NAME))
