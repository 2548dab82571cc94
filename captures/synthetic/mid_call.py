"""A capture started after ICE completed: consent checks and media only.

Pattern seen in a real capture started in the middle of a call: no candidate gathering, no
signaling, no nomination; only the selected pair's consent-freshness checks (RFC 7675 §5.1: a
Binding request about every 5 s from each agent, roles as negotiated, no USE-CANDIDATE) and
RTP both ways. The capture's first STUN packet is the answer to a consent check sent before the
capture started. The story is the pair in use, not "nothing was nominated".

Invented: addresses, ufrags/passwords, SSRCs, timing (checks every 5 s, jittered as RFC 7675
allows). Capture on the left agent's LAN. Usage: python captures/synthetic/mid_call.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, Capture, ice_check, ice_success, rtp_payload  # noqa: E402
from truth_agents import agent, component, pair, selected, text  # noqa: E402

NAME = "mid_call"
LEFT = ("192.168.40.10", 50000)
LEFT_PUBLIC = ("203.0.113.80", 50000)
RIGHT = ("203.0.113.88", 60000)
LEFT_UFRAG, LEFT_PWD = "mcL1", "left-password-0123456789"
RIGHT_UFRAG, RIGHT_PWD = "mcR1", "right-password-012345678"
PRIORITY_LEFT = 1853824767  # a prflx-style priority for component 1 (RFC 8445 §5.1.2.1)
PRIORITY_RIGHT = 1845501695
DURATION = 20.0


def build() -> tuple[Capture, dict]:
    cap = Capture()
    # the answer to the consent check the left agent sent just before the capture started
    cap.udp(0.004, RIGHT, LEFT, ice_success("mc-before", LEFT_PUBLIC, RIGHT_PWD))
    seq = 0
    t = 0.0
    while t < DURATION:
        cap.udp(t, LEFT, RIGHT, rtp_payload(seq, 0xA1A1A1A1))
        cap.udp(t + 0.011, RIGHT, LEFT, rtp_payload(seq, 0xB2B2B2B2))
        seq += 1
        t = round(t + 0.02, 3)
    for n, at in enumerate((4.6, 9.3, 14.5, 19.1)):
        label = f"mc-left-{n}"
        cap.udp(at, LEFT, RIGHT, ice_check(label, LEFT_UFRAG, RIGHT_UFRAG, RIGHT_PWD, PRIORITY_LEFT, True))
        cap.udp(at + 0.031, RIGHT, LEFT, ice_success(label, LEFT_PUBLIC, RIGHT_PWD))
    for n, at in enumerate((2.2, 7.0, 12.1, 16.8)):
        label = f"mc-right-{n}"
        cap.udp(at, RIGHT, LEFT, ice_check(label, RIGHT_UFRAG, LEFT_UFRAG, LEFT_PWD, PRIORITY_RIGHT, False))
        cap.udp(at + 0.001, LEFT, RIGHT, ice_success(label, RIGHT, LEFT_PWD))
    in_use = component([], [], [], selected(pair(text(LEFT), "host", text(RIGHT), "unknown")))
    truth = {
        "scenario": NAME,
        "description": (
            "20 s from the middle of a call: RTP both ways on one pair, consent checks on it every ~5 s from "
            "each agent (left controlling, right controlled), all answered; the first STUN packet answers a "
            "check sent before the capture began. No gathering, no signaling, no nomination in the capture."
        ),
        "expected_outcome": "connected",
        "expected_connectivity": "DIRECT",
        "expected_cause": {
            "stream": 0,
            "code": "direct",
            "side": "both",
            "why": "the pair in use joins the left agent's host to the right agent's public address: no relay on its path.",
        },
        "nomination_style": "not-captured",
        "nomination_style_source": "this module: the capture starts mid-call, long after the nomination; the consent checks in it carry no USE-CANDIDATE",
        "candidate_types_signaled": False,
        "vantage_points": {"capture.pcap": "the left agent's LAN"},
        "expected_verdicts": ["MID-CALL", "ORPHAN-RESPONSES"],
        "forbidden_verdicts": ["D13", "D8", "D25"],
        "agents": {
            "left": agent("controlling", LEFT_UFRAG, LEFT_PWD, LEFT[0], LEFT_PUBLIC[0], [in_use], software="synthetic")
        },
    }
    return cap, truth


def write(folder: Path = HERE / NAME) -> Path:
    cap, truth = build()
    return cap.write(folder, truth)


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / NAME))
