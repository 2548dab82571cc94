"""A multi-homed caller: 60 candidate pairs, most of them dead ends, one per component connects.

Usage: python captures/synthetic/many_pairs.py   (writes many_pairs/ beside this file)

Seen on laptops with a VPN, Docker and virtual-machine bridges: the caller gathers a host candidate
on each of five interfaces; the callee, behind a NAT, offers three host, two server-reflexive and one
relayed candidate per component. Every local interface checks every remote candidate, two components:
60 pairs. Private remote addresses never answer (three sends each, then the agent gives up, as browser
agents do), one check draws a 487 Role Conflict, one success arrives with a MESSAGE-INTEGRITY made with
the wrong password, the relayed and server-reflexive pairs from the LAN interface succeed, and the caller
nominates the server-reflexive one (regular nomination). Media then flows on it until the BYE.
The capture is taken on the caller's machine, on all interfaces; SIP runs in clear over UDP.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, Capture, audio_sdp, ice_check, ice_error, ice_success, rtp_payload  # noqa: E402
from truth_agents import agent, candidate, component, mirrored_component, pair, selected, text  # noqa: E402

NAME = "many_pairs"
CALLER_IPS = ("192.168.1.10", "10.8.0.2", "172.17.0.1", "192.168.122.1", "100.64.0.5")
CALLEE_HOSTS = ("192.168.2.20", "10.9.0.3", "172.18.0.1")
CALLEE_SRFLX = (("198.51.100.20", 53120), ("198.51.100.21", 53200))
CALLEE_RELAY = ("203.0.113.254", 49170)
PROXY = ("192.0.2.5", 5060)
CALLER_UFRAG, CALLER_PWD = "mpCa", "manypairscallerpassword1"
CALLEE_UFRAG, CALLEE_PWD = "mpCe", "manypairscalleepassword2"
CALL_ID = "many-pairs@192.168.1.10"
TYPE_PREF = {"host": 126, "srflx": 100, "relay": 0}
START = 0.30  # first check, after the 183 carried the answer
PACE = 0.02  # Ta: one new check every 20 ms (RFC 8445 §14.2)
RETRANSMIT = (0.0, 0.5, 1.5)  # three sends, then the pair fails
BYE = 12.0
SOFTWARE = "synthetic (pattern seen on multi-homed hosts)"


def priority(kind: str, local_pref: int, comp: int) -> int:
    """RFC 8445 §5.1.2.1."""
    return (TYPE_PREF[kind] << 24) | (local_pref << 8) | (256 - comp)


def caller_candidates(comp: int) -> list[tuple[str, tuple[str, int], int]]:
    """(type, address, priority) per interface, in preference order."""
    return [
        ("host", (ip, 40000 + 2 * i + comp - 1), priority("host", 65535 - i, comp)) for i, ip in enumerate(CALLER_IPS)
    ]


def callee_candidates(comp: int) -> list[tuple[str, tuple[str, int], int]]:
    out = [
        ("host", (ip, 50000 + 2 * i + comp - 1), priority("host", 65535 - i, comp)) for i, ip in enumerate(CALLEE_HOSTS)
    ]
    out += [
        ("srflx", (ip, port + comp - 1), priority("srflx", 65535 - i, comp))
        for i, (ip, port) in enumerate(CALLEE_SRFLX)
    ]
    out.append(("relay", (CALLEE_RELAY[0], CALLEE_RELAY[1] + comp - 1), priority("relay", 65535, comp)))
    return out


def outcome(local: int, remote_kind: str, remote: int) -> str:
    """What answers a check from the caller's interface `local` to the callee's candidate `remote`."""
    if remote_kind == "host":
        return "timeout"  # the callee's private addresses are not routable from here
    if local == 0 and remote_kind in ("srflx", "relay") and remote in (3, 5):
        return "success"  # the LAN interface reaches the first NAT mapping and the relay
    if local == 4 and remote == 3:
        return "role-conflict"
    if local == 1 and remote == 5:
        return "bad-integrity"  # the VPN path reaches the relay; its answer fails MESSAGE-INTEGRITY
    return "timeout"


def _lines(candidates: list[tuple[str, tuple[str, int], int]], comp: int, related: bool) -> list[str]:
    out = []
    for i, (kind, (ip, port), prio) in enumerate(candidates):
        extra = f" raddr {CALLEE_HOSTS[0]} rport {50000 + comp - 1}" if related and kind != "host" else ""
        out.append(f"a=candidate:{kind[0]}{i} {comp} UDP {prio} {ip} {port} typ {kind}{extra}")
    return out


def _sip(start: str, cseq: str, to_tag: str | None, body: bytes = b"") -> bytes:
    headers = [
        start,
        f"Via: SIP/2.0/UDP {CALLER_IPS[0]}:5060;branch=z9hG4bKmany{cseq.split()[0]}",
        "From: <sip:caller@example.test>;tag=callertag",
        "To: <sip:callee@example.test>" + (f";tag={to_tag}" if to_tag else ""),
        f"Call-ID: {CALL_ID}",
        f"CSeq: {cseq}",
        "Max-Forwards: 70",
        f"Contact: <sip:caller@{CALLER_IPS[0]}:5060>",
    ]
    if body:
        headers.append("Content-Type: application/sdp")
    headers.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


def build() -> tuple[Capture, dict]:
    cap = Capture()
    me = (CALLER_IPS[0], 5060)
    offer = audio_sdp(
        3001,
        CALLER_IPS[0],
        CALLER_UFRAG,
        CALLER_PWD,
        [line for comp in (1, 2) for line in _lines(caller_candidates(comp), comp, False)],
        40000,
    )
    answer = audio_sdp(
        4002,
        CALLEE_SRFLX[0][0],
        CALLEE_UFRAG,
        CALLEE_PWD,
        [line for comp in (1, 2) for line in _lines(callee_candidates(comp), comp, True)],
        CALLEE_SRFLX[0][1],
    )
    cap.udp(0.0, me, PROXY, _sip("INVITE sip:callee@example.test SIP/2.0", "1 INVITE", None, offer))
    cap.udp(0.05, PROXY, me, _sip("SIP/2.0 100 Trying", "1 INVITE", None))
    cap.udp(0.25, PROXY, me, _sip("SIP/2.0 183 Session Progress", "1 INVITE", "calleetag", answer))
    t = START
    successes: dict[int, list[tuple[tuple[str, int], tuple[str, int], int]]] = {1: [], 2: []}
    for comp in (1, 2):
        for li, (_, local, _lp) in enumerate(caller_candidates(comp)):
            for ri, (_, remote, _rp) in enumerate(callee_candidates(comp)):
                label = f"c{comp}-{li}-{ri}"
                prflx = priority("host", 65535 - li, comp) - ((126 - 110) << 24)  # peer-reflexive form
                check = ice_check(label, CALLER_UFRAG, CALLEE_UFRAG, CALLEE_PWD, prflx, True)
                result = outcome(li, callee_candidates(comp)[ri][0], ri)
                if result == "timeout":
                    for delay in RETRANSMIT:
                        cap.udp(t + delay, local, remote, check)
                elif result == "role-conflict":
                    cap.udp(t, local, remote, check)
                    cap.udp(t + 0.031, remote, local, ice_error(label, 487, "Role Conflict", CALLEE_PWD))
                elif result == "bad-integrity":
                    cap.udp(t, local, remote, check)
                    cap.udp(t + 0.045, remote, local, ice_success(label, local, "not-the-callee-password"))
                else:
                    rtt = 0.028 if ri == 3 else 0.061
                    cap.udp(t, local, remote, check)
                    cap.udp(t + rtt, remote, local, ice_success(label, local, CALLEE_PWD))
                    successes[comp].append((local, remote, prflx))
                t += PACE
    # the callee's checks on the pairs that work (triggered, from its NAT mapping and its relay)
    t += 0.05
    for comp in (1, 2):
        for n, (local, remote, _prio) in enumerate(successes[comp]):
            label = f"callee-c{comp}-{n}"
            prio = priority("srflx", 65535, comp)
            cap.udp(t, remote, local, ice_check(label, CALLEE_UFRAG, CALLER_UFRAG, CALLER_PWD, prio, False))
            cap.udp(t + 0.001, local, remote, ice_success(label, remote, CALLER_PWD))
            t += PACE
    # regular nomination: the best succeeded pair (server-reflexive) again, with USE-CANDIDATE
    t += 0.2
    chosen = {}
    for comp in (1, 2):
        local, remote, prio = successes[comp][0]
        label = f"nominate-c{comp}"
        cap.udp(t, local, remote, ice_check(label, CALLER_UFRAG, CALLEE_UFRAG, CALLEE_PWD, prio, True, True))
        cap.udp(t + 0.028, remote, local, ice_success(label, local, CALLEE_PWD))
        chosen[comp] = (local, remote)
        t += PACE
    cap.udp(t + 0.1, PROXY, me, _sip("SIP/2.0 200 OK", "1 INVITE", "calleetag", answer))
    cap.udp(t + 0.11, me, PROXY, _sip("ACK sip:callee@example.test SIP/2.0", "1 ACK", "calleetag"))
    # media on the nominated pairs: RTP on component 1, RTCP every 5 s on component 2
    media_start, seq = t + 0.15, 0
    m = media_start
    while m < BYE - 0.1:
        cap.udp(m, *chosen[1], rtp_payload(seq, 0xAAAA0001))
        cap.udp(m + 0.004, chosen[1][1], chosen[1][0], rtp_payload(seq, 0xBBBB0002))
        seq += 1
        m += 0.05
    for n, when in enumerate((media_start + 1.0, media_start + 6.0)):
        for ssrc, (src, dst) in ((0xAAAA0001, chosen[2]), (0xBBBB0002, chosen[2][::-1])):
            rtcp = bytes([0x80, 200, 0, 6]) + ssrc.to_bytes(4, "big") + bytes(20 + n)
            cap.udp(when + (0.01 if ssrc == 0xBBBB0002 else 0.0), src, dst, rtcp)
    cap.udp(BYE, me, PROXY, _sip("BYE sip:callee@example.test SIP/2.0", "2 BYE", "calleetag"))
    cap.udp(BYE + 0.06, PROXY, me, _sip("SIP/2.0 200 OK", "2 BYE", "calleetag"))
    return cap, truth(chosen)


def truth(chosen: dict[int, tuple[tuple[str, int], tuple[str, int]]]) -> dict:
    def caller_view(comp: int) -> dict:
        mine, theirs = caller_candidates(comp), callee_candidates(comp)
        related = f"{CALLEE_HOSTS[0]}:{50000 + comp - 1}"
        local = [candidate(a, k, p, f"{k[0]}{i}", component=comp) for i, (k, a, p) in enumerate(mine)]
        remote = [
            candidate(a, k, p, f"{k[0]}{i}", None if k == "host" else related, comp)
            for i, (k, a, p) in enumerate(theirs)
        ]
        checklist = []
        for li, (lk, la, _) in enumerate(mine):
            for ri, (rk, ra, _) in enumerate(theirs):
                state = "succeeded" if outcome(li, rk, ri) == "success" else "failed"
                checklist.append(pair(text(la), lk, text(ra), rk, state, (la, ra) == chosen[comp]))
        la, ra = chosen[comp]
        return component(local, remote, checklist, selected(pair(text(la), "host", text(ra), "srflx")), comp)

    caller = [caller_view(1), caller_view(2)]
    callee = [mirrored_component(view) for view in caller]
    return {
        "scenario": NAME,
        "description": " ".join(__doc__.split("\n\n")[1].split()),
        "expected_outcome": "connected",
        "expected_connectivity": "DIRECT",
        "expected_cause": {
            "stream": 0,
            "code": "direct",
            "side": "both",
            "why": "the server-reflexive pairs from the LAN interface succeed and carry the call; the other interfaces' pairs could never work.",
        },
        "nomination_style": "regular",
        "nomination_style_source": "this module: the caller checks every pair, then nominates the best succeeded one with USE-CANDIDATE",
        "candidate_types_signaled": True,
        "vantage_points": {"capture.pcap": "the caller's machine, all interfaces"},
        "agents": {
            "caller": agent("controlling", CALLER_UFRAG, CALLER_PWD, CALLER_IPS[0], None, caller, software=SOFTWARE),
            "callee": agent(
                "controlled", CALLEE_UFRAG, CALLEE_PWD, CALLEE_HOSTS[0], CALLEE_SRFLX[0][0], callee, software=SOFTWARE
            ),
        },
    }


def write(folder: Path = HERE / NAME) -> Path:
    cap, data = build()
    return cap.write(folder, data)


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / NAME))
