"""Media proves connectivity: DTLS and SRTP right after a pair's checks succeed, no nomination seen.

Usage: python captures/synthetic/media_after_success.py   (writes media_after_success/ beside this file)

Seen in a real capture: the checks on one pair succeeded in both directions, DTLS records flowed
on that pair right after (the DTLS-SRTP handshake, then application data: SCTP data channels
over DTLS) with SRTP beside them, and the capture ended 0.8 s after the first success, before
any check with USE-CANDIDATE. No signaling is in the capture. The agents were connected on that
pair: the missing nomination is where the capture stopped, not a failure.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, PRFLX_PRIORITY, Capture, dtls_record, ice_check, ice_success, rtp_payload  # noqa: E402
from truth_agents import agent, component, mirrored_component, pair, selected, text  # noqa: E402

NAME = "media_after_success"
LEFT, RIGHT = ("192.168.1.10", 50000), ("192.168.1.20", 50002)
LEFT_UFRAG, LEFT_PWD = "mdLf", "mediapasswordleft0123456"
RIGHT_UFRAG, RIGHT_PWD = "mdRt", "mediapasswordright012345"
SOFTWARE = "synthetic (pattern seen in a real capture)"
FIRST_SUCCESS = 0.003
END = FIRST_SUCCESS + 0.8


def build() -> tuple[Capture, dict]:
    cap = Capture()
    # the controlling agent's check, then the controlled agent's triggered check: no USE-CANDIDATE
    cap.udp(0.0, LEFT, RIGHT, ice_check("left-1", LEFT_UFRAG, RIGHT_UFRAG, RIGHT_PWD, PRFLX_PRIORITY, True))
    cap.udp(FIRST_SUCCESS, RIGHT, LEFT, ice_success("left-1", LEFT, RIGHT_PWD))
    cap.udp(0.004, RIGHT, LEFT, ice_check("right-1", RIGHT_UFRAG, LEFT_UFRAG, LEFT_PWD, PRFLX_PRIORITY, False))
    cap.udp(0.006, LEFT, RIGHT, ice_success("right-1", RIGHT, LEFT_PWD))
    # DTLS handshake (content type 22, epoch 0), change cipher spec (20), then application data (23)
    cap.udp(0.010, LEFT, RIGHT, dtls_record(22, 0, 0, 180))
    cap.udp(0.015, RIGHT, LEFT, dtls_record(22, 0, 0, 900))
    cap.udp(0.025, LEFT, RIGHT, dtls_record(22, 0, 1, 300))
    cap.udp(0.026, LEFT, RIGHT, dtls_record(20, 0, 2, 1))
    cap.udp(0.030, RIGHT, LEFT, dtls_record(20, 0, 1, 1))
    for i in range(10):
        cap.udp(0.040 + i * 0.05, LEFT, RIGHT, dtls_record(23, 1, i, 120))
        cap.udp(0.045 + i * 0.05, RIGHT, LEFT, dtls_record(23, 1, i, 96))
    # SRTP (an RTP header, encrypted payload) until the capture stops
    t, seq = 0.10, 0
    while t < END:
        cap.udp(t, LEFT, RIGHT, rtp_payload(seq, 0x1111, 111))
        cap.udp(t + 0.001, RIGHT, LEFT, rtp_payload(seq, 0x2222, 111))
        t += 0.02
        seq += 1
    cap.udp(END, LEFT, RIGHT, rtp_payload(seq, 0x1111, 111))
    return cap, truth()


def truth() -> dict:
    entry = pair(text(LEFT), "host", text(RIGHT), "host", nominated=False)
    left = component([], [], [entry], selected(entry))
    return {
        "scenario": NAME,
        "description": __doc__.split("\n\n")[2].replace("\n", " "),
        "expected_outcome": "connected",
        "expected_connectivity": "DIRECT",
        "expected_cause": {
            "stream": 0,
            "code": "direct",
            "side": "both",
            "why": "nothing is blocked: the host pair's checks succeed and media follows on it.",
        },
        "nomination_style": "none",
        "nomination_style_source": "this module: no check carries USE-CANDIDATE; the capture ends 0.8 s after the first success",
        "candidate_types_signaled": False,
        "vantage_points": {"capture.pcap": "the LAN both agents share; ends 0.8 s after the first success"},
        "agents": {
            "left": agent("controlling", LEFT_UFRAG, LEFT_PWD, LEFT[0], None, [left], "application", SOFTWARE),
            "right": agent(
                "controlled",
                RIGHT_UFRAG,
                RIGHT_PWD,
                RIGHT[0],
                None,
                [mirrored_component(left)],
                "application",
                SOFTWARE,
            ),
        },
    }


def write(folder: Path = HERE / NAME) -> Path:
    cap, data = build()
    return cap.write(folder, data)


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / NAME))
