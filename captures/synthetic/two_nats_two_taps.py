"""Both ends' captures, each behind its own NAT: one pair, seen by two taps under two names.

The caller (controlling, relay-only) sits on 10.10.0.10 behind its NAT and checks from its TURN
relayed address 203.0.113.254:49200 (Send/Data indications on its LAN). The callee sits on
10.20.0.10:59253 behind a port-preserving NAT that presents it as 203.0.113.20:59253 and rewrites
the destination of what comes in. `capture.pcap` is the caller's LAN, `callee-lan.pcap` the
callee's, taken on another machine whose clock runs 1.5 s behind.

The caller checks the callee's host address (never delivered: the relay cannot reach 10.20.0.10)
and its server-reflexive address (answered), then nominates the latter with USE-CANDIDATE; the
callee checks the caller's relayed address twice, its second check's first transmission lost
before the relay. The caller's tap shows the pair as relay -> 203.0.113.20:59253, the callee's as
relay -> 10.20.0.10:59253: the same transaction ids and USERNAMEs on both taps reveal the
callee's NAT mapping, and together the two taps tell of one pair that worked both ways.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, Capture, encode_stun, ice_check, ice_success, tid  # noqa: E402
from scapy.utils import wrpcap  # noqa: E402

NAME = "two_nats_two_taps"
CALLER_LAN = ("10.10.0.10", 50000)
CALLER_PUBLIC = ("198.51.100.10", 50000)
TURN = ("203.0.113.254", 3478)
RELAYED = ("203.0.113.254", 49200)
CALLEE_HOST = ("10.20.0.10", 59253)
CALLEE_PUBLIC = ("203.0.113.20", 59253)
CALLER_UFRAG, CALLER_PWD = "CALR", "caller-password-0123456789"
CALLEE_UFRAG, CALLEE_PWD = "CALE", "callee-password-0123456789"
CALLEE_CLOCK = -1.5  # the callee's capture clock, against the caller's
HOP = 0.015  # one way between the relay and the callee
ANSWER = 0.00026  # the callee's answering time
CALLER_ANSWER = 0.0003
RELAY_PRIORITY = (0 << 24) + (65535 << 8) + 255  # RFC 8445 §5.1.2.1: relay, component 1
CALLEE_PRFLX_PRIORITY = (110 << 24) + (65535 << 8) + 255
CALLER_PRFLX_PRIORITY = (110 << 24) + (65535 << 8) + 255


def _send(label: str, peer: tuple[str, int], inner: bytes) -> bytes:
    """A TURN Send indication (RFC 8656 §11.1) carrying `inner` to `peer`."""
    return encode_stun(0x0016, tid("send-" + label), [("XOR-PEER-ADDRESS", peer), ("DATA", inner)])


def _data(label: str, peer: tuple[str, int], inner: bytes) -> bytes:
    """A TURN Data indication (RFC 8656 §11.4) bringing `inner` from `peer`."""
    return encode_stun(0x0017, tid("data-" + label), [("XOR-PEER-ADDRESS", peer), ("DATA", inner)])


def build(callee_clock: float = CALLEE_CLOCK) -> tuple[Capture, Capture]:
    caller, callee = Capture(), Capture()

    def at_callee(t: float, src: tuple[str, int], dst: tuple[str, int], payload: bytes) -> None:
        callee.udp(t + callee_clock, src, dst, payload)

    # the caller's allocation and the callee's STUN binding (its server-reflexive address)
    caller.udp(0.0, CALLER_LAN, TURN, encode_stun(0x0003, tid("alloc"), [("REQUESTED-TRANSPORT", 17)]))
    caller.udp(
        0.002,
        TURN,
        CALLER_LAN,
        encode_stun(
            0x0103,
            tid("alloc"),
            [("XOR-RELAYED-ADDRESS", RELAYED), ("XOR-MAPPED-ADDRESS", CALLER_PUBLIC), ("LIFETIME", 600)],
        ),
    )
    at_callee(0.010, CALLEE_HOST, TURN, encode_stun(0x0001, tid("callee-stun"), []))
    at_callee(
        0.012, TURN, CALLEE_HOST, encode_stun(0x0101, tid("callee-stun"), [("XOR-MAPPED-ADDRESS", CALLEE_PUBLIC)])
    )

    def caller_check(label: str, t: float, to: tuple[str, int], nominate: bool = False, answered: bool = True) -> None:
        check = ice_check(label, CALLER_UFRAG, CALLEE_UFRAG, CALLEE_PWD, RELAY_PRIORITY, True, nominate)
        if not answered:
            for n, delay in enumerate((0.0, 0.5, 1.5)):  # RFC 5389 §7.2.1 schedule; the relay drops them all
                caller.udp(t + delay, CALLER_LAN, TURN, _send(f"{label}-{n}", to, check))
            return
        caller.udp(t, CALLER_LAN, TURN, _send(label, to, check))
        at_callee(t + HOP, RELAYED, CALLEE_HOST, check)
        answer = ice_success(label, RELAYED, CALLEE_PWD)
        at_callee(t + HOP + ANSWER, CALLEE_HOST, RELAYED, answer)
        caller.udp(t + 2 * HOP + ANSWER, TURN, CALLER_LAN, _data(label, to, answer))

    def callee_check(label: str, t: float, lost_first: bool = False) -> None:
        check = ice_check(label, CALLEE_UFRAG, CALLER_UFRAG, CALLER_PWD, CALLEE_PRFLX_PRIORITY, False)
        if lost_first:  # this transmission never reached the relay
            at_callee(t, CALLEE_HOST, RELAYED, check)
            t += 0.5
        at_callee(t, CALLEE_HOST, RELAYED, check)
        caller.udp(t + HOP, TURN, CALLER_LAN, _data(label, CALLEE_PUBLIC, check))
        answer = ice_success(label, CALLEE_PUBLIC, CALLER_PWD)
        caller.udp(t + HOP + CALLER_ANSWER, CALLER_LAN, TURN, _send(label, CALLEE_PUBLIC, answer))
        at_callee(t + 2 * HOP + CALLER_ANSWER, RELAYED, CALLEE_HOST, answer)

    caller_check("to-host", 0.100, CALLEE_HOST, answered=False)
    caller_check("to-srflx", 0.120, CALLEE_PUBLIC)
    callee_check("from-callee-1", 0.140)
    caller_check("nominate", 0.300, CALLEE_PUBLIC, nominate=True)
    callee_check("from-callee-2", 0.500, lost_first=True)
    return caller, callee


def truth() -> dict:
    relay = {
        "foundation": "r1",
        "component": 1,
        "transport": "udp",
        "priority": RELAY_PRIORITY,
        "address": "203.0.113.254:49200",
        "type": "relay",
        "related": "198.51.100.10:50000",
    }
    host = {
        "foundation": "h1",
        "component": 1,
        "transport": "udp",
        "priority": (126 << 24) + (65535 << 8) + 255,
        "address": "10.20.0.10:59253",
        "type": "host",
        "related": None,
    }
    srflx = {
        "foundation": "s1",
        "component": 1,
        "transport": "udp",
        "priority": (100 << 24) + (65535 << 8) + 255,
        "address": "203.0.113.20:59253",
        "type": "srflx",
        "related": "10.20.0.10:59253",
    }
    selected = {
        "local": "203.0.113.254:49200",
        "local_type": "relay",
        "remote": "203.0.113.20:59253",
        "remote_type": "srflx",
        "transport": "udp",
    }
    caller_list = [
        {"local": relay["address"], "local_type": "relay", "remote": host["address"], "remote_type": "host"}
        | {"state": "failed", "nominated": False},
        {"local": relay["address"], "local_type": "relay", "remote": srflx["address"], "remote_type": "srflx"}
        | {"state": "succeeded", "nominated": True},
    ]
    callee_list = [
        {"local": host["address"], "local_type": "host", "remote": relay["address"], "remote_type": "relay"}
        | {"state": "succeeded", "nominated": True}
    ]
    return {
        "scenario": NAME,
        "description": __doc__.strip().splitlines()[0],
        "expected_outcome": "connected",
        "expected_connectivity": "RELAY",
        "expected_cause": {
            "stream": 0,
            "code": "relayed:policy",
            "side": "caller",
            "why": "the caller is relay-only: it checks from its TURN relayed address, and nothing is blocked.",
        },
        "nomination_style": "regular",
        "nomination_style_source": "this module: the caller checks the callee's candidates, then nominates the answered one with USE-CANDIDATE",
        "candidate_types_signaled": False,
        "vantage_points": {
            "capture.pcap": "the caller's LAN (10.10.0.10), inside its NAT",
            "callee-lan.pcap": "the callee's LAN (10.20.0.10), inside its NAT; clock 1.5 s behind",
        },
        "capture_facts": {
            "callee-lan.pcap": {
                "unobservable": ["connectivity", "cause"],
                "why": "on the callee's LAN the caller's relayed address (203.0.113.254:49200) is just an address: no "
                "TURN message and no signaling in callee-lan.pcap says it is a relay (the caller's Allocate and its "
                "TURN framing stay on the caller's side), so neither the connectivity nor the relay-only policy shows",
            }
        },
        "agents": {
            "caller": {
                "software": "synthetic (captures/synthetic/builder.py)",
                "role": "controlling",
                "ice_ufrag": CALLER_UFRAG,
                "ice_pwd": CALLER_PWD,
                "lan_address": CALLER_LAN[0],
                "public_address": CALLER_PUBLIC[0],
                "streams": [
                    {
                        "media": "audio",
                        "components": [
                            {
                                "component": 1,
                                "local_candidates": [relay],
                                "remote_candidates": [host, srflx],
                                "checklist": caller_list,
                                "selected": selected,
                            }
                        ],
                    }
                ],
            },
            "callee": {
                "software": "synthetic (captures/synthetic/builder.py)",
                "role": "controlled",
                "ice_ufrag": CALLEE_UFRAG,
                "ice_pwd": CALLEE_PWD,
                "lan_address": CALLEE_HOST[0],
                "public_address": CALLEE_PUBLIC[0],
                "streams": [
                    {
                        "media": "audio",
                        "components": [
                            {
                                "component": 1,
                                "local_candidates": [host, srflx],
                                "remote_candidates": [relay],
                                "checklist": callee_list,
                                "selected": {
                                    "local": host["address"],
                                    "local_type": "host",
                                    "remote": relay["address"],
                                    "remote_type": "relay",
                                    "transport": "udp",
                                },
                            }
                        ],
                    }
                ],
            },
        },
    }


def write(folder: Path = HERE / NAME, callee_clock: float = CALLEE_CLOCK) -> list[Path]:
    """The two taps; `callee_clock` moves the callee's capture clock (the corpus copy: 1.5 s behind)."""
    caller, callee = build(callee_clock)
    caller.write(folder, truth())
    wrpcap(str(folder / "callee-lan.pcap"), sorted(callee.packets, key=lambda p: float(p.time)))
    return [folder / "capture.pcap", folder / "callee-lan.pcap"]


if __name__ == "__main__":
    for path in write():
        print(path)
