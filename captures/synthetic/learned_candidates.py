"""A remote candidate learned from the wire: peer-reflexive, and its checks' PRIORITY is not its own.

The capture is on the local agent's LAN (controlled, 192.168.10.20:50000 behind a NAT that presents
it as 198.51.100.10:50000; its STUN server 203.0.113.254:3478 says so, so its server-reflexive
candidate has evidence). The remote agent (controlling) signaled only its host address
10.0.0.5:61000 (`offer.sdp`; `answer.sdp` is the local agent's) and sits behind a NAT that maps it to
203.0.113.77:61000: its checks arrive from that address with PRIORITY 1862270975, the priority
RFC 8445 §7.2.5.3.1 gives a peer-reflexive candidate, and the local agent answers them with that
address in XOR-MAPPED-ADDRESS. Nothing shows 203.0.113.77:61000 to be server-reflexive: with the
signaling it is a peer-reflexive candidate, without it a candidate of unknown type.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import (  # noqa: E402
    HERE,
    HOST_PRIORITY,
    PRFLX_PRIORITY,
    SRFLX_PRIORITY,
    Capture,
    encode_stun,
    ice_check,
    ice_success,
    tid,
)
from truth_agents import agent, candidate, component, pair_of, selected  # noqa: E402

NAME = "learned_candidates"
LOCAL = ("192.168.10.20", 50000)
LOCAL_PUBLIC = ("198.51.100.10", 50000)
STUN_SERVER = ("203.0.113.254", 3478)
REMOTE_HOST = ("10.0.0.5", 61000)
REMOTE_PUBLIC = ("203.0.113.77", 61000)
LOCAL_UFRAG, LOCAL_PWD = "LOCL", "local-password-0123456789"
REMOTE_UFRAG, REMOTE_PWD = "RMTE", "remote-password-0123456789"

OFFER = f"""v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 61000 RTP/AVP 0
a=ice-ufrag:{REMOTE_UFRAG}
a=ice-pwd:{REMOTE_PWD}
a=candidate:1 1 UDP {HOST_PRIORITY} 10.0.0.5 61000 typ host
"""

ANSWER = f"""v=0
o=- 2 1 IN IP4 198.51.100.10
s=-
c=IN IP4 198.51.100.10
t=0 0
m=audio 50000 RTP/AVP 0
a=ice-ufrag:{LOCAL_UFRAG}
a=ice-pwd:{LOCAL_PWD}
a=candidate:1 1 UDP {HOST_PRIORITY} 192.168.10.20 50000 typ host
a=candidate:2 1 UDP {SRFLX_PRIORITY} 198.51.100.10 50000 typ srflx raddr 192.168.10.20 rport 50000
"""


def build() -> Capture:
    cap = Capture()
    cap.udp(0.0, LOCAL, STUN_SERVER, encode_stun(0x0001, tid("stun"), []))
    cap.udp(0.01, STUN_SERVER, LOCAL, encode_stun(0x0101, tid("stun"), [("XOR-MAPPED-ADDRESS", LOCAL_PUBLIC)]))

    def remote_check(label: str, t: float, nominate: bool = False) -> None:
        check = ice_check(label, REMOTE_UFRAG, LOCAL_UFRAG, LOCAL_PWD, PRFLX_PRIORITY, True, nominate)
        cap.udp(t, REMOTE_PUBLIC, LOCAL, check)
        cap.udp(t + 0.0003, LOCAL, REMOTE_PUBLIC, ice_success(label, REMOTE_PUBLIC, LOCAL_PWD))

    remote_check("remote-1", 0.500)
    # the local agent's triggered check back to where the remote's came from (RFC 8445 §7.3.1.4)
    check = ice_check("local-1", LOCAL_UFRAG, REMOTE_UFRAG, REMOTE_PWD, PRFLX_PRIORITY, False)
    cap.udp(0.501, LOCAL, REMOTE_PUBLIC, check)
    cap.udp(0.541, REMOTE_PUBLIC, LOCAL, ice_success("local-1", LOCAL_PUBLIC, REMOTE_PWD))
    remote_check("remote-2", 0.700, nominate=True)
    return cap


def truth() -> dict:
    local_host = candidate(LOCAL, "host", HOST_PRIORITY, "host")
    local_srflx = candidate(LOCAL_PUBLIC, "srflx", SRFLX_PRIORITY, "srflx", "192.168.10.20:50000")
    remote_host = candidate(REMOTE_HOST, "host", HOST_PRIORITY, "host")
    remote_prflx = candidate(REMOTE_PUBLIC, "prflx", PRFLX_PRIORITY, "prflx")
    local_entry = pair_of(local_host, remote_prflx)
    remote_entry = pair_of(remote_host, local_srflx)
    local_view = component([local_host, local_srflx], [remote_host, remote_prflx], [local_entry], selected(local_entry))
    remote_view = component([remote_host], [local_host, local_srflx], [remote_entry], selected(remote_entry))
    return {
        "scenario": NAME,
        "description": __doc__.strip().splitlines()[0],
        "expected_outcome": "connected",
        "expected_connectivity": "DIRECT",
        "expected_cause": {
            "stream": 0,
            "code": "direct",
            "side": "both",
            "why": "nothing is blocked: the remote agent's checks from its NAT address are answered and that pair carries the call.",
        },
        "nomination_style": "regular",
        "nomination_style_source": "this module: the remote agent's first check carries no USE-CANDIDATE, its second does",
        "candidate_types_signaled": True,
        "vantage_points": {"capture.pcap": "the local (controlled) agent's LAN, inside its NAT"},
        "agents": {
            "local": agent("controlled", LOCAL_UFRAG, LOCAL_PWD, LOCAL[0], LOCAL_PUBLIC[0], [local_view]),
            "remote": agent("controlling", REMOTE_UFRAG, REMOTE_PWD, REMOTE_HOST[0], REMOTE_PUBLIC[0], [remote_view]),
        },
    }


def write(folder: Path = HERE / NAME) -> Path:
    return build().write(folder, truth(), {"offer.sdp": OFFER, "answer.sdp": ANSWER})


if __name__ == "__main__":
    print(write())
