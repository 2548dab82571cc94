"""A check's USERNAME: which agent (or [MS-ICE] candidate) receives it and which sends it.

RFC 8445 §7.2.2 names the two agents by ufrag, "receiver:sender"; [MS-ICE2] pads that with NULs;
[MS-ICE] (ICEv6, OC 2007) is binary and names one candidate of each agent with a component.
"""

from __future__ import annotations

import base64
import binascii


def split_username(raw: bytes) -> tuple[str, str, str] | None:
    """(form, receiver key, sender key) of a check's USERNAME, in any of the three forms.

    RFC 8445 §7.2.2: "receiver-ufrag:sender-ufrag"; MS-ICE2 pads it with NULs;
    [MS-ICE] (ICEv6) is binary: recv-user(32) ":" comp ":" send-user(32) ":" comp.
    """
    text = raw.rstrip(b"\x00")
    if len(text) >= 67 and text[32:33] == b":":
        comp, sep, rest = text[33:].partition(b":")
        if sep and comp.isdigit() and len(rest) >= 32:
            recv = base64.b64encode(text[:32]).decode().rstrip("=")
            send = base64.b64encode(rest[:32]).decode().rstrip("=")
            return "ms-icev6", recv, send
    try:
        decoded = text.decode("ascii")
    except UnicodeDecodeError:
        return None
    if ":" in decoded and decoded.isprintable():
        recv, _, send = decoded.partition(":")
        return ("ms-ice2" if raw.endswith(b"\x00") else "rfc"), recv, send
    return None


def icev6_component(raw: bytes) -> int | None:
    """The component an [MS-ICE] USERNAME names (recv(32) ":" comp ":" send(32) ":" comp)."""
    text = raw.rstrip(b"\x00")
    if split_username(raw) is None or len(text) < 67 or text[32:33] != b":":
        return None
    comp = text[33:].partition(b":")[0]
    return int(comp) if comp.isdigit() else None


def icev6_key(username: str | None) -> str | None:
    if not username:
        return None
    try:
        raw = base64.b64decode(username + "=" * (-len(username) % 4))
    except (binascii.Error, ValueError):
        return None
    return base64.b64encode(raw).decode().rstrip("=")
