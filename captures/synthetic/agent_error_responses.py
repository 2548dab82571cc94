"""Error responses an agent sends to its peer's checks: 487, 500 and 401, who sent what to whom.

Pattern seen in a real capture: the controlling agent checks once from socket A and answers the
peer's checks there with error responses (a 487 role conflict to the peer's first check, which
claimed the controlling role with a smaller tie-breaker, RFC 8445 §7.3.1.1; then 500 and 401),
and 401 from socket B too, while from socket B it keeps checking with USE-CANDIDATE every 0.5 s,
every check answered. The errors are how its credential and role trouble shows: each is a
verdict naming the agent that sent it, the agent it went to, and the frames.

Invented: addresses, ufrags/passwords, tie-breakers, timing. No signaling in the capture;
capture on the left agent's LAN. Usage: python captures/synthetic/agent_error_responses.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, Capture, ice_check, ice_error, ice_success, tid  # noqa: E402
from truth_agents import agent, component, pair, selected, text  # noqa: E402

from dissectors.codec import encode_stun  # noqa: E402

NAME = "agent_error_responses"
LEFT_A = ("192.168.50.10", 50000)
LEFT_B = ("192.168.50.10", 50002)
LEFT_PUBLIC_B = ("203.0.113.90", 50002)
RIGHT = ("203.0.113.91", 61000)
LEFT_UFRAG, LEFT_PWD = "erL1", "left-password-abcdefghij"
RIGHT_UFRAG, RIGHT_PWD = "erR1", "right-password-abcdefghi"
PRIO_LEFT, PRIO_RIGHT = 2130706431, 1694498815


def build() -> tuple[Capture, dict]:
    cap = Capture()
    # left checks once from A (controlling), answered
    cap.udp(0.00, LEFT_A, RIGHT, ice_check("er-a", LEFT_UFRAG, RIGHT_UFRAG, RIGHT_PWD, PRIO_LEFT, True))
    cap.udp(0.03, RIGHT, LEFT_A, ice_success("er-a", LEFT_A, RIGHT_PWD))
    # right's first check claims the controlling role with a smaller tie-breaker: left answers 487
    conflict = encode_stun(
        0x0001,
        tid("er-conflict"),
        [("USERNAME", f"{LEFT_UFRAG}:{RIGHT_UFRAG}".encode()), ("PRIORITY", PRIO_RIGHT), ("ICE-CONTROLLING", 5)],
        integrity_key=LEFT_PWD.encode(),
        fingerprint=True,
    )
    cap.udp(0.05, RIGHT, LEFT_A, conflict)
    cap.udp(0.051, LEFT_A, RIGHT, ice_error("er-conflict", 487, "Role Conflict", LEFT_PWD))
    # right, now controlled, checks A again: 500, then 401
    cap.udp(0.10, RIGHT, LEFT_A, ice_check("er-500", RIGHT_UFRAG, LEFT_UFRAG, LEFT_PWD, PRIO_RIGHT, False))
    cap.udp(0.101, LEFT_A, RIGHT, ice_error("er-500", 500, "Server Error", LEFT_PWD))
    cap.udp(0.20, RIGHT, LEFT_A, ice_check("er-401a", RIGHT_UFRAG, LEFT_UFRAG, LEFT_PWD, PRIO_RIGHT, False))
    cap.udp(0.201, LEFT_A, RIGHT, ice_error("er-401a", 401, "Unauthorized"))
    # and B, where left answers 401 too
    cap.udp(0.30, RIGHT, LEFT_B, ice_check("er-401b", RIGHT_UFRAG, LEFT_UFRAG, LEFT_PWD, PRIO_RIGHT, False))
    cap.udp(0.301, LEFT_B, RIGHT, ice_error("er-401b", 401, "Unauthorized"))
    # from B, left keeps checking with USE-CANDIDATE every 0.5 s, every check answered
    for n in range(10):
        at = 0.5 + 0.5 * n
        label = f"er-b-{n}"
        cap.udp(at, LEFT_B, RIGHT, ice_check(label, LEFT_UFRAG, RIGHT_UFRAG, RIGHT_PWD, PRIO_LEFT - 2, True, True))
        cap.udp(at + 0.03, RIGHT, LEFT_B, ice_success(label, LEFT_PUBLIC_B, RIGHT_PWD))
    in_use = component([], [], [], selected(pair(text(LEFT_B), "host", text(RIGHT), "unknown")))
    truth = {
        "scenario": NAME,
        "description": (
            "Left (controlling) checks once from A; answers right's checks on A with 487 (right claimed "
            "controlling with a smaller tie-breaker), 500 and 401, and on B with 401; from B it checks with "
            "USE-CANDIDATE every 0.5 s, all answered. Errors sent: 487 x1, 500 x1, 401 x2, all by left to right."
        ),
        "expected_outcome": "connected",
        "expected_connectivity": "DIRECT",
        "expected_cause": {
            "stream": 0,
            "code": "connected:no-media",
            "side": "both",
            "why": "the left agent keeps checking from socket B with USE-CANDIDATE for 4.5 s, every check answered, and no media is sent.",
        },
        "nomination_style": "regular",
        "nomination_style_source": "this module: left checks once from socket A without USE-CANDIDATE, then from socket B with USE-CANDIDATE",
        "candidate_types_signaled": False,
        "vantage_points": {"capture.pcap": "the left agent's LAN"},
        "expected_verdicts": ["D11", "D12", "CHECK-ERROR"],
        "errors_sent": [
            {"by": f"{LEFT_A[0]}:{LEFT_A[1]}", "to": f"{RIGHT[0]}:{RIGHT[1]}", "code": 487},
            {"by": f"{LEFT_A[0]}:{LEFT_A[1]}", "to": f"{RIGHT[0]}:{RIGHT[1]}", "code": 500},
            {"by": f"{LEFT_A[0]}:{LEFT_A[1]}", "to": f"{RIGHT[0]}:{RIGHT[1]}", "code": 401},
            {"by": f"{LEFT_B[0]}:{LEFT_B[1]}", "to": f"{RIGHT[0]}:{RIGHT[1]}", "code": 401},
        ],
        "agents": {
            "left": agent(
                "controlling", LEFT_UFRAG, LEFT_PWD, LEFT_A[0], LEFT_PUBLIC_B[0], [in_use], software="synthetic"
            )
        },
    }
    return cap, truth


def write(folder: Path = HERE / NAME) -> Path:
    cap, truth = build()
    return cap.write(folder, truth)


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / NAME))
