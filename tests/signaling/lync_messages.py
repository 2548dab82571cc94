"""Seed-derived Lync SIP/SDP text for tests (the seed article's candidate tables, addresses filled in).

The article lost its IP addresses; documentation addresses stand in: Alice's host
192.168.0.10, her NAT mapping 84.155.254.180 (the seed's XOR example), the A/V
Edge 198.51.100.20.
"""

ICEV6_LINES = """\
a=candidate:uuK9Gym3F0zReasv+FyKCM 1 UwaQkvk5hiWgVg UDP 0.850 192.168.0.10 50005
a=candidate:uuK9Gym3F0zReasv+FyKCM 2 UwaQkvk5hiWgVg UDP 0.850 192.168.0.10 50031
a=candidate:9/vLJjcL+aemcsR1AxpVM0 1 6Puckob7qP8GFA TCP 0.190 198.51.100.20 56909
a=candidate:9/vLJjcL+aemcsR1AxpVM0 2 6Puckob7qP8GFA TCP 0.190 198.51.100.20 56909
a=candidate:iHdvoVfXm2i2IPGmfO0xa4 1 UbNAQVuHoEoHVA UDP 0.490 198.51.100.20 52003
a=candidate:iHdvoVfXm2i2IPGmfO0xa4 2 UbNAQVuHoEoHVA UDP 0.490 198.51.100.20 50126
a=candidate:3ECLhrmJtmDK/j3FY4O5Tw 1 c6zoXvSFIqRfcw TCP 0.250 192.168.0.10 50025
a=candidate:3ECLhrmJtmDK/j3FY4O5Tw 2 c6zoXvSFIqRfcw TCP 0.250 192.168.0.10 50025
a=candidate:FKVarEmvn9yEvjD5xahFa0 1 qNTE/3CmryPpGA UDP 0.550 84.155.254.180 50015
a=candidate:FKVarEmvn9yEvjD5xahFa0 2 qNTE/3CmryPpGA UDP 0.550 84.155.254.180 50028
"""

ICE19_LINES = """\
a=candidate:1 1 UDP 2130706431 192.168.0.10 50036 typ host
a=candidate:1 2 UDP 2130705918 192.168.0.10 50032 typ host
a=candidate:2 1 TCP-PASS 6556159 198.51.100.20 52899 typ relay raddr 84.155.254.180 rport 52899
a=candidate:2 2 TCP-PASS 6556158 198.51.100.20 52899 typ relay raddr 84.155.254.180 rport 52899
a=candidate:3 1 UDP 16648703 198.51.100.20 57309 typ relay raddr 84.155.254.180 rport 57309
a=candidate:3 2 UDP 16648702 198.51.100.20 54054 typ relay raddr 84.155.254.180 rport 54054
a=candidate:4 1 TCP-ACT 7076863 198.51.100.20 52899 typ relay raddr 84.155.254.180 rport 52899
a=candidate:4 2 TCP-ACT 7076350 198.51.100.20 52899 typ relay raddr 84.155.254.180 rport 52899
a=candidate:5 1 TCP-ACT 1684797951 84.155.254.180 50032 typ srflx raddr 192.168.0.10 rport 50032
a=candidate:5 2 TCP-ACT 1684797438 84.155.254.180 50032 typ srflx raddr 192.168.0.10 rport 50032
a=candidate:6 1 UDP 1694234623 84.155.254.180 50033 typ srflx raddr 192.168.0.10 rport 50033
a=candidate:6 2 UDP 1694234110 84.155.254.180 50039 typ srflx raddr 192.168.0.10 rport 50039
"""


def sdp(lines: str, ufrag: str | None = None, pwd: str | None = None, port: int = 50036) -> str:
    ice = f"a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\n" if ufrag else ""
    return (
        "v=0\r\no=- 0 0 IN IP4 192.168.0.10\r\ns=session\r\nc=IN IP4 192.168.0.10\r\nb=CT:99980\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 114 111 0 8 101\r\n{ice}"
        + lines.replace("\n", "\r\n")
        + "a=label:main-audio\r\na=rtpmap:0 PCMU/8000\r\n"
    )


def sip(start: str, headers: list[str], body: bytes = b"", content_type: str | None = None) -> bytes:
    head = [start, *headers]
    if content_type:
        head.append(f"Content-Type: {content_type}")
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


CALL_ID = "3f2a1b9c8d7e4f60a1b2c3d4e5f60718"
FROM = "From: <sip:alice@contoso.com>;tag=a1b2c3d4e5;epid=01010101"
TO = "To: <sip:bob@contoso.com>"


def multipart_invite() -> bytes:
    boundary = "----=_NextPart_000_0008_01C9C2A1.E9C7B7D0"
    body = (
        f"--{boundary}\r\nContent-Type: application/sdp\r\nContent-Transfer-Encoding: 7bit\r\n"
        "Content-Disposition: session; handling=optional; ms-proxy-2007fallback\r\n\r\n"
        + sdp(ICEV6_LINES, port=50005)
        + f"\r\n--{boundary}\r\nContent-Type: application/sdp\r\nContent-Transfer-Encoding: 7bit\r\n"
        "Content-Disposition: session; handling=optional\r\n\r\n"
        + sdp(ICE19_LINES, "tUQb", "fe3rDX1dWz0M6RQJp2D8mwHc")
        + f"\r\n--{boundary}--\r\n"
    ).encode()
    return sip(
        "INVITE sip:bob@contoso.com;opaque=user:epid:abc;gruu SIP/2.0",
        [
            "Via: SIP/2.0/TCP 192.168.0.10:50722",
            "Max-Forwards: 70",
            FROM,
            TO,
            f"Call-ID: {CALL_ID}",
            "CSeq: 1 INVITE",
            "Contact: <sip:alice@contoso.com;opaque=user:epid:x;gruu>",
            "Supported: ms-early-media",
            "Ms-Conversation-ID: AcnCoOtH",
        ],
        body,
        f'multipart/alternative;boundary="{boundary}"',
    )


BOB_LINES = (
    "a=candidate:1 1 UDP 2130706431 10.0.0.20 6000 typ host\n"
    "a=candidate:1 2 UDP 2130705918 10.0.0.20 6001 typ host\n"
    "a=candidate:2 1 UDP 16648703 198.51.100.21 53000 typ relay raddr 10.0.0.20 rport 6000\n"
)


def session_progress(tag: str, epid: str, host_port: int = 6000) -> bytes:
    lines = BOB_LINES.replace("6000 typ host", f"{host_port} typ host")
    return sip(
        "SIP/2.0 183 Session Progress",
        [
            "Via: SIP/2.0/TCP 192.168.0.10:50722",
            FROM,
            f"{TO};tag={tag};epid={epid}",
            f"Call-ID: {CALL_ID}",
            "CSeq: 1 INVITE",
        ],
        sdp(lines, f"b{tag[:3]}", "bobpassword0123456789012").encode(),
        "application/sdp",
    )


def final_invite() -> bytes:
    lines = ICE19_LINES.splitlines()[4:6]
    body = sdp(
        "\n".join(lines) + "\na=remote-candidates:1 198.51.100.21 53000 2 198.51.100.21 53001\n",
        "tUQb",
        "fe3rDX1dWz0M6RQJp2D8mwHc",
        port=57309,
    )
    return sip(
        "INVITE sip:bob@contoso.com SIP/2.0",
        [
            "Via: SIP/2.0/TCP 192.168.0.10:50722",
            FROM,
            f"{TO};tag=b0b1;epid=bbbb",
            f"Call-ID: {CALL_ID}",
            "CSeq: 2 INVITE",
        ],
        body.encode(),
        "application/sdp",
    )


def bye_with_diagnostics() -> bytes:
    return sip(
        "BYE sip:bob@contoso.com SIP/2.0",
        [
            "Via: SIP/2.0/TCP 192.168.0.10:50722",
            FROM,
            f"{TO};tag=b0b1;epid=bbbb",
            f"Call-ID: {CALL_ID}",
            "CSeq: 3 BYE",
            'ms-client-diagnostics: 52001;reason="Client side general processing error.";CallId="x"',
        ],
    )
