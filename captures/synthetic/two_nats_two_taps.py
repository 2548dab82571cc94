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

from builder import (  # noqa: E402
    HERE,
    HOST_PRIORITY,
    PRFLX_PRIORITY,
    RELAY_PRIORITY,
    SRFLX_PRIORITY,
    Capture,
    encode_stun,
    ice_check,
    ice_success,
    tid,
    turn_data,
    turn_send,
)
from truth_agents import agent, candidate, component, pair_of, selected  # noqa: E402

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
                caller.udp(t + delay, CALLER_LAN, TURN, turn_send(f"{label}-{n}", to, check))
            return
        caller.udp(t, CALLER_LAN, TURN, turn_send(label, to, check))
        at_callee(t + HOP, RELAYED, CALLEE_HOST, check)
        answer = ice_success(label, RELAYED, CALLEE_PWD)
        at_callee(t + HOP + ANSWER, CALLEE_HOST, RELAYED, answer)
        caller.udp(t + 2 * HOP + ANSWER, TURN, CALLER_LAN, turn_data(label, to, answer))

    def callee_check(label: str, t: float, lost_first: bool = False) -> None:
        check = ice_check(label, CALLEE_UFRAG, CALLER_UFRAG, CALLER_PWD, PRFLX_PRIORITY, False)
        if lost_first:  # this transmission never reached the relay
            at_callee(t, CALLEE_HOST, RELAYED, check)
            t += 0.5
        at_callee(t, CALLEE_HOST, RELAYED, check)
        caller.udp(t + HOP, TURN, CALLER_LAN, turn_data(label, CALLEE_PUBLIC, check))
        answer = ice_success(label, CALLEE_PUBLIC, CALLER_PWD)
        caller.udp(t + HOP + CALLER_ANSWER, CALLER_LAN, TURN, turn_send(label, CALLEE_PUBLIC, answer))
        at_callee(t + 2 * HOP + CALLER_ANSWER, RELAYED, CALLEE_HOST, answer)

    caller_check("to-host", 0.100, CALLEE_HOST, answered=False)
    caller_check("to-srflx", 0.120, CALLEE_PUBLIC)
    callee_check("from-callee-1", 0.140)
    caller_check("nominate", 0.300, CALLEE_PUBLIC, nominate=True)
    callee_check("from-callee-2", 0.500, lost_first=True)
    return caller, callee


def truth() -> dict:
    relay = candidate(RELAYED, "relay", RELAY_PRIORITY, "r1", "198.51.100.10:50000")
    host = candidate(CALLEE_HOST, "host", HOST_PRIORITY, "h1")
    srflx = candidate(CALLEE_PUBLIC, "srflx", SRFLX_PRIORITY, "s1", "10.20.0.10:59253")
    dead, works = pair_of(relay, host, "failed", nominated=False), pair_of(relay, srflx)
    caller_view = component([relay], [host, srflx], [dead, works], selected(works))
    reached = pair_of(host, relay)
    callee_view = component([host, srflx], [relay], [reached], selected(reached))
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
            "caller": agent("controlling", CALLER_UFRAG, CALLER_PWD, CALLER_LAN[0], CALLER_PUBLIC[0], [caller_view]),
            "callee": agent("controlled", CALLEE_UFRAG, CALLEE_PWD, CALLEE_HOST[0], CALLEE_PUBLIC[0], [callee_view]),
        },
    }


def write(folder: Path = HERE / NAME, callee_clock: float = CALLEE_CLOCK) -> list[Path]:
    """The two taps; `callee_clock` moves the callee's capture clock (the corpus copy: 1.5 s behind)."""
    caller, callee = build(callee_clock)
    caller.write(folder, truth())
    callee.write_pcap(folder / "callee-lan.pcap")
    return [folder / "capture.pcap", folder / "callee-lan.pcap"]


if __name__ == "__main__":
    for path in write():
        print(path)
