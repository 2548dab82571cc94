"""SDP bodies (RFC 4566/8866) with their ICE attributes (RFC 8839, MS-SDPEXT).

Tolerant: a line that cannot be read is reported in `problems` with its line
number and skipped; everything else in the body is still used.
"""

from __future__ import annotations

from icetrace.protocol_number import ascii_number
from icetrace.records.endpoint import Endpoint
from icetrace.signaling.candidate import (
    CandidateSyntaxError,
    parse_candidate_line,
    parse_remote_candidate_v6,
    parse_remote_candidates,
)
from icetrace.signaling.model import MediaStream, SessionDescription, SourceRef


def parse_sdp(text: str, source: SourceRef | None = None, *, first_line: int = 1) -> SessionDescription:
    """One SDP body. Session-level ICE attributes are inherited by every media section."""
    desc = SessionDescription(grammar="none", source=source)
    session_attrs: list[tuple[str, str]] = []
    session_connection: str | None = None
    current: MediaStream | None = None
    # "just a= lines", as a user may paste them from a log: one synthetic media section
    bare = not any(line.lstrip().startswith("m=") for line in text.splitlines())
    if bare:
        current = MediaStream(index=0, media="audio", port=0, protocol="")
        desc.media.append(current)
    for number, raw in enumerate(text.splitlines(), start=first_line):
        line = raw.strip()
        if not line:
            continue
        if len(line) < 2 or line[1] != "=":
            desc.problems.append(f"line {number}: not an SDP line: {line[:60]!r}")
            continue
        kind, value = line[0], line[2:]
        if kind == "o" and (current is None or bare):
            desc.origin = value
        elif kind == "c":
            address = _connection_address(value)
            if current is None or bare:
                session_connection = address
            else:
                current.connection = address
        elif kind == "m":
            current = _media_line(value, number, desc, session_connection)
            desc.media.append(current)
        elif kind == "a":
            _attribute_line(value, number, desc, current, session_attrs, source, bare=bare)
    _inherit_session(desc, session_attrs, session_connection)
    _bundle(desc, session_attrs)
    grammars = {c.grammar for s in desc.media for c in s.candidates}
    if grammars:
        desc.grammar = "ms-icev6" if grammars == {"ms-icev6"} else ("ms-ice19" if "ms-ice19" in grammars else "rfc5245")
    return desc


def _attribute_line(
    value: str,
    number: int,
    desc: SessionDescription,
    current: MediaStream | None,
    session_attrs: list[tuple[str, str]],
    source: SourceRef | None,
    *,
    bare: bool,
) -> None:
    """An a= line: session-level before the first m=, else the current section's (bare a= lines
    are both: their ICE credentials stand for the session)."""
    name, _, attr_value = value.partition(":")
    if current is None:
        session_attrs.append((name, attr_value))
        return
    if bare and name in ("ice-ufrag", "ice-pwd", "ice-lite", "ice-options"):
        session_attrs.append((name, attr_value))
    current.attributes.append((name, attr_value))
    _media_attribute(current, name, attr_value, number, source, desc)


def _connection_address(value: str) -> str | None:
    """The address of a c= line (`IN IP4 192.0.2.1/127`: TTL and count dropped)."""
    parts = value.split()
    return parts[2].split("/")[0] if len(parts) >= 3 else None


def _media_line(value: str, number: int, desc: SessionDescription, connection: str | None) -> MediaStream:
    """The media section an m= line opens; a bad one still opens a section (its lines belong to it)."""
    parts = value.split()
    port = ascii_number(parts[1].split("/")[0], 5) if len(parts) >= 3 else None
    if port is None or port > 65535:
        desc.problems.append(f"line {number}: bad m= line: {value[:80]!r}")
        return MediaStream(index=len(desc.media), media=parts[0] if parts else "?", port=0, protocol="")
    return MediaStream(index=len(desc.media), media=parts[0], port=port, protocol=parts[2], connection=connection)


def _inherit_session(desc: SessionDescription, session_attrs: list[tuple[str, str]], connection: str | None) -> None:
    """Session-level ICE attributes and c= apply to every media section that does not set its own."""
    # the session-level values once (the first of each), then per stream: linear in lines
    ufrag = pwd = None
    lite = False
    options: tuple[str, ...] = ()
    for name, value in session_attrs:
        if name == "ice-ufrag" and ufrag is None:
            ufrag = value.strip()
        elif name == "ice-pwd" and pwd is None:
            pwd = value.strip()
        elif name == "ice-lite":
            lite = True
        elif name == "ice-options" and not options:
            options = tuple(value.split())
    for stream in desc.media:
        if stream.ice_ufrag is None:
            stream.ice_ufrag = ufrag
        if stream.ice_pwd is None:
            stream.ice_pwd = pwd
        stream.ice_lite = stream.ice_lite or lite
        if not stream.ice_options:
            stream.ice_options = options
        if stream.connection is None:
            stream.connection = connection


def _media_attribute(
    stream: MediaStream,
    name: str,
    value: str,
    number: int,
    source: SourceRef | None,
    desc: SessionDescription,
) -> None:
    ref = (
        SourceRef(kind=source.kind, name=source.name, position=source.position + number - 1, time=source.time)
        if source
        else None
    )
    try:
        if name in ("candidate", "x-candidate-ipv6"):
            stream.candidates.append(parse_candidate_line(value, ref))
        elif name == "remote-candidates":
            stream.remote_candidates.extend(parse_remote_candidates(value))
        elif name == "remote-candidate":
            stream.remote_candidates.append(parse_remote_candidate_v6(value))
        elif name == "ice-ufrag":
            stream.ice_ufrag = value.strip()
        elif name == "ice-pwd":
            stream.ice_pwd = value.strip()
        elif name == "ice-lite":
            stream.ice_lite = True
        elif name == "ice-options":
            stream.ice_options = tuple(value.split())
        elif name == "mid":
            stream.mid = value.strip()
        elif name == "label":
            stream.label = value.strip()
        elif name == "rtcp":
            parts = value.split()
            port = ascii_number(parts[0], 5) if parts else None
            if port is None or port > 65535:
                raise CandidateSyntaxError(f"port {value[:40]!r} is not a number 0-65535")
            host = parts[3] if len(parts) >= 4 else (stream.connection or "")
            stream.rtcp = Endpoint(host, port)
    except CandidateSyntaxError as exc:
        desc.problems.append(f"line {number}: bad a={name}: {exc}")


def _bundle(desc: SessionDescription, session_attrs: list[tuple[str, str]]) -> None:
    """RFC 8843 §7: the first mid of an a=group:BUNDLE names the m-line whose transport the group shares."""
    index_of = {m.mid: m.index for m in desc.media if m.mid is not None}
    for name, value in session_attrs:
        tokens = value.split()
        if name != "group" or not tokens or tokens[0].upper() != "BUNDLE":
            continue
        members = [index_of[mid] for mid in tokens[1:] if mid in index_of]
        for index in members[1:]:
            desc.media[index].bundled_with = members[0]
