"""Media through a TURN channel proves a relayed pair: ChannelData DTLS after the relayed checks succeed.

Usage: python captures/synthetic/relayed_media_after_success.py   (writes relayed_media_after_success/)

The relayed variant of media_after_success: the left agent allocates on a TURN server, binds a
channel to the peer, checks through that channel (RFC 8656 §12) and is checked back; DTLS records
and SRTP then flow inside ChannelData, and the capture (on the left agent's LAN) ends 0.8 s after
the first successful check, before any nomination. Only the client-to-relay leg is on the wire:
the media belongs to the pair relayed address <-> peer.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, PRFLX_PRIORITY, RELAY_PRIORITY, Capture, dtls_record, ice_check, ice_success, rtp_payload, tid  # noqa: E402
from truth_agents import agent, candidate, component, pair, selected, text  # noqa: E402

from dissectors.codec import encode_channel_data, encode_stun  # noqa: E402

NAME = "relayed_media_after_success"
CLIENT, SERVER = ("192.168.1.10", 50000), ("198.51.100.1", 3478)
RELAYED, MAPPED, PEER = ("198.51.100.1", 49152), ("203.0.113.1", 61000), ("203.0.113.9", 7000)
CHANNEL = 0x4000
LEFT_UFRAG, LEFT_PWD = "rlLf", "relayedpasswordleft01234"
RIGHT_UFRAG, RIGHT_PWD = "rlRt", "relayedpasswordright0123"
SOFTWARE = "synthetic (pattern seen in a real capture, relayed)"
FIRST_SUCCESS = 0.130
END = FIRST_SUCCESS + 0.8


def build() -> tuple[Capture, dict]:
    cap = Capture()

    def out(t: float, payload: bytes) -> None:
        cap.udp(t, CLIENT, SERVER, encode_channel_data(CHANNEL, payload))

    def back(t: float, payload: bytes) -> None:
        cap.udp(t, SERVER, CLIENT, encode_channel_data(CHANNEL, payload))

    cap.udp(0.0, CLIENT, SERVER, encode_stun(0x0003, tid("alloc"), [("REQUESTED-TRANSPORT", 17)]))
    cap.udp(
        0.02,
        SERVER,
        CLIENT,
        encode_stun(
            0x0103,
            tid("alloc"),
            [("XOR-RELAYED-ADDRESS", RELAYED), ("XOR-MAPPED-ADDRESS", MAPPED), ("LIFETIME", 600)],
        ),
    )
    bind = [("CHANNEL-NUMBER", CHANNEL), ("XOR-PEER-ADDRESS", PEER)]
    cap.udp(0.05, CLIENT, SERVER, encode_stun(0x0009, tid("bind"), bind))
    cap.udp(0.07, SERVER, CLIENT, encode_stun(0x0109, tid("bind"), []))
    out(0.10, ice_check("left-1", LEFT_UFRAG, RIGHT_UFRAG, RIGHT_PWD, PRFLX_PRIORITY, True))
    back(FIRST_SUCCESS, ice_success("left-1", RELAYED, RIGHT_PWD))
    back(0.14, ice_check("right-1", RIGHT_UFRAG, LEFT_UFRAG, LEFT_PWD, PRFLX_PRIORITY, False))
    out(0.141, ice_success("right-1", PEER, LEFT_PWD))
    out(0.15, dtls_record(22, 0, 0, 180))
    back(0.18, dtls_record(22, 0, 0, 900))
    out(0.20, dtls_record(20, 0, 1, 1))
    back(0.22, dtls_record(20, 0, 1, 1))
    t, seq = 0.25, 0
    while t < END:
        out(t, rtp_payload(seq, 0x3333, 111))
        back(t + 0.005, rtp_payload(seq, 0x4444, 111))
        t += 0.02
        seq += 1
    out(END, rtp_payload(seq, 0x3333, 111))
    return cap, truth()


def truth() -> dict:
    relay = candidate(RELAYED, "relay", RELAY_PRIORITY, "r1", text(MAPPED))
    entry = pair(relay["address"], "relay", text(PEER), "prflx", nominated=False)
    in_use = component([relay], [], [entry], selected(entry))
    return {
        "scenario": NAME,
        "description": __doc__.split("\n\n")[2].replace("\n", " "),
        "expected_outcome": "connected",
        "expected_connectivity": "RELAY",
        "expected_cause": {
            "stream": 0,
            "code": "relayed:policy",
            "side": "left",
            "why": "the left agent checks only through its TURN channel: it uses its relayed candidate only.",
        },
        "nomination_style": "none",
        "nomination_style_source": "this module: no check carries USE-CANDIDATE; the capture ends 0.8 s after the first success",
        "candidate_types_signaled": False,
        "vantage_points": {"capture.pcap": "the left agent's LAN: only the client-to-relay leg"},
        "agents": {
            "left": agent("controlling", LEFT_UFRAG, LEFT_PWD, CLIENT[0], MAPPED[0], [in_use], "application", SOFTWARE)
        },
    }


def write(folder: Path = HERE / NAME) -> Path:
    cap, data = build()
    return cap.write(folder, data)


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / NAME))
