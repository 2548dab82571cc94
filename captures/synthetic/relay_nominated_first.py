"""A relay the controlling agent chose: a direct pair worked, and the call stayed on the relay.

The left agent (controlling, 192.168.20.10:50000 behind a NAT that maps it to 198.51.100.30:50000)
checks the right agent's relayed candidate (203.0.113.254:49400, on the TURN server it also
allocates on) first: answered at once, it nominates that pair (regular nomination: a check with
USE-CANDIDATE on the valid pair, RFC 8445 §8.1.1) and sends RTP there. Its check to the right
agent's public host 203.0.113.70:7000 succeeds 0.3 s later, and so do the right agent's checks to
its NAT address, but it never nominates the direct pair: media stays on the relay until the end.
Nothing in the network forced the relay; the controlling agent's choice did (implementations that
nominate the first valid pair behave so).

Invented: addresses, ufrags/passwords, timing, the RTP. No signaling; captured on the left agent's
LAN. Usage: python captures/synthetic/relay_nominated_first.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import (  # noqa: E402
    HERE,
    HOST_PRIORITY,
    PRFLX_PRIORITY,
    RELAY_PRIORITY,
    Capture,
    ice_check,
    ice_success,
    rtp_payload,
    tid,
)
from truth_agents import agent, candidate, component, pair_of, selected  # noqa: E402

from dissectors.codec import encode_stun  # noqa: E402

NAME = "relay_nominated_first"
LEFT, LEFT_PUBLIC = ("192.168.20.10", 50000), ("198.51.100.30", 50000)
LEFT_TURN_SOCKET, LEFT_TURN_MAPPED = ("192.168.20.10", 50010), ("198.51.100.30", 50010)
TURN, LEFT_RELAY = ("203.0.113.254", 3478), ("203.0.113.254", 49300)
RIGHT, RIGHT_RELAY = ("203.0.113.70", 7000), ("203.0.113.254", 49400)
LEFT_UFRAG, LEFT_PWD = "rnL1", "left-password-rn-0123456"
RIGHT_UFRAG, RIGHT_PWD = "rnR1", "right-password-rn-012345"
SOFTWARE = "synthetic (captures/synthetic/relay_nominated_first.py)"


def build() -> Capture:
    cap = Capture()
    allocate = encode_stun(0x0003, tid("rn-alloc"), [("REQUESTED-TRANSPORT", 17)])
    cap.udp(0.0, LEFT_TURN_SOCKET, TURN, allocate)
    answer = [("XOR-RELAYED-ADDRESS", LEFT_RELAY), ("XOR-MAPPED-ADDRESS", LEFT_TURN_MAPPED), ("LIFETIME", 600)]
    cap.udp(0.02, TURN, LEFT_TURN_SOCKET, encode_stun(0x0103, tid("rn-alloc"), answer))

    def left_check(label: str, t: float, to: tuple[str, int], nominate: bool = False) -> None:
        check = ice_check(label, LEFT_UFRAG, RIGHT_UFRAG, RIGHT_PWD, PRFLX_PRIORITY, True, nominate)
        cap.udp(t, LEFT, to, check)
        cap.udp(t + 0.03, to, LEFT, ice_success(label, LEFT_PUBLIC, RIGHT_PWD))

    def right_check(label: str, t: float, source: tuple[str, int]) -> None:
        check = ice_check(label, RIGHT_UFRAG, LEFT_UFRAG, LEFT_PWD, HOST_PRIORITY, False)
        cap.udp(t, source, LEFT, check)
        cap.udp(t + 0.0003, LEFT, source, ice_success(label, source, LEFT_PWD))

    left_check("rn-relay", 0.20, RIGHT_RELAY)
    left_check("rn-relay-nominate", 0.30, RIGHT_RELAY, nominate=True)
    for n in range(250):  # 5 s of RTP on the relayed pair, 20 ms apart, both ways
        cap.udp(0.40 + 0.02 * n, LEFT, RIGHT_RELAY, rtp_payload(n, 0x1111))
        cap.udp(0.41 + 0.02 * n, RIGHT_RELAY, LEFT, rtp_payload(n, 0x2222))
    left_check("rn-direct", 0.50, RIGHT)
    right_check("rn-right-1", 0.55, RIGHT)
    right_check("rn-right-2", 2.55, RIGHT)
    left_check("rn-relay-consent", 4.50, RIGHT_RELAY)
    return cap


def truth() -> dict:
    left, right = candidate(LEFT, "host", HOST_PRIORITY, "1"), candidate(RIGHT, "host", HOST_PRIORITY, "1")
    right_relay = candidate(RIGHT_RELAY, "relay", RELAY_PRIORITY, "3")
    relayed, direct = pair_of(left, right_relay), pair_of(left, right, nominated=False)
    left_view = component([left], [right, right_relay], [relayed, direct], selected(relayed))
    return {
        "scenario": NAME,
        "description": __doc__.strip().splitlines()[0],
        "expected_outcome": "connected",
        "nomination_style": "regular",
        "nomination_style_source": "this module: the left agent's first check on the relayed pair carries no "
        "USE-CANDIDATE; once it is answered, one more check nominates that pair",
        "candidate_types_signaled": False,
        "expected_connectivity": "RELAY",
        "expected_cause": {
            "stream": 0,
            "code": "relayed:agent-choice",
            "side": "left",
            "why": "the direct pair to the right agent's host succeeds both ways, but the left (controlling) agent "
            "nominated the relayed pair that answered first and kept the call there.",
        },
        "vantage_points": {"capture.pcap": "the left agent's LAN, inside its NAT"},
        "agents": {
            "left": agent("controlling", LEFT_UFRAG, LEFT_PWD, LEFT[0], LEFT_PUBLIC[0], [left_view], software=SOFTWARE)
        },
    }


def write(folder: Path = HERE / NAME) -> Path:
    return build().write(folder, truth())


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / NAME))
