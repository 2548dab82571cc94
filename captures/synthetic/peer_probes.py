"""A messenger call through a TURN relay, with Binding probes sent straight to the other caller.

Pattern seen in a real messenger capture: the call's media runs through a TURN relay (permission
and channel for the other caller's public address, ChannelData both ways), while the client
sends Binding requests carrying only MESSAGE-INTEGRITY (no USERNAME, no ICE attributes) straight
to the other caller's address, in two series: the first retransmitted and never answered, the
second later to another port of the peer, one probe a second. Those are peer probes, not
requests to a STUN/TURN server. The client also tries a second TURN server that only answers 401
and is not retried, and retransmits its Allocate once so the first server answers it twice.

Invented: every address (documentation ranges), port, credential, timing and the probe key.
Capture on the caller's LAN. Usage: python captures/synthetic/peer_probes.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, Capture, rtp_payload, tid  # noqa: E402

from dissectors.checks import long_term_key  # noqa: E402
from dissectors.codec import encode_channel_data, encode_stun  # noqa: E402

NAME = "peer_probes"
CLIENT = ("192.168.10.5", 45000)
MAPPED = ("203.0.113.50", 45000)
TURN = ("198.51.100.60", 3478)
TURN2 = ("198.51.100.61", 3478)
RELAYED = ("198.51.100.60", 50100)
PEER = ("203.0.113.99", 52000)  # the other caller's public address
PEER_OTHER_PORT = ("203.0.113.99", 52002)
CHANNEL = 0x4001
USER, REALM, PASSWORD, NONCE = "messenger-user", "relay.example", "relay-secret", "6e6f6e6365"
PROBE_KEY = b"probe-key-0123456789"


def _turn(cap: Capture, t: float, label: str, method: int, attrs: list, *, answer: list, server=TURN) -> None:
    key = long_term_key(USER, REALM, PASSWORD)
    signed = [("USERNAME", USER.encode()), ("REALM", REALM), ("NONCE", NONCE)]
    cap.udp(t, CLIENT, server, encode_stun(method, tid(label), attrs + signed, integrity_key=key, fingerprint=True))
    cap.udp(t + 0.020, server, CLIENT, encode_stun(method | 0x0100, tid(label), answer, integrity_key=key))


def build() -> tuple[Capture, dict]:
    cap = Capture()
    # second TURN server: challenged, never retried
    cap.udp(0.0, CLIENT, TURN2, encode_stun(0x0003, tid("alloc2-0"), [("REQUESTED-TRANSPORT", 17)]))
    cap.udp(
        0.021,
        TURN2,
        CLIENT,
        encode_stun(
            0x0113, tid("alloc2-0"), [("ERROR-CODE", (401, "Unauthorized")), ("REALM", REALM), ("NONCE", NONCE)]
        ),
    )
    # first TURN server: challenge, then an authenticated Allocate retransmitted and answered twice
    cap.udp(0.0, CLIENT, TURN, encode_stun(0x0003, tid("alloc-0"), [("REQUESTED-TRANSPORT", 17)]))
    cap.udp(
        0.020,
        TURN,
        CLIENT,
        encode_stun(
            0x0113, tid("alloc-0"), [("ERROR-CODE", (401, "Unauthorized")), ("REALM", REALM), ("NONCE", NONCE)]
        ),
    )
    key = long_term_key(USER, REALM, PASSWORD)
    signed = [("USERNAME", USER.encode()), ("REALM", REALM), ("NONCE", NONCE)]
    allocate = encode_stun(0x0003, tid("alloc-1"), [("REQUESTED-TRANSPORT", 17), *signed], integrity_key=key)
    success = encode_stun(
        0x0103,
        tid("alloc-1"),
        [("XOR-RELAYED-ADDRESS", RELAYED), ("XOR-MAPPED-ADDRESS", MAPPED), ("LIFETIME", 600)],
        integrity_key=key,
    )
    cap.udp(0.05, CLIENT, TURN, allocate)
    cap.udp(0.55, CLIENT, TURN, allocate)  # the first success was slow to arrive
    cap.udp(0.56, TURN, CLIENT, success)
    cap.udp(0.58, TURN, CLIENT, success)
    _turn(cap, 0.7, "perm", 0x0008, [("XOR-PEER-ADDRESS", PEER)], answer=[])
    _turn(cap, 0.8, "bind", 0x0009, [("CHANNEL-NUMBER", CHANNEL), ("XOR-PEER-ADDRESS", PEER)], answer=[])
    # media through the relay: ChannelData both ways, 20 ms apart, from 1 s to 14 s
    seq = 0
    t = 1.0
    while t < 14.0:
        cap.udp(t, CLIENT, TURN, encode_channel_data(CHANNEL, rtp_payload(seq, 0x1111AAAA)))
        cap.udp(t + 0.007, TURN, CLIENT, encode_channel_data(CHANNEL, rtp_payload(seq, 0x2222BBBB)))
        seq += 1
        t = round(t + 0.2, 3)
    # first series of peer probes: one request, retransmitted on the RFC 8489 schedule, no answer
    probe = encode_stun(0x0001, tid("probe-1"), [], integrity_key=PROBE_KEY)
    for offset in (0.0, 0.5, 1.5, 3.5):
        cap.udp(2.0 + offset, CLIENT, PEER, probe)
    # second series, later, to another port of the peer: one new probe a second, no answer
    for n in range(3):
        cap.udp(
            11.0 + n, CLIENT, PEER_OTHER_PORT, encode_stun(0x0001, tid(f"probe-2-{n}"), [], integrity_key=PROBE_KEY)
        )
    truth = {
        "scenario": NAME,
        "description": (
            "A messenger call relayed through TURN 198.51.100.60 (channel 0x4001 to the other caller "
            "203.0.113.99, RTP in ChannelData both ways). Meanwhile the client probes the other caller "
            "directly with MESSAGE-INTEGRITY-only Binding requests in two series (2.0-5.5 s to port 52000, "
            "retransmitted; 11-13 s to port 52002), none answered. A second TURN server 198.51.100.61 "
            "only challenges with 401 and is not retried; the first answers a retransmitted Allocate twice."
        ),
        "expected_outcome": "connected",
        "vantage_points": {"capture.pcap": "the caller's LAN"},
        "agents": {},
        "expected_verdicts": ["PEER-PROBES"],
        "forbidden_verdicts": ["D1"],
        "allocations": {
            f"{CLIENT[0]}:{CLIENT[1]} -> {TURN[0]}:{TURN[1]}": f"{RELAYED[0]}:{RELAYED[1]}",
            f"{CLIENT[0]}:{CLIENT[1]} -> {TURN2[0]}:{TURN2[1]}": None,
        },
        "peer_probe_series": [
            {"dst": f"{PEER[0]}:{PEER[1]}", "requests": 1, "transmissions": 4, "answered": 0},
            {"dst": f"{PEER_OTHER_PORT[0]}:{PEER_OTHER_PORT[1]}", "requests": 3, "transmissions": 3, "answered": 0},
        ],
    }
    return cap, truth


def write(folder: Path = HERE / NAME) -> Path:
    cap, truth = build()
    return cap.write(folder, truth)


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / NAME))
