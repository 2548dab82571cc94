"""A TURN server's capture that starts mid-call: ChannelData and Send/Data indications, no Allocate.

Usage: python captures/synthetic/relayed_mid_call.py   (writes relayed_mid_call/)

Taken on a TURN server (port 3478) long after its clients allocated. Client A (UDP) sends and
receives SRTP in ChannelData on channel 0x4001 from the first frame on; at 1.0 s it refreshes the
channel's binding (ChannelBind again, RFC 8656 §12.3), which names the peer. Client B (TCP, the
connection already open) does the same on channel 0x4002, framed and padded (§12.5), and sends a
consent check inside ChannelData. Client C has no channel: its media travels in Send and Data
indications (§11) to and from its peer. Nothing before the first frame is in the capture.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, Capture, ice_check, rtp_payload, tid, turn_data, turn_send  # noqa: E402

from dissectors.codec import encode_channel_data, encode_stun  # noqa: E402

NAME = "relayed_mid_call"
SERVER = ("198.51.100.1", 3478)
CLIENT_A, PEER_A, CHANNEL_A = ("192.0.2.10", 50000), ("203.0.113.9", 7000), 0x4001
CLIENT_B, PEER_B, CHANNEL_B = ("192.0.2.11", 51000), ("203.0.113.20", 7100), 0x4002
CLIENT_C, PEER_C = ("192.0.2.12", 52000), ("203.0.113.30", 7200)
PACKETS = 50  # per direction and client
STEP = 0.04


def _tcp_channel_data(channel: int, payload: bytes) -> bytes:
    frame = encode_channel_data(channel, payload)
    return frame + bytes(-len(frame) % 4)  # RFC 8656 §12.5: padded to 4 bytes over streams


def build() -> tuple[Capture, dict]:
    cap = Capture()
    for i in range(PACKETS):
        t = i * STEP
        cap.udp(t, CLIENT_A, SERVER, encode_channel_data(CHANNEL_A, rtp_payload(i, 0xA1, 111)))
        cap.udp(t + 0.001, SERVER, CLIENT_A, encode_channel_data(CHANNEL_A, rtp_payload(i, 0xA2, 111)[:-1]))
        cap.tcp(t + 0.002, CLIENT_B, SERVER, _tcp_channel_data(CHANNEL_B, rtp_payload(i, 0xB1, 0)))
        cap.tcp(t + 0.003, SERVER, CLIENT_B, _tcp_channel_data(CHANNEL_B, rtp_payload(i, 0xB2, 0)[:-3]))
        cap.udp(t + 0.004, CLIENT_C, SERVER, turn_send(str(i), PEER_C, rtp_payload(i, 0xC1, 8)))
        cap.udp(t + 0.005, SERVER, CLIENT_C, turn_data(str(i), PEER_C, rtp_payload(i, 0xC2, 8)))
    bind_a = [("CHANNEL-NUMBER", CHANNEL_A), ("XOR-PEER-ADDRESS", PEER_A)]
    cap.udp(1.0101, CLIENT_A, SERVER, encode_stun(0x0009, tid("rebind-a"), bind_a))
    cap.udp(1.0102, SERVER, CLIENT_A, encode_stun(0x0109, tid("rebind-a"), []))
    bind_b = [("CHANNEL-NUMBER", CHANNEL_B), ("XOR-PEER-ADDRESS", PEER_B)]
    cap.tcp(1.0103, CLIENT_B, SERVER, encode_stun(0x0009, tid("rebind-b"), bind_b))
    cap.tcp(1.0104, SERVER, CLIENT_B, encode_stun(0x0109, tid("rebind-b"), []))
    consent = ice_check("consent-b", "bRem", "bLoc", "consentpasswordremote0123", 1853817087, False)
    cap.tcp(1.0105, CLIENT_B, SERVER, _tcp_channel_data(CHANNEL_B, consent))
    return cap, truth()


def truth() -> dict:
    server = f"{SERVER[0]}:{SERVER[1]}"

    def leg(client: tuple[str, int], transport: str, via: str, channel: int | None, peer: tuple[str, int]) -> dict:
        return {
            "client": f"{client[0]}:{client[1]}",
            "server": server,
            "transport": transport,
            "via": via,
            "channel": channel,
            "peer": f"{peer[0]}:{peer[1]}",
            "kind": "rtp",
            "packets_each_way": PACKETS,
        }

    return {
        "scenario": NAME,
        "description": __doc__.split("\n\n")[2].replace("\n", " "),
        "expected_outcome": "connected",  # the calls were running: media both ways through every client's relay
        "expected_cause": {
            "stream": 0,
            "code": "unknown:partial-capture",
            "side": "both",
            "why": "taken on the TURN server long after the calls began: how ICE chose the relays is not in the capture.",
        },
        "vantage_points": {"capture.pcap": "the TURN server, from mid-call: no Allocate in the capture"},
        "relayed": [
            leg(CLIENT_A, "udp", "channeldata", CHANNEL_A, PEER_A),
            leg(CLIENT_B, "tcp", "channeldata", CHANNEL_B, PEER_B),
            leg(CLIENT_C, "udp", "indications", None, PEER_C),
        ],
        "stun_messages": 5,  # two ChannelBind transactions and the consent check inside ChannelData
        "agents": {},
    }


def write(folder: Path = HERE / NAME) -> Path:
    cap, data = build()
    return cap.write(folder, data)


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / NAME))
