"""a=candidate lines in the three grammars seen in the field, and a=remote-candidate(s).

RFC 5245 §15.1 / RFC 8839 §5.1 (with RFC 6544 tcptype), Microsoft ICE19 (MS-ICE2,
transport TCP-ACT / TCP-PASS), and Microsoft legacy ICEv6 (OC 2007, MS-ICE:
`username component password UDP|TCP qvalue address port`). Tell ICEv6 from the
others by token 7: it is `typ` in every grammar but ICEv6 (pidgin-sipe's rule).
"""

from __future__ import annotations

import ipaddress

from icetrace.protocol_number import ascii_number
from icetrace.records.endpoint import Endpoint
from icetrace.signaling.model import Candidate, RemoteCandidate, SourceRef

CANDIDATE_TYPES = ("host", "srflx", "prflx", "relay")
# Longest candidate line read. A real one is under 300 characters (a 255-character FQDN
# included); a longer one is refused before it is split into tokens, which would cost
# memory many times its length.
MAX_CANDIDATE_LINE = 2048
# RFC 8445 §5.1.2 (and RFC 5245 before it): a priority is 1 to 2^31 - 1, so that a pair's priority
# (2^32 * MIN + 2 * MAX + 1, §6.1.2.3) stays below 2^63, in a signed 64-bit column
MAX_PRIORITY = (1 << 31) - 1
_ICE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


class CandidateSyntaxError(ValueError):
    """A candidate line that cannot be read; the message says which token and why."""


def _strip_prefix(line: str, name: str) -> str:
    text = line.strip()
    if text.startswith("a="):
        text = text[2:]
    if text.lower().startswith(name + ":"):
        text = text[len(name) + 1 :]
    return text.strip()


def _plain_ipv4(host: str) -> bool:
    """Dotted-quad IPv4 already as ipaddress writes it (no leading zeros): nothing to normalise.
    Most candidates are; parsing each with ipaddress cost a busy server's capture seconds."""
    parts = host.split(".")
    return len(parts) == 4 and all(
        p.isascii() and p.isdigit() and len(p) <= 3 and (p == "0" or p[0] != "0") and int(p) <= 255 for p in parts
    )


def _address(host: str, port_text: str, what: str) -> Endpoint:
    port = ascii_number(port_text, 5)
    if port is None or port > 65535:
        raise CandidateSyntaxError(f"{what} port {port_text[:40]!r} is not a number 0-65535")
    try:
        host = host if _plain_ipv4(host) else str(ipaddress.ip_address(host))
    except ValueError:
        # RFC 8839 allows FQDNs and mDNS names (".local"); keep them as written
        if not host or any(c.isspace() for c in host):
            raise CandidateSyntaxError(f"{what} address {host!r} is not an address") from None
    return Endpoint(host, port)


def _component(text: str) -> int:
    number = ascii_number(text, 3)
    if number is None or not 1 <= number <= 256:
        raise CandidateSyntaxError(f"component {text[:40]!r} is not a number 1-256")
    return number


def parse_candidate_line(line: str, source: SourceRef | None = None) -> Candidate:
    """Parse one candidate line in any of the three grammars."""
    if len(line) > MAX_CANDIDATE_LINE:
        raise CandidateSyntaxError(f"line of {len(line)} characters, longer than {MAX_CANDIDATE_LINE}")
    text = _strip_prefix(line, "candidate")
    tokens = text.split()
    if len(tokens) < 6:
        raise CandidateSyntaxError(f"expected at least 6 fields, found {len(tokens)}")
    if len(tokens) >= 8 and tokens[6].lower() == "typ":
        return _parse_ice19(text, tokens, source)
    if len(tokens) == 7 or (len(tokens) > 7 and tokens[6].lower() != "typ"):
        return _parse_icev6(text, tokens, source)
    raise CandidateSyntaxError("missing 'typ' before the candidate type")


def _parse_ice19(text: str, tokens: list[str], source: SourceRef | None) -> Candidate:
    foundation, component, transport, priority, host, port = tokens[:6]
    if not foundation or len(foundation) > 32 or not set(foundation) <= _ICE_CHARS:
        raise CandidateSyntaxError(f"foundation {foundation!r} is not 1-32 ice-chars")
    component_number = _component(component)
    priority_number = ascii_number(priority, 10)
    if priority_number is None or not 1 <= priority_number <= MAX_PRIORITY:
        raise CandidateSyntaxError(f"priority {priority[:40]!r} is not a number 1-{MAX_PRIORITY} (RFC 8445 §5.1.2)")
    proto, grammar, tcptype = _ice19_transport(transport)
    address = _address(host, port, "connection")
    ctype = tokens[7].lower()
    if ctype not in CANDIDATE_TYPES:
        raise CandidateSyntaxError(f"candidate type {tokens[7]!r} is not host, srflx, prflx or relay")
    related, named_tcptype, extensions = _ice19_extensions(tokens[8:])
    tcptype = named_tcptype or tcptype
    return Candidate(
        foundation=foundation,
        component=component_number,
        transport=proto,
        priority=priority_number,
        address=address,
        type=ctype,
        grammar=grammar,
        related=related,
        tcptype=tcptype,
        extensions=tuple(extensions),
        line=text,
        source=source,
    )


def _ice19_transport(transport: str) -> tuple[str, str, str | None]:
    """(transport, grammar, tcptype) of the transport token; Microsoft ICE19 names the TCP type there."""
    transport_upper = transport.upper()
    if transport_upper == "UDP":
        return "udp", "rfc5245", None
    if transport_upper == "TCP":
        return "tcp", "rfc5245", None
    if transport_upper in ("TCP-ACT", "TCP-PASS"):  # Microsoft ICE19
        return "tcp", "ms-ice19", "active" if transport_upper == "TCP-ACT" else "passive"
    raise CandidateSyntaxError(f"transport {transport!r} is not UDP, TCP, TCP-ACT or TCP-PASS")


def _ice19_extensions(rest: list[str]) -> tuple[Endpoint | None, str | None, list[tuple[str, str]]]:
    """(related address, tcptype, other extensions) from the name/value pairs after the type."""
    rel_addr = rel_port = tcptype = None
    extensions: list[tuple[str, str]] = []
    if len(rest) % 2:
        raise CandidateSyntaxError(f"extension {rest[-1]!r} has no value")
    for name, value in zip(rest[0::2], rest[1::2]):
        key = name.lower()
        if key == "raddr":
            rel_addr = value
        elif key == "rport":
            rel_port = value
        elif key == "tcptype":
            if value.lower() not in ("active", "passive", "so"):
                raise CandidateSyntaxError(f"tcptype {value!r} is not active, passive or so")
            tcptype = value.lower()
        else:
            extensions.append((name, value))
    if (rel_addr is None) != (rel_port is None):
        raise CandidateSyntaxError("raddr and rport must come together")
    related = _address(rel_addr, rel_port, "related") if rel_addr is not None and rel_port is not None else None
    return related, tcptype, extensions


def _parse_icev6(text: str, tokens: list[str], source: SourceRef | None) -> Candidate:
    # [MS-SDPEXT] / OC 2007: username component password transport qvalue address port
    if len(tokens) != 7:
        raise CandidateSyntaxError(f"ICEv6 candidate has {len(tokens)} fields, expected 7")
    username, component, password, transport, qvalue, host, port = tokens
    component_number = _component(component)
    if transport.upper() not in ("UDP", "TCP"):
        raise CandidateSyntaxError(f"ICEv6 transport {transport!r} is not UDP or TCP")
    try:
        weight = float(qvalue)
    except ValueError:
        raise CandidateSyntaxError(f"ICEv6 q-value {qvalue!r} is not a decimal number") from None
    if not 0.0 <= weight <= 1.0:
        raise CandidateSyntaxError(f"ICEv6 q-value {qvalue} is outside 0.0-1.0")
    return Candidate(
        foundation=username,
        component=component_number,
        transport=transport.lower(),
        priority=round(weight * 1000),
        address=_address(host, port, "connection"),
        type=None,
        grammar="ms-icev6",
        weight=weight,
        username=username,
        password=password,
        line=text,
        source=source,
    )


def parse_remote_candidates(value: str) -> list[RemoteCandidate]:
    """RFC 5245 §15.2 a=remote-candidates: `component address port` triples."""
    if len(value) > MAX_CANDIDATE_LINE:
        raise CandidateSyntaxError(f"line of {len(value)} characters, longer than {MAX_CANDIDATE_LINE}")
    tokens = _strip_prefix(value, "remote-candidates").split()
    if not tokens or len(tokens) % 3:
        raise CandidateSyntaxError("remote-candidates needs component/address/port triples")
    out = []
    for component, host, port in zip(tokens[0::3], tokens[1::3], tokens[2::3]):
        number = ascii_number(component, 3)
        if number is None:
            raise CandidateSyntaxError(f"remote-candidates component {component[:40]!r} is not a number")
        out.append(RemoteCandidate(component=number, address=_address(host, port, "remote-candidates")))
    return out


def parse_remote_candidate_v6(value: str) -> RemoteCandidate:
    """ICEv6 a=remote-candidate:<username>: names the chosen remote candidate by username."""
    username = _strip_prefix(value, "remote-candidate")
    if not username or " " in username:
        raise CandidateSyntaxError("remote-candidate needs exactly one username")
    return RemoteCandidate(component=None, address=None, username=username)
