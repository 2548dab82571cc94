"""A controlling agent nominates from one socket once, then keeps nominating from another.

Usage: python captures/synthetic/stale_nomination.py   (writes stale_nomination/ beside this file)

Seen in a real capture: the controlling agent checked once from socket A (aggressive nomination,
USE-CANDIDATE on every check) and answered the peer's checks there with 500 and 401 error
responses (401s also went out from socket B), while from socket B it kept checking with
USE-CANDIDATE every 0.5 s for the rest of the capture, both components, every check answered.
A's host candidate has the higher priority, so RFC 8445 §8.1.1 alone would name A's pairs; the
packets say B's pairs are the ones in use. SIP (INVITE, 200 OK) runs in clear over UDP on the
same LAN, where the capture is taken.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, Capture, audio_sdp, ice_check, ice_error, ice_success, priority  # noqa: E402
from truth_agents import agent, candidate, component, mirrored_component, pair_of, selected  # noqa: E402

NAME = "stale_nomination"
LEFT_IP, LEFT_B_IP, RIGHT_IP = "192.168.1.10", "10.99.0.2", "192.168.1.20"
A = {1: (LEFT_IP, 40000), 2: (LEFT_IP, 40001)}  # socket A: the LAN interface
B = {1: (LEFT_B_IP, 41000), 2: (LEFT_B_IP, 41001)}  # socket B: a second interface
R = {1: (RIGHT_IP, 50000), 2: (RIGHT_IP, 50001)}
LEFT_UFRAG, LEFT_PWD = "lfAa", "leftpassword0123456789ab"
RIGHT_UFRAG, RIGHT_PWD = "rgBb", "rightpassword0123456789a"
CALL_ID = "stale-nomination@192.168.1.10"
END = 10.0  # seconds of capture
SEEN = "synthetic (pattern seen in a real capture)"


A_PREF, B_PREF, R_PREF = 65535, 32767, 65535


def _candidates(foundation: str, sockets: dict[int, tuple[str, int]], preference: int) -> list[str]:
    return [
        f"a=candidate:{foundation} {c} UDP {priority(126, c, preference)} {ip} {port} typ host"
        for c, (ip, port) in sockets.items()
    ]


def _sip(start: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = [start, *(f"{k}: {v}" for k, v in headers)]
    head += ["Content-Type: application/sdp", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def build() -> tuple[Capture, dict]:
    cap = Capture()
    left_sip, right_sip = (LEFT_IP, 5060), (RIGHT_IP, 5060)
    offer = audio_sdp(
        1001,
        LEFT_IP,
        LEFT_UFRAG,
        LEFT_PWD,
        _candidates("1", A, A_PREF) + _candidates("2", B, B_PREF),
        A[1][1],
    )
    answer = audio_sdp(2002, RIGHT_IP, RIGHT_UFRAG, RIGHT_PWD, _candidates("1", R, R_PREF), R[1][1])
    common = [
        ("Call-ID", CALL_ID),
        ("From", "<sip:left@example.test>;tag=lefttag"),
        ("Max-Forwards", "70"),
    ]
    cap.udp(
        0.0,
        left_sip,
        right_sip,
        _sip(
            "INVITE sip:right@192.168.1.20 SIP/2.0",
            [
                ("Via", "SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKstale1"),
                *common,
                ("To", "<sip:right@example.test>"),
                ("CSeq", "1 INVITE"),
                ("Contact", "<sip:left@192.168.1.10:5060>"),
            ],
            offer,
        ),
    )
    cap.udp(
        0.05,
        right_sip,
        left_sip,
        _sip(
            "SIP/2.0 200 OK",
            [
                ("Via", "SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKstale1"),
                *common,
                ("To", "<sip:right@example.test>;tag=righttag"),
                ("CSeq", "1 INVITE"),
                ("Contact", "<sip:right@192.168.1.20:5060>"),
            ],
            answer,
        ),
    )

    def left_check(t: float, label: str, src: tuple[str, int], dst: tuple[str, int], comp: int, pref: int) -> None:
        check = ice_check(label, LEFT_UFRAG, RIGHT_UFRAG, RIGHT_PWD, priority(126, comp, pref), True, True)
        cap.udp(t, src, dst, check)
        cap.udp(t + 0.002, dst, src, ice_success(label, src, RIGHT_PWD))

    # socket A: one check per component (USE-CANDIDATE on every check: aggressive), both answered
    for comp in (1, 2):
        left_check(0.10 + comp * 0.02, f"A-{comp}", A[comp], R[comp], comp, A_PREF)
    # the peer's checks to A: A answers 500 (component 1) and 401 (component 2)
    for comp, (code, reason) in ((1, (500, "Server Error")), (2, (401, "Unauthorized"))):
        label = f"R-A-{comp}"
        prio = priority(110, comp, R_PREF)  # peer-reflexive priority in checks
        cap.udp(0.20 + comp * 0.02, R[comp], A[comp], ice_check(label, RIGHT_UFRAG, LEFT_UFRAG, LEFT_PWD, prio, False))
        signed = LEFT_PWD if code != 401 else None  # RFC 8445 §7.3.1.1: a 401 goes unsigned
        cap.udp(0.201 + comp * 0.02, A[comp], R[comp], ice_error(label, code, reason, signed))
    # the peer's checks to B: answered 401
    for comp in (1, 2):
        label = f"R-B-{comp}"
        prio = priority(110, comp, R_PREF)
        cap.udp(0.30 + comp * 0.02, R[comp], B[comp], ice_check(label, RIGHT_UFRAG, LEFT_UFRAG, LEFT_PWD, prio, False))
        cap.udp(0.301 + comp * 0.02, B[comp], R[comp], ice_error(label, 401, "Unauthorized"))
    # socket B: USE-CANDIDATE every 0.5 s on both components until the capture ends, all answered
    n = 0
    t = 0.40
    while t < END:
        for comp in (1, 2):
            left_check(t + comp * 0.01, f"B-{comp}-{n}", B[comp], R[comp], comp, B_PREF)
        n += 1
        t += 0.5
    return cap, truth()


def truth() -> dict:
    def left_view(comp: int) -> dict:
        a, b, r = (
            candidate(sockets[comp], "host", priority(126, comp, preference), foundation, component=comp)
            for sockets, foundation, preference in ((A, "1", A_PREF), (B, "2", B_PREF), (R, "1", R_PREF))
        )
        from_a, from_b = pair_of(a, r), pair_of(b, r)
        return component([a, b], [r], [from_a, from_b], selected(from_b), comp)

    left = [left_view(1), left_view(2)]
    right = [mirrored_component(view) for view in left]
    return {
        "scenario": NAME,
        "description": __doc__.split("\n\n")[1].replace("\n", " "),
        "expected_outcome": "connected",
        "expected_connectivity": "DIRECT",
        "expected_cause": {
            "stream": 0,
            "code": "connected:no-media",
            "side": "both",
            "why": "the pairs from socket B are checked and answered for the rest of the capture, and no media is sent.",
        },
        "nomination_style": "aggressive",
        "nomination_style_source": "this module: every check of the controlling agent, from both sockets, carries USE-CANDIDATE",
        "candidate_types_signaled": True,
        "vantage_points": {"capture.pcap": "the LAN both agents share"},
        "agents": {
            "left": agent("controlling", LEFT_UFRAG, LEFT_PWD, LEFT_IP, None, left, software=SEEN),
            "right": agent("controlled", RIGHT_UFRAG, RIGHT_PWD, RIGHT_IP, None, right, software="synthetic"),
        },
    }


def write(folder: Path = HERE / NAME) -> Path:
    cap, data = build()
    return cap.write(folder, data)


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / NAME))
