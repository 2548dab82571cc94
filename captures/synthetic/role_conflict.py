"""A role conflict that never resolves: both agents claim the controlling role, and neither yields.

RFC 8445 §7.3.1.1: an agent that receives a check claiming its own role compares tie-breakers; the
larger keeps its role and answers 487 Role Conflict, the smaller switches (§7.2.5.1 also makes the
agent that got a 487 switch). Here the left agent (larger tie-breaker) answers the right one's
checks with 487, as it should, but the right agent neither switches on the 487 nor on the left's
checks: it answers them with 487 too and keeps sending ICE-CONTROLLING. Every check of both is
refused, and after 4 s both give up: ICE fails, and the cause is the role conflict, not the network
(the agents reach each other: every check is answered).

Pattern: two endpoints that both start as offerers (a glare resolved in the signaling but not in
ICE), one of them ignoring 487. Invented: addresses (documentation ranges, no NAT), ufrags and
passwords, tie-breakers, timing; captured on the link between them. Usage:
python captures/synthetic/role_conflict.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, HOST_PRIORITY, Capture, ice_error, tid  # noqa: E402
from truth_agents import agent, candidate, component, pair_of  # noqa: E402

from dissectors.codec import encode_stun  # noqa: E402

NAME = "role_conflict"
LEFT, RIGHT = ("192.0.2.10", 40000), ("198.51.100.20", 50000)
LEFT_UFRAG, LEFT_PWD = "rcL1", "left-password-rc-0123456"
RIGHT_UFRAG, RIGHT_PWD = "rcR1", "right-password-rc-012345"
LEFT_TIE, RIGHT_TIE = 0x7A00000000000001, 0x1B00000000000002
SOFTWARE = "synthetic (captures/synthetic/role_conflict.py)"
CHECKS = 8  # per agent, 0.5 s apart


def _check(label: str, sender_ufrag: str, receiver_ufrag: str, receiver_pwd: str, tie_breaker: int) -> bytes:
    """A check claiming the controlling role with the sender's own tie-breaker."""
    attrs: list = [
        ("USERNAME", f"{receiver_ufrag}:{sender_ufrag}".encode()),
        ("PRIORITY", HOST_PRIORITY),
        ("ICE-CONTROLLING", tie_breaker),
    ]
    return encode_stun(0x0001, tid(label), attrs, integrity_key=receiver_pwd.encode(), fingerprint=True)


def build() -> Capture:
    cap = Capture()
    for n in range(CHECKS):
        at = 0.5 * n
        left = f"rc-left-{n}"
        cap.udp(at, LEFT, RIGHT, _check(left, LEFT_UFRAG, RIGHT_UFRAG, RIGHT_PWD, LEFT_TIE))
        cap.udp(at + 0.021, RIGHT, LEFT, ice_error(left, 487, "Role Conflict", RIGHT_PWD))  # wrong: it should yield
        right = f"rc-right-{n}"
        cap.udp(at + 0.25, RIGHT, LEFT, _check(right, RIGHT_UFRAG, LEFT_UFRAG, LEFT_PWD, RIGHT_TIE))
        cap.udp(at + 0.271, LEFT, RIGHT, ice_error(right, 487, "Role Conflict", LEFT_PWD))
    return cap


def _agent(ufrag: str, pwd: str, mine: tuple[str, int], theirs: tuple[str, int]) -> dict:
    me, peer = candidate(mine, "host", HOST_PRIORITY, "1"), candidate(theirs, "host", HOST_PRIORITY, "1")
    view = component([me], [peer], [pair_of(me, peer, "failed", nominated=False)], None)
    return agent("controlling", ufrag, pwd, mine[0], mine[0], [view], software=SOFTWARE)


def truth() -> dict:
    return {
        "scenario": NAME,
        "description": __doc__.strip().splitlines()[0],
        "expected_outcome": "failed",
        "nomination_style": "none",
        "nomination_style_source": "this module: no check of either agent carries USE-CANDIDATE (both claim the "
        "controlling role and every check is answered 487)",
        "candidate_types_signaled": False,
        "expected_connectivity": "FAILED",
        "expected_cause": {
            "stream": 0,
            "code": "failed:role-conflict",
            "side": "both",
            "why": "both agents claim the controlling role, every check of both is answered 487 and neither "
            "switches; the network carries every check and answer.",
        },
        "vantage_points": {"capture.pcap": "the link between the two agents (no NAT)"},
        "expected_verdicts": ["D12", "FAILED"],
        "forbidden_verdicts": ["D8"],
        "agents": {
            "left": _agent(LEFT_UFRAG, LEFT_PWD, LEFT, RIGHT),
            "right": _agent(RIGHT_UFRAG, RIGHT_PWD, RIGHT, LEFT),
        },
    }


def write(folder: Path = HERE / NAME) -> Path:
    return build().write(folder, truth())


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / NAME))
