"""A gateway that signals a=ice-lite but checks like a full agent, captured on its own interface.

The gateway (an SFU on the public address 198.51.100.40:20000, no NAT) answers the browser's offer
(`offer.sdp`) with `answer.sdp`: a=ice-lite and its public host candidate only. A lite agent never
sends checks (RFC 8445 §2.5) and is always controlled (§6.1.1), so the browser (192.168.20.10:50000
behind a NAT that maps it to 203.0.113.30:50000) takes the controlling role and nominates with
USE-CANDIDATE. This gateway also sends checks of its own, with ICE-CONTROLLED, both to the
browser's mapped address (answered) and to its host address (never delivered): the deviation is
what the story must note, since with checks both ways the rule that only the full agent checks and
nominates no longer describes the call. The capture is the gateway's own interface, so it sees the
browser only by its NAT mapping; media (RTP, 20 packets each way over 12 s) follows on the
nominated pair, while the checks to the host address time out.
Everything here is invented: addresses from documentation ranges, ufrags, passwords, timings.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, HOST_PRIORITY, PRFLX_PRIORITY, SRFLX_PRIORITY, Capture, ice_check, ice_success, rtp_payload  # noqa: E402
from truth_agents import agent, candidate, component, pair_of, selected  # noqa: E402

NAME = "lite_gateway_checks"
GATEWAY = ("198.51.100.40", 20000)
BROWSER_HOST = ("192.168.20.10", 50000)
BROWSER_PUBLIC = ("203.0.113.30", 50000)
BROWSER_UFRAG, BROWSER_PWD = "BRWS", "browser-password-0123456789"
GATEWAY_UFRAG, GATEWAY_PWD = "GTWY", "gateway-password-0123456789"

OFFER = f"""v=0
o=- 1 1 IN IP4 203.0.113.30
s=-
c=IN IP4 203.0.113.30
t=0 0
m=audio 50000 RTP/AVP 0
a=ice-ufrag:{BROWSER_UFRAG}
a=ice-pwd:{BROWSER_PWD}
a=candidate:1 1 UDP {HOST_PRIORITY} 192.168.20.10 50000 typ host
a=candidate:2 1 UDP {SRFLX_PRIORITY} 203.0.113.30 50000 typ srflx raddr 192.168.20.10 rport 50000
"""

ANSWER = f"""v=0
o=- 2 1 IN IP4 198.51.100.40
s=-
c=IN IP4 198.51.100.40
t=0 0
a=ice-lite
m=audio 20000 RTP/AVP 0
a=ice-ufrag:{GATEWAY_UFRAG}
a=ice-pwd:{GATEWAY_PWD}
a=candidate:1 1 UDP {HOST_PRIORITY} 198.51.100.40 20000 typ host
"""


def build() -> Capture:
    cap = Capture()

    def browser_check(label: str, t: float, nominate: bool) -> None:
        check = ice_check(label, BROWSER_UFRAG, GATEWAY_UFRAG, GATEWAY_PWD, PRFLX_PRIORITY, True, nominate)
        cap.udp(t, BROWSER_PUBLIC, GATEWAY, check)
        cap.udp(t + 0.0002, GATEWAY, BROWSER_PUBLIC, ice_success(label, BROWSER_PUBLIC, GATEWAY_PWD))

    def gateway_check(label: str, t: float, to: tuple[str, int], answered: bool) -> None:
        check = ice_check(label, GATEWAY_UFRAG, BROWSER_UFRAG, BROWSER_PWD, HOST_PRIORITY, False)
        for n, again in enumerate((0.0, 0.5, 1.5)):
            cap.udp(t + again, GATEWAY, to, check)
            if answered:
                cap.udp(t + 0.030, to, GATEWAY, ice_success(label, GATEWAY, BROWSER_PWD))
                return
            if n == 2:
                return

    browser_check("browser-1", 0.100, nominate=False)
    gateway_check("gateway-host", 0.105, BROWSER_HOST, answered=False)  # a private address: never delivered
    gateway_check("gateway-public", 0.110, BROWSER_PUBLIC, answered=True)
    browser_check("browser-2", 0.200, nominate=True)
    for i in range(20):  # 12 s of media: the check to the host address times out meanwhile
        cap.udp(0.300 + i * 0.6, BROWSER_PUBLIC, GATEWAY, rtp_payload(i, 0x1111))
        cap.udp(0.305 + i * 0.6, GATEWAY, BROWSER_PUBLIC, rtp_payload(i, 0x2222))
    return cap


def truth() -> dict:
    browser_host = candidate(BROWSER_HOST, "host", HOST_PRIORITY, "host")
    browser_srflx = candidate(BROWSER_PUBLIC, "srflx", SRFLX_PRIORITY, "srflx", "192.168.20.10:50000")
    gateway_host = candidate(GATEWAY, "host", HOST_PRIORITY, "host")
    browser_pair = pair_of(browser_host, gateway_host)
    gateway_pair = pair_of(gateway_host, browser_srflx)
    failed = pair_of(gateway_host, browser_host, "failed", nominated=False)
    browser = [browser_host, browser_srflx]
    browser_view = component(browser, [gateway_host], [browser_pair], selected(browser_pair))
    gateway_view = component([gateway_host], browser, [gateway_pair, failed], selected(gateway_pair))
    return {
        "scenario": NAME,
        "description": __doc__.strip().splitlines()[0],
        "expected_outcome": "connected",
        "expected_connectivity": "DIRECT",
        "expected_cause": {
            "stream": 0,
            "code": "direct",
            "side": "both",
            "why": "nothing is blocked: the browser's NAT mapping reaches the gateway's public host address and RTP "
            "follows on that pair; its private host address could never be reached from the gateway.",
        },
        "nomination_style": "regular",
        "nomination_style_source": "this module: the browser checks once without USE-CANDIDATE, then nominates",
        "candidate_types_signaled": True,
        "expected_verdicts": ["LITE-CHECKS"],
        "vantage_points": {"capture.pcap": "the gateway's own interface (a public address, no NAT)"},
        "agents": {
            "browser": agent(
                "controlling", BROWSER_UFRAG, BROWSER_PWD, BROWSER_HOST[0], BROWSER_PUBLIC[0], [browser_view]
            ),
            "gateway": agent("controlled", GATEWAY_UFRAG, GATEWAY_PWD, GATEWAY[0], GATEWAY[0], [gateway_view]),
        },
    }


def write(folder: Path = HERE / NAME) -> Path:
    return build().write(folder, truth(), {"offer.sdp": OFFER, "answer.sdp": ANSWER})


if __name__ == "__main__":
    print(write())
