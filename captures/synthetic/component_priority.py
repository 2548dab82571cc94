"""Two components and no signaling: the checks' PRIORITY says which component each pair serves.

The capture was started after the local agent (controlling, 192.168.10.20) had allocated its two
TURN relays (one per component, client ports 50001 and 50002 to 203.0.113.254:3478), so the relayed
addresses are not on the wire and both relays look alike. The remote agent (controlled, public
203.0.113.60, RTP on port 7000 and RTCP on 7001, no rtcp-mux) checks both components through them:
its PRIORITY low byte is 0xFF for component 1 and 0xFE for component 2 (RFC 8445 §5.1.2.1:
256 - component id), and the local agent's own checks say the same. Each component gets its own
pair, nominated with USE-CANDIDATE.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, Capture, ice_check, ice_success, priority, turn_data, turn_send  # noqa: E402
from truth_agents import agent, candidate, one_pair  # noqa: E402

NAME = "component_priority"
CLIENT = {1: ("192.168.10.20", 50001), 2: ("192.168.10.20", 50002)}
TURN = ("203.0.113.254", 3478)
RELAYED = {1: ("203.0.113.254", 49301), 2: ("203.0.113.254", 49302)}  # allocated before the capture
REMOTE = {1: ("203.0.113.60", 7000), 2: ("203.0.113.60", 7001)}
LOCAL_UFRAG, LOCAL_PWD = "LOCL", "local-password-0123456789"
REMOTE_UFRAG, REMOTE_PWD = "RMTE", "remote-password-0123456789"
HOP = 0.02  # one way, relay <-> remote agent


def build() -> Capture:
    cap = Capture()

    def local_check(label: str, t: float, component: int, nominate: bool = False) -> None:
        check = ice_check(label, LOCAL_UFRAG, REMOTE_UFRAG, REMOTE_PWD, priority(0, component), True, nominate)
        cap.udp(t, CLIENT[component], TURN, turn_send(label, REMOTE[component], check))
        answer = ice_success(label, RELAYED[component], REMOTE_PWD)
        cap.udp(t + 2 * HOP, TURN, CLIENT[component], turn_data(label, REMOTE[component], answer))

    def remote_check(label: str, t: float, component: int) -> None:
        check = ice_check(label, REMOTE_UFRAG, LOCAL_UFRAG, LOCAL_PWD, priority(110, component), False)
        cap.udp(t, TURN, CLIENT[component], turn_data(label, REMOTE[component], check))
        answer = ice_success(label, REMOTE[component], LOCAL_PWD)
        cap.udp(t + 0.0004, CLIENT[component], TURN, turn_send(label, REMOTE[component], answer))

    local_check("local-rtp", 0.100, 1)
    remote_check("remote-rtp", 0.150, 1)
    remote_check("remote-rtcp", 0.170, 2)
    local_check("local-rtcp", 0.200, 2)
    local_check("nominate-rtp", 0.400, 1, nominate=True)
    local_check("nominate-rtcp", 0.420, 2, nominate=True)
    return cap


def truth() -> dict:
    relays = {c: candidate(RELAYED[c], "relay", priority(0, c), "r", component=c) for c in (1, 2)}
    hosts = {c: candidate(REMOTE[c], "host", priority(126, c), "h", component=c) for c in (1, 2)}
    local_view = [one_pair(relays[c], hosts[c]) for c in (1, 2)]
    remote_view = [one_pair(hosts[c], relays[c]) for c in (1, 2)]
    return {
        "scenario": NAME,
        "description": __doc__.strip().splitlines()[0],
        "expected_outcome": "connected",
        "expected_connectivity": "RELAY",
        "expected_cause": {
            "stream": 0,
            "code": "relayed:policy",
            "side": "local",
            "why": "the local agent checks and is checked only through its two TURN relays: it uses relayed candidates only.",
        },
        "nomination_style": "regular",
        "nomination_style_source": "this module: the local agent checks each component, then nominates each with one more check carrying USE-CANDIDATE",
        "candidate_types_signaled": False,
        "capture_facts": {
            "capture.pcap": {
                "unobservable": ["relayed_address"],
                "why": "the capture starts after both TURN allocations: no Allocate answer names the relayed addresses",
            }
        },
        "vantage_points": {"capture.pcap": "the local agent's LAN, started after its TURN allocations"},
        "agents": {
            "local": agent("controlling", LOCAL_UFRAG, LOCAL_PWD, CLIENT[1][0], None, local_view),
            "remote": agent("controlled", REMOTE_UFRAG, REMOTE_PWD, REMOTE[1][0], REMOTE[1][0], remote_view),
        },
    }


def write(folder: Path = HERE / NAME) -> Path:
    return build().write(folder, truth())


if __name__ == "__main__":
    print(write())
