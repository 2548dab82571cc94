"""A browser-style call signaled over a WebSocket: JSON offer, answer and trickled candidates.

Usage: python captures/synthetic/websocket_signaling.py   (writes websocket_signaling/ beside this file)

Both agents hold a WebSocket (RFC 6455) to one signaling server and exchange the W3C shapes most
WebRTC apps use: {"type":"offer","sdp":"v=0…"} wrapped in the app's own envelope, then one message
per trickled candidate {"candidate":"candidate:…","sdpMid":"0","sdpMLineIndex":0}, then the empty
candidate that ends gathering. Client frames are masked; the offer is fragmented over two frames
and its TCP segments split mid-frame. The offer carries no candidates (trickle ICE, RFC 8838): the
caller's host candidate is trickled after the callee has already checked it, so that pair stands
on a peer-reflexive candidate until the candidate arrives. Checks then succeed on the host pair
with USE-CANDIDATE.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, Capture, ice_check, ice_success  # noqa: E402
from truth_agents import agent, component, mirrored_component, pair, selected, text  # noqa: E402

NAME = "websocket_signaling"
SERVER = ("203.0.113.80", 443)
LEFT_WS, RIGHT_WS = ("192.168.1.10", 40001), ("192.168.1.20", 40002)
LEFT, RIGHT = ("192.168.1.10", 50000), ("192.168.1.20", 50002)
LEFT_UFRAG, LEFT_PWD = "wsLf", "websocketpasswordleft012"
RIGHT_UFRAG, RIGHT_PWD = "wsRt", "websocketpasswordright01"
HOST_PRIORITY = 2122260223
PRFLX_PRIORITY = 1853824767
SOFTWARE = "synthetic (WebSocket signaling as WebRTC apps use it)"
TRICKLE_LEFT_AT = 0.300  # the caller's host candidate reaches the callee after the callee's first check


def frame(payload: bytes, opcode: int = 1, fin: bool = True, mask: bytes | None = None) -> bytes:
    """One RFC 6455 frame; `mask` given for a client frame (§5.3)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    bit = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([bit | 127]) + n.to_bytes(8, "big")
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


def sdp(ufrag: str, pwd: str, setup: str, fingerprint: str) -> str:
    return "\r\n".join(
        [
            "v=0",
            "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
            "s=-",
            "t=0 0",
            "a=group:BUNDLE 0 1",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111",
            "c=IN IP4 0.0.0.0",
            f"a=ice-ufrag:{ufrag}",
            f"a=ice-pwd:{pwd}",
            "a=ice-options:trickle",
            f"a=fingerprint:sha-256 {fingerprint}",
            f"a=setup:{setup}",
            "a=mid:0",
            "a=rtpmap:111 opus/48000/2",
            "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
            "c=IN IP4 0.0.0.0",
            f"a=ice-ufrag:{ufrag}",
            f"a=ice-pwd:{pwd}",
            f"a=fingerprint:sha-256 {fingerprint}",
            f"a=setup:{setup}",
            "a=mid:1",
            "a=sctp-port:5000",
            "",
        ]
    )


def candidate(address: tuple[str, int], foundation: str, ufrag: str) -> dict:
    line = f"candidate:{foundation} 1 udp {HOST_PRIORITY} {address[0]} {address[1]} typ host generation 0 ufrag {ufrag}"
    return {"candidate": line, "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": ufrag}


def handshake(cap: Capture, t: float, client: tuple[str, int], key: str) -> None:
    request = (
        "GET /room/42 HTTP/1.1\r\nHost: signal.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    cap.tcp(t, client, SERVER, request.encode())
    response = (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    )
    cap.tcp(t + 0.001, SERVER, client, response.encode())


def envelope(kind: str, data: dict) -> bytes:
    return json.dumps({"event": kind, "room": "42", "data": data}).encode()


def build() -> tuple[Capture, dict]:
    cap = Capture()
    handshake(cap, 0.000, LEFT_WS, "dGhlIHNhbXBsZSBub25jZQ==")
    handshake(cap, 0.010, RIGHT_WS, "x3JJHMbDL1EzLkh9GBhXDw==")
    offer = envelope("offer", {"type": "offer", "sdp": sdp(LEFT_UFRAG, LEFT_PWD, "actpass", "AA:" * 31 + "AA")})
    half = len(offer) // 2
    # the caller's offer in two frames (text, then continuation), sent as one segment write split mid-frame
    wire = frame(offer[:half], 1, False, b"\x11\x22\x33\x44") + frame(offer[half:], 0, True, b"\x55\x66\x77\x88")
    cap.tcp(0.100, LEFT_WS, SERVER, wire[:40])
    cap.tcp(0.101, LEFT_WS, SERVER, wire[40:])
    cap.tcp(0.102, SERVER, LEFT_WS, frame(b"", 9))  # a ping: control frames are not messages
    cap.tcp(0.110, SERVER, RIGHT_WS, frame(offer))
    answer = envelope("answer", {"type": "answer", "sdp": sdp(RIGHT_UFRAG, RIGHT_PWD, "active", "BB:" * 31 + "BB")})
    cap.tcp(0.150, RIGHT_WS, SERVER, frame(answer, mask=b"\x01\x02\x03\x04"))
    cap.tcp(0.160, SERVER, LEFT_WS, frame(answer))
    right_cand = envelope("ice", candidate(RIGHT, "2", RIGHT_UFRAG))
    cap.tcp(0.170, RIGHT_WS, SERVER, frame(right_cand, mask=b"\x09\x08\x07\x06"))
    cap.tcp(0.175, SERVER, LEFT_WS, frame(right_cand))
    # the callee checks the caller's address before the caller's candidate reaches it (RFC 8838)
    cap.udp(0.200, RIGHT, LEFT, ice_check("r1", RIGHT_UFRAG, LEFT_UFRAG, LEFT_PWD, PRFLX_PRIORITY, False))
    cap.udp(0.201, LEFT, RIGHT, ice_success("r1", RIGHT, LEFT_PWD))
    left_cand = envelope("ice", candidate(LEFT, "1", LEFT_UFRAG))
    cap.tcp(TRICKLE_LEFT_AT - 0.01, LEFT_WS, SERVER, frame(left_cand, mask=b"\x0a\x0b\x0c\x0d"))
    cap.tcp(TRICKLE_LEFT_AT, SERVER, RIGHT_WS, frame(left_cand))
    end = envelope("ice", {"candidate": "", "sdpMid": "0", "sdpMLineIndex": 0})
    cap.tcp(0.310, LEFT_WS, SERVER, frame(end, mask=b"\x0e\x0f\x10\x11"))
    cap.udp(0.320, LEFT, RIGHT, ice_check("l1", LEFT_UFRAG, RIGHT_UFRAG, RIGHT_PWD, PRFLX_PRIORITY, True, True))
    cap.udp(0.321, RIGHT, LEFT, ice_success("l1", LEFT, RIGHT_PWD))
    cap.tcp(0.400, LEFT_WS, SERVER, frame(b"\x03\xe8", 8, mask=b"\x00\x00\x00\x00"))  # close
    return cap, truth()


def truth() -> dict:
    entry = pair(text(LEFT), "host", text(RIGHT), "host")
    left = component([], [], [entry], selected(entry))
    return {
        "scenario": NAME,
        "description": " ".join(__doc__.split("\n\n")[2].split()),
        "expected_outcome": "connected",
        "expected_connectivity": "DIRECT",
        "expected_cause": {
            "stream": 0,
            "code": "direct",
            "side": "both",
            "why": "nothing is blocked: the host pair's checks succeed with USE-CANDIDATE.",
        },
        "nomination_style": "aggressive",
        "nomination_style_source": "this module: the controlling agent's one check carries USE-CANDIDATE",
        "candidate_types_signaled": True,
        "vantage_points": {"capture.pcap": "the LAN both agents and their WebSocket connections share"},
        "agents": {
            "left": agent("controlling", LEFT_UFRAG, LEFT_PWD, LEFT[0], None, [left], software=SOFTWARE),
            "right": agent(
                "controlled", RIGHT_UFRAG, RIGHT_PWD, RIGHT[0], None, [mirrored_component(left)], software=SOFTWARE
            ),
        },
    }


def write(folder: Path = HERE / NAME) -> Path:
    cap, data = build()
    return cap.write(folder, data)


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / NAME))
