"""SSDP beside SIP: `NOTIFY * HTTP/1.1` over UDP is HTTP (UPnP discovery), not SIP.

Pattern seen in a real home-network capture: a router announces itself with SSDP NOTIFY
datagrams to 239.255.255.250:1900 (UPnP Device Architecture 2.0 §1.2; HTTP over UDP), and a
host searches with M-SEARCH, while a phone registers with SIP. SIP shares the NOTIFY method name,
but its start line ends in SIP/2.0 (RFC 3261 §7.1). One more flow carries broken SIP: a device
repeats a REGISTER whose header lacks its colon; that flow's problem is one line with a count.

Invented: addresses (private and documentation ranges), the SSDP headers' values, timing.
Usage: python captures/synthetic/ssdp_not_sip.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder import HERE, Capture  # noqa: E402

NAME = "ssdp_not_sip"
ROUTER = ("192.168.30.1", 1900)
SSDP_GROUP = ("239.255.255.250", 1900)
SEARCHER = ("192.168.30.44", 50123)
PHONE = ("192.168.30.20", 5060)
REGISTRAR = ("198.51.100.5", 5060)
BROKEN = ("192.168.30.21", 5060)
NOTIFIES = 14
BROKEN_REPEATS = 3


def _notify(n: int) -> bytes:
    return (
        "NOTIFY * HTTP/1.1\r\n"
        "HOST: 239.255.255.250:1900\r\n"
        "CACHE-CONTROL: max-age=1800\r\n"
        "LOCATION: http://192.168.30.1:49152/rootDesc.xml\r\n"
        f"NT: urn:schemas-upnp-org:service:WANIPConnection:{1 + n % 2}\r\n"
        "NTS: ssdp:alive\r\n"
        "SERVER: Linux/5.10 UPnP/2.0 router/1.0\r\n"
        f"USN: uuid:00000000-0000-0000-0000-00000000000{n % 7}::upnp:rootdevice\r\n\r\n"
    ).encode()


_SEARCH = b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 2\r\nST: ssdp:all\r\n\r\n'


def _register(source: tuple[str, int], cseq: int, broken: bool = False) -> bytes:
    via = f"SIP/2.0/UDP {source[0]}:{source[1]};branch=z9hG4bK-{cseq}-{source[1]}"
    lines = [
        "REGISTER sip:example.net SIP/2.0",
        f"Via: {via}",
        "Max-Forwards: 70",
        f"From: <sip:{cseq}@example.net>;tag=t{cseq}",
        f"To: <sip:{cseq}@example.net>",
        f"Call-ID: reg-{source[0]}-{cseq}",
        f"CSeq: {cseq} REGISTER",
        f"Contact: <sip:phone@{source[0]}:{source[1]}>",
        "Expires 3600" if broken else "Expires: 3600",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _ok(cseq: int) -> bytes:
    via = f"SIP/2.0/UDP {PHONE[0]}:{PHONE[1]};branch=z9hG4bK-{cseq}-{PHONE[1]}"
    lines = [
        "SIP/2.0 200 OK",
        f"Via: {via}",
        f"From: <sip:{cseq}@example.net>;tag=t{cseq}",
        f"To: <sip:{cseq}@example.net>;tag=r{cseq}",
        f"Call-ID: reg-{PHONE[0]}-{cseq}",
        f"CSeq: {cseq} REGISTER",
        "Expires: 3600",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def build() -> tuple[Capture, dict]:
    cap = Capture()
    for n in range(NOTIFIES):
        cap.udp(n * 0.5, ROUTER, SSDP_GROUP, _notify(n))
    cap.udp(1.25, SEARCHER, SSDP_GROUP, _SEARCH)
    cap.udp(2.0, PHONE, REGISTRAR, _register(PHONE, 1))
    cap.udp(2.05, REGISTRAR, PHONE, _ok(1))
    for n in range(BROKEN_REPEATS):
        cap.udp(3.0 + n, BROKEN, REGISTRAR, _register(BROKEN, 10 + n, broken=True))
    truth = {
        "scenario": NAME,
        "description": (
            f"{NOTIFIES} SSDP NOTIFY * HTTP/1.1 datagrams and one M-SEARCH (HTTP over UDP), one SIP REGISTER "
            f"answered 200 OK, and a device sending {BROKEN_REPEATS} REGISTERs with a header line lacking its "
            "colon. No STUN, no ICE."
        ),
        "expected_outcome": "connected",
        "vantage_points": {"capture.pcap": "the home LAN"},
        "agents": {},
        "expected_verdicts": [],
        "sip_messages": 2,
        "problem_flows": [f"udp {BROKEN[0]}:{BROKEN[1]} -> {REGISTRAR[0]}:{REGISTRAR[1]}"],
    }
    return cap, truth


def write(folder: Path = HERE / NAME) -> Path:
    cap, truth = build()
    return cap.write(folder, truth)


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / NAME))
