"""A pair checked both ways, captured on one agent's LAN: each direction's figures apart.

The local agent (controlled, 192.168.10.20:50000 behind a NAT that presents it as
198.51.100.10:50000) is where the capture was taken; the remote agent (controlling) has the public
address 203.0.113.50:40000. The remote agent sends three checks (the third with USE-CANDIDATE), each
answered by the local agent 0.26 ms after it arrived; the local agent sends two checks (the first
sent twice: its first transmission got no answer), which come back 7.2 and 6.3 ms after their last
transmission. The pair's round trip is the local agent's 6.3 ms, not its 0.26 ms answering time,
and each agent's checks are counted under it: three, and two (three transmissions).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, HOST_PRIORITY, PRFLX_PRIORITY, Capture, dtls_record, ice_check, ice_success  # noqa: E402
from truth_agents import agent, candidate, one_pair  # noqa: E402

NAME = "pair_directions"
LOCAL = ("192.168.10.20", 50000)
LOCAL_PUBLIC = ("198.51.100.10", 50000)
REMOTE = ("203.0.113.50", 40000)
LOCAL_UFRAG, LOCAL_PWD = "LOCL", "local-password-0123456789"
REMOTE_UFRAG, REMOTE_PWD = "RMTE", "remote-password-0123456789"
ANSWER = 0.00026  # the local agent's answering time
ROUND_TRIPS = (0.0072, 0.0063)  # the local agent's checks, request out -> response in
REMOTE_PRIORITY = HOST_PRIORITY  # the remote agent's host candidate, and its checks' PRIORITY
LOCAL_PRIORITY = PRFLX_PRIORITY  # the local agent's checks' PRIORITY: the prflx priority


def build(local: tuple[str, int] = LOCAL, local_public: tuple[str, int] = LOCAL_PUBLIC) -> Capture:
    """The exchange as captured beside the local agent (at `local`, seen by the peer as `local_public`)."""
    cap = Capture()

    def remote_check(label: str, t: float, nominate: bool = False) -> None:
        check = ice_check(label, REMOTE_UFRAG, LOCAL_UFRAG, LOCAL_PWD, REMOTE_PRIORITY, True, nominate)
        cap.udp(t, REMOTE, local, check)
        cap.udp(t + ANSWER, local, REMOTE, ice_success(label, REMOTE, LOCAL_PWD))

    def local_check(label: str, t: float, rtt: float, resend_after: float | None = None) -> None:
        check = ice_check(label, LOCAL_UFRAG, REMOTE_UFRAG, REMOTE_PWD, LOCAL_PRIORITY, False)
        cap.udp(t, local, REMOTE, check)
        if resend_after is not None:  # the first transmission got no answer (RFC 5389 §7.2.1)
            t += resend_after
            cap.udp(t, local, REMOTE, check)
        cap.udp(t + rtt, REMOTE, local, ice_success(label, local_public, REMOTE_PWD))

    remote_check("remote-1", 0.100)
    local_check("local-1", 0.150, ROUND_TRIPS[0], resend_after=0.5)  # lost beyond the tap, sent again
    remote_check("remote-2", 0.300)
    local_check("local-2", 0.850, ROUND_TRIPS[1])
    remote_check("remote-3", 1.000, nominate=True)
    for n in range(5):  # DTLS once the pair is nominated
        cap.udp(1.1 + 0.02 * n, REMOTE, local, dtls_record(seq=n))
        cap.udp(1.11 + 0.02 * n, local, REMOTE, dtls_record(seq=n))
    return cap


def truth(
    local: tuple[str, int] = LOCAL, local_public: tuple[str, int] = LOCAL_PUBLIC, name: str = NAME, where: str = ""
) -> dict:
    local_host = candidate(local, "host", HOST_PRIORITY, "1")
    remote_host = candidate(REMOTE, "host", REMOTE_PRIORITY, "1")
    local_view, remote_view = one_pair(local_host, remote_host), one_pair(remote_host, local_host)
    return {
        "scenario": name,
        "description": __doc__.strip().splitlines()[0],
        "expected_outcome": "connected",
        "expected_connectivity": "DIRECT",
        "expected_cause": {
            "stream": 0,
            "code": "direct",
            "side": "both",
            "why": "nothing is blocked: the one pair works both ways and DTLS follows.",
        },
        "nomination_style": "regular",
        "nomination_style_source": "this module: the remote (controlling) agent's third check carries USE-CANDIDATE, its first two do not",
        "candidate_types_signaled": False,
        "vantage_points": {"capture.pcap": where or "the local (controlled) agent's LAN, inside its NAT"},
        "agents": {
            "local": agent("controlled", LOCAL_UFRAG, LOCAL_PWD, local[0], local_public[0], [local_view]),
            "remote": agent("controlling", REMOTE_UFRAG, REMOTE_PWD, REMOTE[0], REMOTE[0], [remote_view]),
        },
    }


def write(folder: Path = HERE / NAME) -> Path:
    return build().write(folder, truth())


if __name__ == "__main__":
    print(write())
