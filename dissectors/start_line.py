"""Which text protocol a payload opens with: a SIP or an HTTP/1.x start line (RFC 3261 §7, RFC 9112 §3).

`SIGNALING_STREAM_STARTS` holds the tests a TCP stream's first bytes must pass for the packet
source to follow it for the signaling collectors: a signaling transport over TCP adds its own."""

from __future__ import annotations

from collections.abc import Callable

_SIP_STARTS = (
    b"SIP/2.0 ",
    b"INVITE ",
    b"ACK ",
    b"BYE ",
    b"CANCEL ",
    b"OPTIONS ",
    b"REGISTER ",
    b"PRACK ",
    b"UPDATE ",
    b"INFO ",
    b"SUBSCRIBE ",
    b"NOTIFY ",
    b"REFER ",
    b"MESSAGE ",
    b"SERVICE ",
    b"PUBLISH ",
    b"BENOTIFY ",
)


def looks_like_sip(payload: bytes) -> bool:
    """A SIP method or status line (RFC 3261 §7.1). HTTP-over-UDP shares SIP's methods (SSDP's
    `NOTIFY * HTTP/1.1`, RFC 9110 / UPnP), so a complete first line must name SIP/2.0; a TCP
    segment that ends before its first line does is given the benefit of the doubt."""
    if not (payload[:1].isalpha() and payload.startswith(_SIP_STARTS)):
        return False
    if payload.startswith(b"SIP/2.0 "):
        return True
    end = payload.find(b"\n", 0, 2048)
    if end < 0:
        return True
    return payload[:end].rstrip(b"\r").rstrip(b" \t").endswith(b" SIP/2.0")


_HTTP_METHODS = (b"GET ", b"POST ", b"PUT ", b"PATCH ", b"DELETE ", b"OPTIONS ", b"HEAD ")


def looks_like_http(first: bytes) -> bool:
    """An HTTP/1.x request line or status line: where an app's signaling may travel."""
    if first.startswith(b"HTTP/1."):
        return True
    if first.startswith(_HTTP_METHODS):
        line = first.split(b"\r\n", 1)[0]
        return line.endswith((b" HTTP/1.1", b" HTTP/1.0"))
    return False


SIGNALING_STREAM_STARTS: tuple[Callable[[bytes], bool], ...] = (looks_like_sip, looks_like_http)


def opens_signaling_stream(first: bytes) -> bool:
    """Whether a TCP stream's first bytes open a signaling protocol the collectors read."""
    return any(opens(first) for opens in SIGNALING_STREAM_STARTS)


__all__ = ["SIGNALING_STREAM_STARTS", "looks_like_http", "looks_like_sip", "opens_signaling_stream"]
