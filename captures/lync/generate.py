"""Build the seed articles' Lync/OCS call as captures, byte for byte with icetrace's dissectors.

Usage: python captures/lync/generate.py [OUTDIR]   (default: captures/lync)

No Lync client runs here, so the call of "How Communicator Uses SDP and ICE" is
rebuilt: Alice at home behind a NAT, Bob inside the company, an A/V Edge. The
capture is taken on Alice's LAN. SIP is written in clear over TCP (real clients
use TLS on 5061) so the signaling can be read; a .uccapilog with the same SIP is
written beside it. Everything is deterministic: fixed ids, fixed times.
Each scenario directory holds capture.pcap and truth.json (schema in captures/README.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scapy.layers.inet import IP, TCP, UDP  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.utils import wrpcap  # noqa: E402

from dissectors.checks import long_term_key  # noqa: E402
from dissectors.codec import encode_stun  # noqa: E402

T0 = 1240395300.0  # 2009-04-22, the article's publication day
ALICE_MAC, GW_MAC = "00:15:5d:01:02:03", "00:1e:58:aa:bb:cc"

ALICE = "192.168.1.100"
ALICE_PUBLIC = "84.155.254.180"  # the seed's XOR-MAPPED example
EDGE = "198.51.100.20"  # A/V Edge external interface
PROXY = "203.0.113.5"  # Access Edge / proxy for SIP
BOB = "10.0.0.20"
MS_COOKIE_ATTR = ("MAGIC-COOKIE", 0x72C64BC6)
REALM = "SIP Communications Service"
TURN_USER = "AgAAJGvP4nMBynJpb0lGgKOIhNVSM3BQ"
TURN_PASS = "qg5ZgFAkmV8dIzLJ0TRhBLW+gRk="

ALICE_UFRAG, ALICE_PWD = "tUQb", "fe3rDX1dWz0M6RQJp2D8mwHc"
BOB_UFRAG, BOB_PWD = "Xo7r", "k9ZrV0wR7Nq1cK2mHd5pT8sE"


def tid(label: str, size: int = 12) -> bytes:
    """A stable transaction id per label, so regenerating gives identical bytes."""
    return hashlib.sha256(label.encode()).digest()[:size]


@dataclass
class Port:
    """One of Alice's sockets per component: host, and the socket that owns the allocation."""

    host: int
    turn: int
    relayed: int
    bob_host: int
    bob_relayed: int


PORTS = {1: Port(50036, 50033, 57309, 6000, 53000), 2: Port(50032, 50039, 54054, 6001, 53001)}


@dataclass
class Capture:
    packets: list = field(default_factory=list)
    tcp_seq: dict = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def udp(self, t: float, src: str, sport: int, dst: str, dport: int, payload: bytes) -> None:
        outgoing = src == ALICE
        eth = Ether(src=ALICE_MAC, dst=GW_MAC) if outgoing else Ether(src=GW_MAC, dst=ALICE_MAC)
        p = (
            eth
            / IP(src=src, dst=dst, id=len(self.packets) & 0xFFFF, ttl=128 if outgoing else 52)
            / UDP(sport=sport, dport=dport)
            / payload
        )
        p.time = T0 + t
        self.packets.append(p)

    def tcp(self, t: float, src: str, sport: int, dst: str, dport: int, payload: bytes) -> None:
        key = (src, sport, dst, dport)
        seq = self.tcp_seq.get(key, 1000 + (sport * 7) % 50000)
        outgoing = src == ALICE
        for i in range(0, len(payload), 1360):
            chunk = payload[i : i + 1360]
            eth = Ether(src=ALICE_MAC, dst=GW_MAC) if outgoing else Ether(src=GW_MAC, dst=ALICE_MAC)
            p = (
                eth
                / IP(src=src, dst=dst, id=len(self.packets) & 0xFFFF)
                / TCP(sport=sport, dport=dport, flags="PA", seq=seq, ack=1, window=64240)
                / chunk
            )
            p.time = T0 + t + i / 1e7
            self.packets.append(p)
            seq += len(chunk)
        self.tcp_seq[key] = seq

    def sip(self, t: float, message: bytes, outgoing: bool) -> None:
        if outgoing:
            self.tcp(t, ALICE, 50722, PROXY, 5060, message)
        else:
            self.tcp(t, PROXY, 5060, ALICE, 50722, message)
        stamp = _log_stamp(T0 + t)
        start, rest = message.decode().split("\r\n", 1)
        direction = "outgoing" if outgoing else "incoming"
        self.log.append(
            f"TL_INFO(TF_PROTOCOL) [0]0B1C.0F78::{stamp} (SIPStack,SIPAdminLog::TraceProtocolRecord:"
            f"SIPAdminLog.cpp(125))$$begin_record\nTrace-Correlation-Id: {len(self.log) + 1}\n"
            f'Instance-Id: {len(self.log):X}\nDirection: {direction};source="local"\nPeer: {PROXY}:5061\n'
            f"Message-Type: {'response' if start.startswith('SIP/2.0') else 'request'}\nStart-Line: {start}\n"
            + rest.replace("\r\n", "\n")
            + "$$end_record\n"
        )


def _log_stamp(epoch: float) -> str:
    import time

    tm = time.gmtime(epoch)
    return time.strftime("%m/%d/%Y-%H:%M:%S", tm) + f".{int(epoch * 1000) % 1000:03d}.0000{int(epoch) % 9999:04x}"


# -- SIP / SDP --------------------------------------------------------------------

CALL_ID = "a4c2e79c1f6d4b8f9d1e2c3b4a596877"
FROM = 'From: "Alice" <sip:alice@contoso.com>;tag=7c4b2f0a51;epid=3c8fa1b2d9'


def sip_message(start: str, headers: list[str], body: bytes = b"", ctype: str | None = None) -> bytes:
    lines = [start, *headers]
    if ctype:
        lines.append(f"Content-Type: {ctype}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def alice_ice19(final: int | None = None) -> str:
    lines = []
    for comp, p in PORTS.items():
        if final is not None and comp != final and final != 0:
            continue
        lines += [
            f"a=candidate:1 {comp} UDP {2130706432 - comp} {ALICE} {p.host} typ host",
            f"a=candidate:3 {comp} UDP {16648704 - comp} {EDGE} {p.relayed} typ relay raddr {ALICE_PUBLIC} rport {p.turn}",
            f"a=candidate:6 {comp} UDP {1694234624 - comp} {ALICE_PUBLIC} {p.turn} typ srflx raddr {ALICE} rport {p.turn}",
        ]
    lines += (
        [
            f"a=candidate:2 1 TCP-PASS 6556159 {EDGE} 52899 typ relay raddr {ALICE_PUBLIC} rport 52899",
            f"a=candidate:4 1 TCP-ACT 7076863 {EDGE} 52899 typ relay raddr {ALICE_PUBLIC} rport 52899",
        ]
        if final is None
        else []
    )
    return "\r\n".join(lines) + "\r\n"


def icev6_user(label: str) -> str:
    return base64.b64encode(hashlib.sha256(label.encode()).digest()).decode().rstrip("=")


def icev6_pass(label: str) -> str:
    return base64.b64encode(hashlib.md5(label.encode()).digest()).decode().rstrip("=")


def alice_icev6() -> str:
    lines = []
    for comp, p in PORTS.items():
        lines.append(
            f"a=candidate:{icev6_user('alice-host')} {comp} {icev6_pass('alice-host')} UDP 0.830 {ALICE} {p.host}"
        )
        lines.append(
            f"a=candidate:{icev6_user('alice-relay')} {comp} {icev6_pass('alice-relay')} UDP 0.450 {EDGE} {p.relayed}"
        )
    return "\r\n".join(lines) + "\r\n"


def sdp(
    candidates: str,
    ufrag: str | None,
    pwd: str | None,
    port: int,
    extra: str = "",
    connection: str = ALICE,
    rtcp: int = 50032,
) -> str:
    ice = f"a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\n" if ufrag else ""
    return (
        f"v=0\r\no=- 0 0 IN IP4 {ALICE}\r\ns=session\r\nc=IN IP4 {connection}\r\nb=CT:99980\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 114 111 112 115 116 4 8 0 97 13 118 101\r\n{ice}{candidates}{extra}"
        "a=label:main-audio\r\na=cryptoscale:1 client AES_CM_128_HMAC_SHA1_80 inline:cy0mDSq9uwXmv7bqB"
        f"|2^31|1:1\r\na=rtpmap:114 x-msrta/16000\r\na=rtpmap:0 PCMU/8000\r\na=rtcp:{rtcp}\r\n"
    )


def invite_multipart(to_tag: str | None = None) -> bytes:
    boundary = "----=_NextPart_000_0008_01C9C2A1.E9C7B7D0"
    body = (
        f"--{boundary}\r\nContent-Type: application/sdp\r\nContent-Transfer-Encoding: 7bit\r\n"
        "Content-ID: <9a6f1d5e0b8c4f2a9e3d7c1b5a4f6e8d@contoso.com>\r\n"
        "Content-Disposition: session; handling=optional; ms-proxy-2007fallback\r\n\r\n"
        + sdp(alice_icev6(), None, None, PORTS[1].host)
        + f"\r\n--{boundary}\r\nContent-Type: application/sdp\r\nContent-Transfer-Encoding: 7bit\r\n"
        "Content-ID: <1c7e3a9f5d2b4e8c8a6f0d2e4b6a8c0e@contoso.com>\r\n"
        "Content-Disposition: session; handling=optional\r\n\r\n"
        + sdp(alice_ice19(), ALICE_UFRAG, ALICE_PWD, PORTS[1].host)
        + f"\r\n--{boundary}--\r\n"
    ).encode()
    return sip_message(
        "INVITE sip:bob@contoso.com SIP/2.0",
        _dialog_headers(1, "INVITE", to_tag),
        body,
        f'multipart/alternative;boundary="{boundary}"',
    )


def _dialog_headers(cseq: int, method: str, to_tag: str | None = None, epid: str | None = None) -> list[str]:
    to = "To: <sip:bob@contoso.com>" + (f";tag={to_tag}" if to_tag else "") + (f";epid={epid}" if epid else "")
    return [
        f"Via: SIP/2.0/TCP {ALICE}:50722;branch=z9hG4bK{cseq}{method[:3]}",
        "Max-Forwards: 70",
        FROM,
        to,
        f"Call-ID: {CALL_ID}",
        f"CSeq: {cseq} {method}",
        "User-Agent: UCCAPI/3.5.6907.0 OC/3.5.6907.0",
    ]


def bob_candidates(epid_port_shift: int = 0) -> str:
    lines = []
    for comp, p in PORTS.items():
        lines.append(f"a=candidate:1 {comp} UDP {2130706432 - comp} {BOB} {p.bob_host + epid_port_shift} typ host")
        lines.append(
            f"a=candidate:3 {comp} UDP {16648704 - comp} {EDGE} {p.bob_relayed + epid_port_shift} typ relay "
            f"raddr {BOB} rport {p.bob_host + epid_port_shift}"
        )
    return "\r\n".join(lines) + "\r\n"


def session_progress(tag: str, epid: str, ufrag: str, shift: int = 0, status: str = "183 Session Progress") -> bytes:
    body = sdp(bob_candidates(shift), ufrag, BOB_PWD, PORTS[1].bob_host + shift).replace(ALICE, BOB).encode()
    return sip_message(f"SIP/2.0 {status}", _dialog_headers(1, "INVITE", tag, epid), body, "application/sdp")


def final_invite(tag: str, epid: str, shift: int = 0) -> bytes:
    remote = " ".join(f"{c} {EDGE} {p.bob_relayed + shift}" for c, p in PORTS.items())
    body = sdp(
        alice_ice19(final=0), ALICE_UFRAG, ALICE_PWD, PORTS[1].host, f"a=remote-candidates:{remote}\r\n"
    ).encode()
    return sip_message(
        "INVITE sip:bob@contoso.com SIP/2.0", _dialog_headers(2, "INVITE", tag, epid), body, "application/sdp"
    )


def ok_final(tag: str, epid: str, shift: int = 0) -> bytes:
    lines = "".join(
        f"a=candidate:3 {c} UDP {16648704 - c} {EDGE} {p.bob_relayed + shift} typ relay raddr {BOB} rport "
        f"{p.bob_host + shift}\r\n"
        for c, p in PORTS.items()
    )
    body = sdp(lines, BOB_UFRAG, BOB_PWD, PORTS[1].bob_relayed + shift).replace(ALICE, BOB).encode()
    return sip_message("SIP/2.0 200 OK", _dialog_headers(2, "INVITE", tag, epid), body, "application/sdp")


MRAS_XML = (
    '<?xml version="1.0" encoding="utf-8"?><response xmlns="http://schemas.microsoft.com/2006/09/sip/mrasp" '
    'requestID="128584360" version="2.0" serverVersion="2.0" reasonPhrase="OK"><credentialsResponse '
    f'credentialsRequestID="128584360"><credentials><username>{TURN_USER}</username><password>{TURN_PASS}'
    "</password><duration>480</duration></credentials><mediaRelayList><mediaRelay><location>internet</location>"
    f"<hostName>av.contoso.com</hostName><directIPAddress>{EDGE}</directIPAddress><udpPort>3478</udpPort>"
    "<tcpPort>443</tcpPort></mediaRelay></mediaRelayList></credentialsResponse></response>"
).encode()


def mras(cap: Capture, t: float) -> None:
    request = (
        b'<?xml version="1.0" encoding="utf-8"?><request requestID="128584360" version="2.0" '
        b'xmlns="http://schemas.microsoft.com/2006/09/sip/mrasp"><credentialsRequest '
        b'credentialsRequestID="128584360"><identity>sip:alice@contoso.com</identity><location>internet'
        b"</location><duration>480</duration></credentialsRequest></request>"
    )
    headers = [
        f"Via: SIP/2.0/TCP {ALICE}:50722;branch=z9hG4bKmras",
        "Max-Forwards: 70",
        "From: <sip:alice@contoso.com>;tag=mras1;epid=3c8fa1b2d9",
        "To: <sip:alice@contoso.com;gruu;opaque=srvr:MRAS:2jRa2f1gbU>",
        "Call-ID: mras-128584360",
        "CSeq: 1 SERVICE",
    ]
    cap.sip(
        t,
        sip_message(
            "SERVICE sip:alice@contoso.com;gruu;opaque=srvr:MRAS:2jRa2f1gbU SIP/2.0",
            headers,
            request,
            "application/msrtc-media-relay-auth+xml",
        ),
        True,
    )
    cap.sip(t + 0.05, sip_message("SIP/2.0 200 OK", headers, MRAS_XML, "application/msrtc-media-relay-auth+xml"), False)


# -- STUN / MS-TURN -----------------------------------------------------------------


def ms_turn(msg_type: int, label: str, attrs: list, key: bytes | None = None) -> bytes:
    # Lync puts 0x2112A442 in the first TID bytes; MAGIC-COOKIE must come first ([MS-TURN] 2.2.2.12)
    return encode_stun(
        msg_type,
        tid(label),
        [MS_COOKIE_ATTR, *attrs],
        dialect="ms-turn",
        integrity_key=key,
        integrity_sha256=key is not None,
    )


def allocate(cap: Capture, t: float, comp: int, relayed_ip: str = EDGE) -> None:
    p = PORTS[comp]
    key = long_term_key(TURN_USER, REALM, TURN_PASS)
    first = ms_turn(0x0003, f"alloc1-{comp}", [("MS-VERSION", 3), ("LIFETIME", 1800)])
    cap.udp(t, ALICE, p.turn, EDGE, 3478, first)
    nonce = f"{hashlib.md5(str(comp).encode()).hexdigest()}"
    cap.udp(
        t + 0.03,
        EDGE,
        3478,
        ALICE,
        p.turn,
        ms_turn(
            0x0113,
            f"alloc1-{comp}",
            [("ERROR-CODE", (401, "Unauthorized")), ("NONCE", nonce), ("REALM", REALM), ("MS-VERSION", 3)],
        ),
    )
    second = ms_turn(
        0x0003,
        f"alloc2-{comp}",
        [("MS-VERSION", 3), ("USERNAME", TURN_USER.encode()), ("REALM", REALM), ("NONCE", nonce), ("LIFETIME", 1800)],
        key,
    )
    cap.udp(t + 0.06, ALICE, p.turn, EDGE, 3478, second)
    success = ms_turn(
        0x0103,
        f"alloc2-{comp}",
        [
            ("LIFETIME", 1800),
            ("MAPPED-ADDRESS", (relayed_ip, p.relayed)),
            ("MS-VERSION", 3),
            ("MS-XOR-MAPPED-ADDRESS", (ALICE_PUBLIC, p.turn)),
        ],
        key,
    )
    cap.udp(t + 0.09, EDGE, 3478, ALICE, p.turn, success)


def check(
    label: str,
    sender_ufrag: str,
    receiver_ufrag: str,
    receiver_pwd: str,
    priority: int,
    controlling: bool,
    use_candidate: bool = False,
    foundation: str = "1",
) -> bytes:
    user = f"{receiver_ufrag}:{sender_ufrag}".encode()
    user += b"\x00" * (-len(user) % 4)  # [MS-ICE2]: NUL padding inside the length
    attrs = [
        ("USERNAME", user),
        ("PRIORITY", priority),
        ("ICE-CONTROLLING" if controlling else "ICE-CONTROLLED", 0x1C2D3E4F5A6B7C8D if controlling else 7),
    ]
    if use_candidate:
        attrs.append(("USE-CANDIDATE", True))
    attrs += [("CANDIDATE-IDENTIFIER", foundation), ("IMPLEMENTATION-VERSION", 2)]
    return encode_stun(0x0001, tid(label), attrs, integrity_key=receiver_pwd.encode(), fingerprint=True)


def check_response(label: str, mapped: tuple[str, int], pwd: str) -> bytes:
    return encode_stun(
        0x0101,
        tid(label),
        [("XOR-MAPPED-ADDRESS", mapped), ("IMPLEMENTATION-VERSION", 2)],
        integrity_key=pwd.encode(),
        fingerprint=True,
    )


# RFC 8445 §5.1.2.1: prflx type preference 110, local preference 65535, then 256 - component
PRFLX_PRIORITY_BASE = (110 << 24) + (65535 << 8) + 256

RETRANSMIT = (0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5)  # RFC 5389 7.2.1 schedule


def unanswered(cap: Capture, t: float, src: tuple[str, int], dst: tuple[str, int], payload: bytes) -> None:
    for dt in RETRANSMIT:
        cap.udp(t + dt, src[0], src[1], dst[0], dst[1], payload)


def relayed_send(cap: Capture, t: float, comp: int, peer: tuple[str, int], inner: bytes, label: str) -> None:
    """Alice -> Bob through her MS-TURN allocation: a Send request carrying DESTINATION-ADDRESS."""
    p = PORTS[comp]
    cap.udp(t, ALICE, p.turn, EDGE, 3478, ms_turn(0x0004, label, [("DESTINATION-ADDRESS", peer), ("DATA", inner)]))


def relayed_data(cap: Capture, t: float, comp: int, peer: tuple[str, int], inner: bytes, label: str) -> None:
    """Bob -> Alice arriving at her allocation: a Data indication 0x0115 with plain REMOTE-ADDRESS."""
    p = PORTS[comp]
    cap.udp(t, EDGE, 3478, ALICE, p.turn, ms_turn(0x0115, label, [("REMOTE-ADDRESS", peer), ("DATA", inner)]))


def rtp(
    cap: Capture, t: float, src: tuple[str, int], dst: tuple[str, int], count: int, ssrc: int, rtcp: bool = False
) -> None:
    for i in range(count):
        if rtcp:
            payload = bytes([0x81, 0xC8, 0x00, 0x0C]) + ssrc.to_bytes(4, "big") + bytes(44)
            step = 5.0
        else:
            payload = (
                bytes([0x80, 0x72])
                + (i & 0xFFFF).to_bytes(2, "big")
                + (i * 320).to_bytes(4, "big")
                + ssrc.to_bytes(4, "big")
                + bytes(60)
            )
            step = 0.02
        cap.udp(t + i * step, src[0], src[1], dst[0], dst[1], payload)


# -- scenarios ------------------------------------------------------------------------


def _candidate_truth(
    address: str,
    port: int,
    ctype: str,
    comp: int,
    priority: int,
    related: str | None = None,
    transport: str = "udp",
    foundation: str = "1",
) -> dict:
    return {
        "foundation": foundation,
        "component": comp,
        "transport": transport,
        "priority": priority,
        "address": f"{address}:{port}",
        "type": ctype,
        "related": related,
    }


def _alice_truth(
    selected: dict[int, dict | None],
    checklist: dict[int, list[dict]],
    role: str = "controlling",
    icev6: bool = False,
    relayed_ip: str = EDGE,
) -> dict:
    components = []
    for comp, p in PORTS.items():
        local = [
            _candidate_truth(ALICE, p.host, "host", comp, 2130706432 - comp),
            _candidate_truth(
                relayed_ip, p.relayed, "relay", comp, 16648704 - comp, f"{ALICE_PUBLIC}:{p.turn}", foundation="3"
            ),
            _candidate_truth(
                ALICE_PUBLIC, p.turn, "srflx", comp, 1694234624 - comp, f"{ALICE}:{p.turn}", foundation="6"
            ),
        ]
        remote = [
            _candidate_truth(BOB, p.bob_host, "host", comp, 2130706432 - comp),
            _candidate_truth(
                EDGE, p.bob_relayed, "relay", comp, 16648704 - comp, f"{BOB}:{p.bob_host}", foundation="3"
            ),
        ]
        if icev6:
            local, remote = local[:2], remote
        components.append(
            {
                "component": comp,
                "local_candidates": local,
                "remote_candidates": remote,
                "checklist": checklist.get(comp, []),
                "selected": selected.get(comp),
            }
        )
    return {
        "software": "synthetic Office Communicator 2007 R2 behaviour (seed articles, [MS-ICE2], [MS-TURN])",
        "role": role,
        "ice_ufrag": None if icev6 else ALICE_UFRAG,
        "ice_pwd": None if icev6 else ALICE_PWD,
        "lan_address": ALICE,
        "public_address": ALICE_PUBLIC,
        "streams": [{"media": "audio", "components": components}],
    }


def _entry(
    local: tuple[str, int], ltype: str, remote: tuple[str, int], rtype: str, state: str, nominated: bool = False
) -> dict:
    return {
        "local": f"{local[0]}:{local[1]}",
        "local_type": ltype,
        "remote": f"{remote[0]}:{remote[1]}",
        "remote_type": rtype,
        "state": state,
        "nominated": nominated,
    }


def _ice19_checks(
    cap: Capture,
    t: float,
    comp: int,
    bob_ufrag: str,
    shift: int,
    answered: bool,
    nominate: bool,
    relayed_ok: bool = True,
    relayed_ip: str = EDGE,
) -> list[dict]:
    """The checks of one component in the order the second seed gives: direct, NAT, relay.
    `relayed_ip`: the address the Edge allocated (Alice's relayed candidate)."""
    p = PORTS[comp]
    host, turn = (ALICE, p.host), (ALICE, p.turn)
    bob_host, bob_relay = (BOB, p.bob_host + shift), (EDGE, p.bob_relayed + shift)
    tag = f"{bob_ufrag}-{comp}"
    # 1. UDP direct: Bob's private host address is unreachable from Alice's home
    unanswered(cap, t, host, bob_host, check(f"direct-{tag}", ALICE_UFRAG, bob_ufrag, BOB_PWD, 2130706432 - comp, True))
    entries = [_entry(host, "host", bob_host, "host", "failed")]
    # 2. UDP from Alice's host to Bob's relay (Bob's Edge relays it to him)
    req = check(f"h2r-{tag}", ALICE_UFRAG, bob_ufrag, BOB_PWD, PRFLX_PRIORITY_BASE - comp, True)
    if answered:
        cap.udp(t + 0.05, *host, *bob_relay, req)
        cap.udp(t + 0.11, *bob_relay, *host, check_response(f"h2r-{tag}", (ALICE_PUBLIC, p.host), BOB_PWD))
        # 3. Bob's check from his relay to Alice's NAT mapping; her NAT delivers it to the socket behind it
        bob_req = check(f"r2s-{tag}", bob_ufrag, ALICE_UFRAG, ALICE_PWD, PRFLX_PRIORITY_BASE - comp, False)
        cap.udp(t + 0.2, *bob_relay, *turn, bob_req)
        cap.udp(t + 0.201, *turn, *bob_relay, check_response(f"r2s-{tag}", bob_relay, ALICE_PWD))
        # triggered check on the same pair (RFC 8445 7.3.1.4)
        cap.udp(
            t + 0.202,
            *turn,
            *bob_relay,
            check(f"trig-{tag}", ALICE_UFRAG, bob_ufrag, BOB_PWD, PRFLX_PRIORITY_BASE - comp, True),
        )
        cap.udp(t + 0.26, *bob_relay, *turn, check_response(f"trig-{tag}", (ALICE_PUBLIC, p.turn), BOB_PWD))
        entries.append(_entry(host, "host", bob_relay, "relay", "succeeded", nominate))
        entries.append(_entry((ALICE_PUBLIC, p.turn), "srflx", bob_relay, "relay", "succeeded"))
    else:
        unanswered(cap, t + 0.05, host, bob_relay, req)
        entries.append(_entry(host, "host", bob_relay, "relay", "failed"))
    # 4. UDP relay: Alice's relayed candidate to Bob's, through her MS-TURN allocation
    inner = check(f"r2r-{tag}", ALICE_UFRAG, bob_ufrag, BOB_PWD, 16648704 - comp, True)
    relayed_send(cap, t + 0.3, comp, bob_relay, inner, f"send-{tag}")
    if answered and relayed_ok:
        relayed_data(
            cap, t + 0.36, comp, bob_relay, check_response(f"r2r-{tag}", (EDGE, p.relayed), BOB_PWD), f"data-{tag}"
        )
        entries.append(_entry((relayed_ip, p.relayed), "relay", bob_relay, "relay", "succeeded"))
    else:
        for dt in RETRANSMIT[1:]:
            relayed_send(cap, t + 0.3 + dt, comp, bob_relay, inner, f"send-{tag}-{dt}")
        entries.append(_entry((relayed_ip, p.relayed), "relay", bob_relay, "relay", "failed"))
    if answered and nominate:
        # regular nomination: one more check with USE-CANDIDATE on the chosen pair
        cap.udp(
            t + 2.0,
            *host,
            *bob_relay,
            check(f"nom-{tag}", ALICE_UFRAG, bob_ufrag, BOB_PWD, PRFLX_PRIORITY_BASE - comp, True, use_candidate=True),
        )
        cap.udp(t + 2.06, *bob_relay, *host, check_response(f"nom-{tag}", (ALICE_PUBLIC, p.host), BOB_PWD))
    return entries


def _final_offer(shift: int, tag: str, epid: str) -> bytes:
    lines = "".join(f"a=candidate:1 {c} UDP {2130706432 - c} {ALICE} {p.host} typ host\r\n" for c, p in PORTS.items())
    remote = " ".join(f"{c} {EDGE} {p.bob_relayed + shift}" for c, p in PORTS.items())
    body = sdp(lines, ALICE_UFRAG, ALICE_PWD, PORTS[1].host, f"a=remote-candidates:{remote}\r\n").encode()
    return sip_message(
        "INVITE sip:bob@contoso.com SIP/2.0", _dialog_headers(2, "INVITE", tag, epid), body, "application/sdp"
    )


def _media(cap: Capture, t: float, shift: int, seconds: float) -> None:
    for comp, p in PORTS.items():
        count = int(seconds * (10 if comp == 1 else 0.2))
        rtp(cap, t, (ALICE, p.host), (EDGE, p.bob_relayed + shift), count, 0x1111, rtcp=comp == 2)
        rtp(cap, t + 0.01, (EDGE, p.bob_relayed + shift), (ALICE, p.host), count, 0x2222, rtcp=comp == 2)


def _call_setup(relayed_ip: str = EDGE) -> Capture:
    """What every OC 2007 R2 call here starts with: MRAS, two allocations, the INVITE, Bob's 183."""
    cap = Capture()
    mras(cap, 0.0)
    for comp in PORTS:
        allocate(cap, 1.0 + 0.2 * comp, comp, relayed_ip)
    cap.sip(2.0, invite_multipart(), True)
    cap.sip(2.5, session_progress("b0b1", "bbbb", BOB_UFRAG), False)
    return cap


NO_DIRECT_PATH = {
    "stream": 0,
    "code": "relayed:no-direct-path",
    "side": "callee",
    "why": "Bob, inside the company, offers his private host address and the Edge relay only (no "
    "server-reflexive candidate): no direct pair crosses from Alice's home network into his, and the "
    "Edge relay carries the call.",
}
REGULAR = {
    "nomination_style": "regular",
    "nomination_style_source": "this generator: Alice checks every pair without USE-CANDIDATE, then sends one "
    "more check with USE-CANDIDATE on the pair she chose",
    "candidate_types_signaled": True,
}


def seed_call(relayed_ip: str = EDGE) -> tuple[Capture, dict]:
    cap = _call_setup(relayed_ip)
    checklist, selected = {}, {}
    for comp in PORTS:
        checklist[comp] = _ice19_checks(
            cap, 3.0 + 0.02 * comp, comp, BOB_UFRAG, 0, True, True, relayed_ok=relayed_ip == EDGE, relayed_ip=relayed_ip
        )
        p = PORTS[comp]
        selected[comp] = {
            "local": f"{ALICE}:{p.host}",
            "local_type": "host",
            "remote": f"{EDGE}:{p.bob_relayed}",
            "remote_type": "relay",
            "transport": "udp",
        }
    cap.sip(5.5, _final_offer(0, "b0b1", "bbbb"), True)
    cap.sip(5.6, ok_final("b0b1", "bbbb"), False)
    cap.sip(5.65, sip_message("ACK sip:bob@contoso.com SIP/2.0", _dialog_headers(2, "ACK", "b0b1", "bbbb")), True)
    _media(cap, 5.7, 0, 40.0)
    truth = {
        "expected_outcome": "connected",
        "expected_connectivity": "RELAY",
        "expected_cause": NO_DIRECT_PATH,
        **REGULAR,
        "agents": {"alice": _alice_truth(selected, checklist, relayed_ip=relayed_ip)},
        "expected_verdicts": [],
    }
    return cap, truth


def failed_call() -> tuple[Capture, dict]:
    cap = _call_setup()
    checklist = {comp: _ice19_checks(cap, 3.0 + 0.02 * comp, comp, BOB_UFRAG, 0, False, False) for comp in PORTS}
    bye = sip_message(
        "BYE sip:bob@contoso.com SIP/2.0",
        _dialog_headers(2, "BYE", "b0b1", "bbbb") + ['ms-client-diagnostics: 51004;reason="Action initiated by user"'],
    )
    cap.sip(45.0, bye, True)
    truth = {
        "expected_outcome": "failed",
        "expected_connectivity": "FAILED",
        "expected_cause": {
            "stream": 0,
            "code": "failed:no-common-path",
            "side": "both",
            "why": "no check is ever answered, while the Edge answers both of Alice's Allocates.",
        },
        **REGULAR,
        "agents": {"alice": _alice_truth({1: None, 2: None}, checklist)},
        "expected_verdicts": ["D8", "FAILED"],
    }
    return cap, truth


def mpop() -> tuple[Capture, dict]:
    cap = _call_setup()
    cap.sip(2.6, session_progress("c0c1", "cccc", "Qz2w", shift=100), False)
    checklist, selected = {}, {}
    for comp in PORTS:
        checklist[comp] = _ice19_checks(cap, 3.0 + 0.02 * comp, comp, BOB_UFRAG, 0, True, True)
        _ice19_checks(cap, 3.5 + 0.02 * comp, comp, "Qz2w", 100, True, False)
        p = PORTS[comp]
        selected[comp] = {
            "local": f"{ALICE}:{p.host}",
            "local_type": "host",
            "remote": f"{EDGE}:{p.bob_relayed}",
            "remote_type": "relay",
            "transport": "udp",
        }
    cap.sip(5.5, _final_offer(0, "b0b1", "bbbb"), True)
    cap.sip(5.6, ok_final("b0b1", "bbbb"), False)
    _media(cap, 5.7, 0, 40.0)
    truth = {
        "expected_outcome": "connected",
        "expected_connectivity": "RELAY",
        "expected_cause": NO_DIRECT_PATH,
        **REGULAR,
        "capture_facts": {
            "capture.pcap": {
                "ice_streams": 2,
                "why": "Bob's second endpoint (epid cccc) answered with its own candidates and was checked too",
            }
        },
        "callee": "callee:bbbb",
        "agents": {"alice": _alice_truth(selected, checklist)},
        "expected_verdicts": [],
    }
    return cap, truth


def legacy_oc2007() -> tuple[Capture, dict]:
    """OC 2007 peer: ICEv6 only, no 183; the multipart INVITE gets 415 and is retried with one body."""
    cap = Capture()
    for comp in PORTS:
        allocate(cap, 1.0 + 0.2 * comp, comp)
    cap.sip(2.0, invite_multipart(), True)
    cap.sip(2.1, sip_message("SIP/2.0 415 Unsupported Media Type", _dialog_headers(1, "INVITE", "b0b1", "bbbb")), False)
    single = sdp(alice_icev6(), None, None, PORTS[1].host).encode()
    cap.sip(
        2.2,
        sip_message("INVITE sip:bob@contoso.com SIP/2.0", _dialog_headers(2, "INVITE"), single, "application/sdp"),
        True,
    )
    bob_lines = []
    for comp, p in PORTS.items():
        bob_lines.append(
            f"a=candidate:{icev6_user('bob-host')} {comp} {icev6_pass('bob-host')} UDP 0.830 {BOB} {p.bob_host}"
        )
        bob_lines.append(
            f"a=candidate:{icev6_user('bob-relay')} {comp} {icev6_pass('bob-relay')} UDP 0.450 {EDGE} {p.bob_relayed}"
        )
    body = sdp("\r\n".join(bob_lines) + "\r\n", None, None, PORTS[1].bob_host).replace(ALICE, BOB).encode()
    cap.sip(
        4.0, sip_message("SIP/2.0 200 OK", _dialog_headers(2, "INVITE", "b0b1", "bbbb"), body, "application/sdp"), False
    )
    checklist, selected = {}, {}
    for comp, p in PORTS.items():

        def v6check(label: str, sender: str, receiver: str, comp: int = comp) -> bytes:
            # [MS-ICE]: binary USERNAME recv:comp:send:comp, NUL padded; 128-bit ids, no cookie
            user = (
                base64.b64decode(icev6_user(receiver) + "=")
                + f":{comp}:".encode()
                + base64.b64decode(icev6_user(sender) + "=")
                + f":{comp}".encode()
            )
            user += b"\x00" * (4 - len(user) % 4)
            return encode_stun(0x0001, tid(label, 16), [("USERNAME", user)], cookie=False)

        t = 4.5 + 0.02 * comp
        unanswered(cap, t, (ALICE, p.host), (BOB, p.bob_host), v6check(f"v6d-{comp}", "alice-host", "bob-host"))
        cap.udp(t + 0.05, ALICE, p.host, EDGE, p.bob_relayed, v6check(f"v6r-{comp}", "alice-host", "bob-relay"))
        resp = encode_stun(0x0101, tid(f"v6r-{comp}", 16), [("MAPPED-ADDRESS", (ALICE_PUBLIC, p.host))], cookie=False)
        cap.udp(t + 0.11, EDGE, p.bob_relayed, ALICE, p.host, resp)
        checklist[comp] = [
            _entry((ALICE, p.host), "host", (BOB, p.bob_host), "host", "failed"),
            _entry((ALICE, p.host), "host", (EDGE, p.bob_relayed), "relay", "succeeded", True),
        ]
        selected[comp] = {
            "local": f"{ALICE}:{p.host}",
            "local_type": "host",
            "remote": f"{EDGE}:{p.bob_relayed}",
            "remote_type": "relay",
            "transport": "udp",
        }
    lines = "".join(
        f"a=candidate:{icev6_user('alice-host')} {c} {icev6_pass('alice-host')} UDP 0.830 {ALICE} {p.host}\r\n"
        for c, p in PORTS.items()
    )
    remote = f"a=remote-candidate:{icev6_user('bob-relay')}\r\n"
    body = sdp(lines, None, None, PORTS[1].host, remote).encode()
    cap.sip(
        6.0,
        sip_message(
            "INVITE sip:bob@contoso.com SIP/2.0", _dialog_headers(3, "INVITE", "b0b1", "bbbb"), body, "application/sdp"
        ),
        True,
    )
    _media(cap, 6.5, 0, 40.0)
    truth = {
        "expected_outcome": "connected",
        "expected_connectivity": "RELAY",
        "expected_cause": NO_DIRECT_PATH,
        "nomination_style": "final-offer",
        "nomination_style_source": "this generator: MS-ICE checks carry no USE-CANDIDATE; Alice's final re-INVITE "
        "names Bob's relayed candidate with a=remote-candidate",
        "candidate_types_signaled": False,
        "agents": {"alice": _alice_truth(selected, checklist, icev6=True)},
        "expected_verdicts": [],
    }
    return cap, truth


def edge_misconfigured() -> tuple[Capture, dict]:
    """D19: the Edge hands out a private relayed address; relay-to-relay checks go nowhere."""
    cap, truth = seed_call(relayed_ip="10.1.1.5")
    truth["expected_verdicts"] = ["D19"]
    return cap, truth


BOB_LAN = "192.168.5.20"  # hairpin: Bob on another subnet behind the same NAT as Alice


def hairpin() -> tuple[Capture, dict]:
    """Second seed: both ends behind one NAT; direct fails, the pair via the public address wins."""
    cap = Capture()
    mras(cap, 0.0)
    for comp in PORTS:
        allocate(cap, 1.0 + 0.2 * comp, comp)
    cap.sip(2.0, invite_multipart(), True)
    lines = []
    for comp, p in PORTS.items():
        lines += [
            f"a=candidate:1 {comp} UDP {2130706432 - comp} {BOB_LAN} {p.bob_host} typ host",
            f"a=candidate:6 {comp} UDP {1694234624 - comp} {ALICE_PUBLIC} {p.bob_host} typ srflx raddr "
            f"{BOB_LAN} rport {p.bob_host}",
            f"a=candidate:3 {comp} UDP {16648704 - comp} {EDGE} {p.bob_relayed} typ relay raddr "
            f"{ALICE_PUBLIC} rport {p.bob_host}",
        ]
    body = sdp(
        "\r\n".join(lines) + "\r\n", BOB_UFRAG, BOB_PWD, PORTS[1].bob_host, connection=BOB_LAN, rtcp=PORTS[2].bob_host
    ).encode()
    cap.sip(
        2.5,
        sip_message(
            "SIP/2.0 183 Session Progress", _dialog_headers(1, "INVITE", "b0b1", "bbbb"), body, "application/sdp"
        ),
        False,
    )
    checklist, selected = {}, {}
    for comp, p in PORTS.items():
        t = 3.0 + 0.02 * comp
        host, base = (ALICE, p.host), (ALICE, p.turn)
        bob_host, bob_public = (BOB_LAN, p.bob_host), (ALICE_PUBLIC, p.bob_host)
        # UDP direct: no route between the two subnets
        unanswered(
            cap, t, host, bob_host, check(f"hp-direct-{comp}", ALICE_UFRAG, BOB_UFRAG, BOB_PWD, 2130706432 - comp, True)
        )
        # UDP NAT: out through the NAT and back in (hairpin); the answer comes from Bob's mapping
        req = check(f"hp-nat-{comp}", ALICE_UFRAG, BOB_UFRAG, BOB_PWD, 1694234624 - comp, True, use_candidate=True)
        cap.udp(t + 0.05, *base, *bob_public, req)
        cap.udp(t + 0.06, *bob_public, *base, check_response(f"hp-nat-{comp}", (ALICE_PUBLIC, p.turn), BOB_PWD))
        bob_req = check(f"hp-bob-{comp}", BOB_UFRAG, ALICE_UFRAG, ALICE_PWD, 1694234624 - comp, False)
        cap.udp(t + 0.1, *bob_public, *base, bob_req)
        cap.udp(t + 0.101, *base, *bob_public, check_response(f"hp-bob-{comp}", bob_public, ALICE_PWD))
        checklist[comp] = [
            _entry(host, "host", bob_host, "host", "failed"),
            _entry((ALICE_PUBLIC, p.turn), "srflx", bob_public, "srflx", "succeeded", True),
        ]
        selected[comp] = {
            "local": f"{ALICE_PUBLIC}:{p.turn}",
            "local_type": "srflx",
            "remote": f"{ALICE_PUBLIC}:{p.bob_host}",
            "remote_type": "srflx",
            "transport": "udp",
        }
    final_lines = "".join(
        f"a=candidate:6 {c} UDP {1694234624 - c} {ALICE_PUBLIC} {p.turn} typ srflx raddr {ALICE} rport {p.turn}\r\n"
        for c, p in PORTS.items()
    )
    remote = " ".join(f"{c} {ALICE_PUBLIC} {p.bob_host}" for c, p in PORTS.items())
    body = sdp(
        final_lines,
        ALICE_UFRAG,
        ALICE_PWD,
        PORTS[1].turn,
        f"a=remote-candidates:{remote}\r\n",
        connection=ALICE_PUBLIC,
        rtcp=PORTS[2].turn,
    ).encode()
    cap.sip(
        5.5,
        sip_message(
            "INVITE sip:bob@contoso.com SIP/2.0", _dialog_headers(2, "INVITE", "b0b1", "bbbb"), body, "application/sdp"
        ),
        True,
    )
    for comp, p in PORTS.items():
        count = 400 if comp == 1 else 8
        rtp(cap, 5.7, (ALICE, p.turn), (ALICE_PUBLIC, p.bob_host), count, 0x3333, rtcp=comp == 2)
        rtp(cap, 5.71, (ALICE_PUBLIC, p.bob_host), (ALICE, p.turn), count, 0x4444, rtcp=comp == 2)
    alice = _alice_truth(selected, checklist)
    for comp in alice["streams"][0]["components"]:
        p = PORTS[comp["component"]]
        comp["remote_candidates"] = [
            _candidate_truth(BOB_LAN, p.bob_host, "host", comp["component"], 2130706432 - comp["component"]),
            _candidate_truth(
                ALICE_PUBLIC,
                p.bob_host,
                "srflx",
                comp["component"],
                1694234624 - comp["component"],
                f"{BOB_LAN}:{p.bob_host}",
                foundation="6",
            ),
        ]
    cause = {
        "stream": 0,
        "code": "direct",
        "side": "both",
        "why": "the shared NAT hairpins: the server-reflexive pair through 84.155.254.180 carries the call; the "
        "host pair between the two subnets could never work.",
    }
    truth = {
        "expected_outcome": "connected",
        "expected_connectivity": "DIRECT",
        "expected_cause": cause,
        **REGULAR,
        "agents": {"alice": alice},
        "expected_verdicts": [],
    }
    return cap, truth


SCENARIOS = {
    "seed-call": (
        seed_call,
        "The seed article's call: Alice at home behind a NAT calls Bob inside the company; "
        "direct checks fail, Alice's host to Bob's Edge relay wins; MS-TURN allocations, multipart "
        "INVITE, 183, regular nomination and the final offer.",
    ),
    "failed-call": (
        failed_call,
        "Every check times out (all paths filtered); no final offer; the call ends in BYE with ms-client-diagnostics.",
    ),
    "mpop": (
        mpop,
        "Bob signed in twice: two 183s from two endpoints (epid bbbb and cccc); checks run against "
        "both; the final offer goes to bbbb.",
    ),
    "legacy-oc2007": (
        legacy_oc2007,
        "OC 2007 peer: multipart INVITE refused with 415, retried with one ICEv6 "
        "body; 200 OK with ICEv6 candidates; binary MS-ICE usernames; a=remote-candidate.",
    ),
    "hairpin": (
        hairpin,
        "The second seed's test: both ends behind the same NAT on subnets that cannot reach each other; UDP "
        "direct fails and the 'UDP NAT' pair through the public address (hairpinning) is selected by the final "
        "offer.",
    ),
    "edge-misconfigured": (
        edge_misconfigured,
        "As seed-call, but the Edge allocates a private relayed address "
        "(10.1.1.5): Alice's relay candidate is unusable (failure catalogue D19).",
    ),
}


def write(outdir: Path) -> list[Path]:
    written = []
    for name, (build, description) in SCENARIOS.items():
        cap, truth = build()
        folder = outdir / name
        folder.mkdir(parents=True, exist_ok=True)
        cap.packets.sort(key=lambda p: float(p.time))
        wrpcap(str(folder / "capture.pcap"), cap.packets)
        if shutil.which("editcap"):
            for fmt, suffix in (("pcapng", "pcapng"), ("netmon2", "cap")):
                subprocess.run(
                    ["editcap", "-F", fmt, str(folder / "capture.pcap"), str(folder / f"capture.{suffix}")],
                    check=True,
                    capture_output=True,
                )
        (folder / "alice.uccapilog").write_text("".join(cap.log))
        document = {
            "scenario": name,
            "description": description,
            "vantage_points": {
                f"capture.{ext}": "Alice's LAN side (her PC's network interface)" for ext in ("pcap", "pcapng", "cap")
            },
            **truth,
        }
        (folder / "truth.json").write_text(json.dumps(document, indent=2) + "\n")
        written.append(folder / "capture.pcap")
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    for path in write(target):
        print(path)
