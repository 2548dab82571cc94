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

from builder import HERE, Capture, encode_stun, ice_check, ice_success, tid  # noqa: E402

NAME = "component_priority"
CLIENT = {1: ("192.168.10.20", 50001), 2: ("192.168.10.20", 50002)}
TURN = ("203.0.113.254", 3478)
RELAYED = {1: ("203.0.113.254", 49301), 2: ("203.0.113.254", 49302)}  # allocated before the capture
REMOTE = {1: ("203.0.113.60", 7000), 2: ("203.0.113.60", 7001)}
LOCAL_UFRAG, LOCAL_PWD = "LOCL", "local-password-0123456789"
REMOTE_UFRAG, REMOTE_PWD = "RMTE", "remote-password-0123456789"
HOP = 0.02  # one way, relay <-> remote agent


def priority(type_preference: int, component: int) -> int:
    """RFC 8445 §5.1.2.1 with local preference 65535."""
    return (type_preference << 24) + (65535 << 8) + (256 - component)


def _send(label: str, peer: tuple[str, int], inner: bytes) -> bytes:
    return encode_stun(0x0016, tid("send-" + label), [("XOR-PEER-ADDRESS", peer), ("DATA", inner)])


def _data(label: str, peer: tuple[str, int], inner: bytes) -> bytes:
    return encode_stun(0x0017, tid("data-" + label), [("XOR-PEER-ADDRESS", peer), ("DATA", inner)])


def build() -> Capture:
    cap = Capture()

    def local_check(label: str, t: float, component: int, nominate: bool = False) -> None:
        check = ice_check(label, LOCAL_UFRAG, REMOTE_UFRAG, REMOTE_PWD, priority(0, component), True, nominate)
        cap.udp(t, CLIENT[component], TURN, _send(label, REMOTE[component], check))
        answer = ice_success(label, RELAYED[component], REMOTE_PWD)
        cap.udp(t + 2 * HOP, TURN, CLIENT[component], _data(label, REMOTE[component], answer))

    def remote_check(label: str, t: float, component: int) -> None:
        check = ice_check(label, REMOTE_UFRAG, LOCAL_UFRAG, LOCAL_PWD, priority(110, component), False)
        cap.udp(t, TURN, CLIENT[component], _data(label, REMOTE[component], check))
        answer = ice_success(label, REMOTE[component], LOCAL_PWD)
        cap.udp(t + 0.0004, CLIENT[component], TURN, _send(label, REMOTE[component], answer))

    local_check("local-rtp", 0.100, 1)
    remote_check("remote-rtp", 0.150, 1)
    remote_check("remote-rtcp", 0.170, 2)
    local_check("local-rtcp", 0.200, 2)
    local_check("nominate-rtp", 0.400, 1, nominate=True)
    local_check("nominate-rtcp", 0.420, 2, nominate=True)
    return cap


def truth() -> dict:
    def cand(address: tuple[str, int], component: int, ctype: str, type_preference: int) -> dict:
        return {
            "foundation": ctype[0],
            "component": component,
            "transport": "udp",
            "priority": priority(type_preference, component),
            "address": f"{address[0]}:{address[1]}",
            "type": ctype,
            "related": None,
        }

    def components(mine: dict[int, dict], theirs: dict[int, dict]) -> list[dict]:
        out = []
        for c in (1, 2):
            entry = {"local": mine[c]["address"], "local_type": mine[c]["type"], "remote": theirs[c]["address"]}
            entry |= {"remote_type": theirs[c]["type"], "state": "succeeded", "nominated": True}
            selected = {k: entry[k] for k in ("local", "local_type", "remote", "remote_type")} | {"transport": "udp"}
            out.append(
                {
                    "component": c,
                    "local_candidates": [mine[c]],
                    "remote_candidates": [theirs[c]],
                    "checklist": [entry],
                    "selected": selected,
                }
            )
        return out

    relays = {c: cand(RELAYED[c], c, "relay", 0) for c in (1, 2)}
    hosts = {c: cand(REMOTE[c], c, "host", 126) for c in (1, 2)}
    common = {"software": "synthetic (captures/synthetic/builder.py)"}
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
            "local": common
            | {
                "role": "controlling",
                "ice_ufrag": LOCAL_UFRAG,
                "ice_pwd": LOCAL_PWD,
                "lan_address": CLIENT[1][0],
                "public_address": None,
                "streams": [{"media": "audio", "components": components(relays, hosts)}],
            },
            "remote": common
            | {
                "role": "controlled",
                "ice_ufrag": REMOTE_UFRAG,
                "ice_pwd": REMOTE_PWD,
                "lan_address": REMOTE[1][0],
                "public_address": REMOTE[1][0],
                "streams": [{"media": "audio", "components": components(hosts, relays)}],
            },
        },
    }


def write(folder: Path = HERE / NAME) -> Path:
    return build().write(folder, truth())


if __name__ == "__main__":
    print(write())
