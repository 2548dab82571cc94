"""MRAS credentialsResponse ([MS-AVEDGEA]): long-term TURN credentials and relay list.

Parsed with defusedxml: the XML arrives from the network or a log, so entity
expansion and external entities are refused.
"""

from __future__ import annotations

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from icetrace.protocol_number import ascii_number
from icetrace.signaling.model import RelayCredentials, SourceRef


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_mras_response(body: bytes, source: SourceRef | None, problems: list[str]) -> RelayCredentials | None:
    """The credentials of a credentialsResponse, or None (with a problem noted)."""
    try:
        root = SafeET.fromstring(body)
    except (SafeET.ParseError, DefusedXmlException, ValueError) as exc:
        problems.append(f"{source}: MRAS response is not acceptable XML: {exc}")
        return None
    username = password = ""
    duration: int | None = None
    relays: list[tuple[str, str, int, str]] = []
    for element in root.iter():
        name = _local(element.tag)
        text = (element.text or "").strip()
        if name == "username":
            username = text
        elif name == "password":
            password = text
        elif name == "duration" and ascii_number(text) is not None:
            duration = ascii_number(text)
        elif name == "mediaRelay":
            location = host = ""
            ports: list[tuple[int, str]] = []
            for child in element:
                cname = _local(child.tag)
                ctext = (child.text or "").strip()
                if cname == "location":
                    location = ctext
                elif cname in ("hostName", "directIPAddress") and not host:
                    host = ctext
                elif cname in ("udpPort", "tcpPort"):
                    port = ascii_number(ctext, 5)
                    if port is not None and port <= 65535:
                        ports.append((port, "udp" if cname == "udpPort" else "tcp"))
            relays.extend((location, host, port, transport) for port, transport in ports)
    if not username:
        problems.append(f"{source}: MRAS response has no credentials")
        return None
    return RelayCredentials(
        username=username, password=password, duration_minutes=duration, relays=tuple(relays), source=source
    )
