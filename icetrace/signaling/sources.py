"""Where signaling comes from: captures (SIP over UDP/TCP), client logs, and SDP/SIP files.

Lync/Skype for Business `.uccapilog` files hold each SIP message between
`$$begin_record` and `$$end_record`, after a few metadata lines and a
`Start-Line:`; Snooper and sngrep text exports hold plain messages. Files given
with --sdp may be a bare SDP body, a SIP message, or just a= lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from icetrace.errors import InputError
from icetrace.protocol_number import ascii_number
from icetrace.records.transport_packet import TransportPacket
from icetrace.signaling.agent_dump import looks_like_agent_dump, read_agent_dump
from icetrace.signaling.app_signaling import AppSignal, build_app_model, merge_known_description
from icetrace.signaling.collect import SignalingCollector
from icetrace.signaling.dialogs import build_model
from icetrace.signaling.model import Call, SdpExchange, SessionDescription, SignalingModel, SourceRef
from icetrace.signaling.sdp import parse_sdp
from icetrace.signaling.sip import SipMessage, SipSyntaxError, parse_sip

_START_LINE = re.compile(r"^(?:[A-Z]+ \S+ SIP/2\.0|SIP/2\.0 [0-9]{3}(?: .*)?)\s*$")
_LOG_TIME = re.compile(r"(\d{2})/(\d{2})/(\d{4})[-|](\d{2}):(\d{2}):(\d{2})\.(\d{3})", re.ASCII)


# Text inputs are read whole, so their size is bounded: an SDP body or one SIP message is a few KB
# and a client log of one call far below the log bound. Larger input (or /dev/zero) is refused.
MAX_SDP_FILE = 1 << 20
MAX_LOG_FILE = 256 << 20


def _read_text(path: Path, limit: int, what: str) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    if len(data) > limit:
        raise InputError(f"{path}: larger than {limit >> 20} MB, the most a {what} may hold")
    return data.decode("utf-8", errors="replace")


def _log_time(line: str) -> float | None:
    match = _LOG_TIME.search(line)
    if not match:
        return None
    import calendar

    month, day, year, hour, minute, sec, ms = (int(g) for g in match.groups())
    try:
        return calendar.timegm((year, month, day, hour, minute, sec, 0, 0, 0)) + ms / 1000
    except (ValueError, OverflowError):
        return None


def sip_from_text(text: str, name: str) -> Iterator[tuple[SourceRef, SipMessage | None, str]]:
    """Messages in a log or text export: (where, message or None, problem).

    One pass: a message's head ends at a blank line or at the next start line, its body at its
    Content-Length or the next start line, and the scan goes on after it (linear in the lines)."""
    lines = text.replace("\r\n", "\n").split("\n")
    if "$$begin_record" in text:
        yield from _uccapilog(lines, name)
        return
    index = 0
    while index < len(lines):
        if not _START_LINE.match(lines[index].strip()):
            index += 1
            continue
        item, index = _one_text_message(lines, index, name, None)
        yield item


def _ends_head(line: str) -> bool:
    stripped = line.strip()
    return not stripped or bool(_START_LINE.match(stripped)) or stripped.startswith("$$")


def _one_text_message(
    lines: list[str], start: int, name: str, time: float | None, first_line: str | None = None
) -> tuple[tuple[SourceRef, SipMessage | None, str], int]:
    """The message whose start line is lines[start] (or `first_line`, for a log's Start-Line:),
    and the index of the first line after it."""
    head: list[str] = [first_line if first_line is not None else lines[start].rstrip()]
    index = start + 1
    while index < len(lines) and not _ends_head(lines[index]):
        head.append(lines[index].rstrip())
        index += 1
    length = 0
    for line in head[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() in ("content-length", "l"):
            length = ascii_number(value.strip()) or 0
    body_lines: list[str] = []
    size = 0
    if index < len(lines) and not lines[index].strip():
        index += 1  # the blank line between head and body
        while (
            index < len(lines)
            and size < length
            and lines[index].strip() != "$$end_record"
            and not _START_LINE.match(lines[index].strip())
        ):
            body_lines.append(lines[index])
            size += len(lines[index].encode()) + 2
            index += 1
    data = ("\r\n".join(head) + "\r\n\r\n" + "\r\n".join(body_lines) + ("\r\n" if body_lines else "")).encode()
    ref = SourceRef(kind="log", name=name, position=start + 1, time=time)
    try:
        message = parse_sip(data)
        # text exports lose the exact CRLF count: trust the body we found
        message.body = ("\r\n".join(body_lines) + ("\r\n" if body_lines else "")).encode()
        return (ref, message, ""), index
    except SipSyntaxError as exc:
        return (ref, None, str(exc)), index


def _uccapilog(lines: list[str], name: str) -> Iterator[tuple[SourceRef, SipMessage | None, str]]:
    time: float | None = None
    in_record = False
    number = 0
    while number < len(lines):
        line = lines[number]
        if "$$begin_record" in line:
            in_record = True
            time = _log_time(line)
        elif "$$end_record" in line:
            in_record = False
        elif in_record and line.startswith("Start-Line:"):
            start_line = line.partition(":")[2].strip()
            item, number = _one_text_message(lines, number, name, time, first_line=start_line)
            yield item
            in_record = False
            continue
        number += 1


class CapturePackets(Protocol):
    """What signaling needs of a capture: its packets, then what went wrong reading them."""

    def __iter__(self) -> Iterator[TransportPacket]: ...

    @property
    def problems(self) -> Sequence[object]: ...


def load_signaling(
    captures: Iterable[tuple[str, CapturePackets]] = (),
    sdp_files: Iterable[str | Path] = (),
    logs: Iterable[str | Path] = (),
    model: SignalingModel | None = None,
    names: Mapping[str, str] | None = None,
) -> SignalingModel:
    """One signaling model from every source given (captures as (name, packets)); problems are
    kept, never raised. `names` gives a file, by the path as given, the name the outputs call it
    (records/capture_set.py `display_names`: files of one name in different folders told apart);
    a file it does not name is called by its file name."""
    model = model or SignalingModel()
    names = names or {}
    messages: list[tuple[SourceRef, SipMessage]] = []
    signals: list[AppSignal] = []
    for name, source in captures:
        collector = SignalingCollector(name)
        for packet in source:
            collector.feed(packet)
        collector.finish()
        messages.extend(collector.sip_messages)
        signals.extend(collector.signals)
        model.problems.extend(collector.problems)
        model.problems.extend(str(p) for p in source.problems)
    for log in logs:
        path = Path(log)
        name = names.get(str(log), path.name)
        text = _read_text(path, MAX_LOG_FILE, "log")
        if looks_like_agent_dump(text):
            read_agent_dump(text, name, model)
            continue
        for ref, message, problem in sip_from_text(text, name):
            if message is None:
                model.problems.append(f"{ref}: {problem}")
            else:
                messages.append((ref, message))
    build_model(messages, model)
    build_app_model(signals, model)
    add_sdp_files(model, sdp_files, names)
    return model


_SDP_LINE = re.compile(r"^[a-z]=\S", re.MULTILINE)  # RFC 8866 §5: every SDP line is <type>=<value>


def add_sdp_files(model: SignalingModel, paths: Iterable[str | Path], names: Mapping[str, str] | None = None) -> None:
    """--sdp files: SDP bodies, SIP messages or bare a= lines, in any order; each called by the name
    `names` gives its path as given (`load_signaling`), else by its file name.

    Who wrote a description is read from the descriptions, not from their order: among three or more
    files, one that names remote candidates is the offerer's updated offer, since only the controlling
    agent sends a=remote-candidates (RFC 5245 §9.1.2.2) or, in OC 2007, a=remote-candidate; the
    description with the same candidates or ufrag is that agent's offer, and the rest are answers.
    Only where nothing tells them apart (an offer and an answer alone) is the first file the offer.
    """
    paths = list(paths)
    names = names or {}
    described: list[tuple[Path, str, SessionDescription]] = []
    for item in paths:
        path = Path(item)
        name = names.get(str(item), path.name)
        text = _read_text(path, MAX_SDP_FILE, "SDP or SIP file")
        if not text.strip():
            raise InputError(f"{path}: empty; not an SDP body, SIP message or a= lines")
        if _START_LINE.match(text.lstrip().split("\n", 1)[0].strip()):
            sip = [(r, m) for r, m, _ in sip_from_text(text, name) if m is not None]
            if sip:
                build_model(sip, model)
                continue
        if not _SDP_LINE.search(text):
            raise InputError(
                f"{path}: not an SDP body, SIP message or a= lines (no line of the form x=...; "
                f"it starts {text.strip()[:40]!r})"
            )
        desc = parse_sdp(text, SourceRef(kind="file", name=name, position=1))
        model.problems.extend(f"{name}: {p}" for p in desc.problems)
        if merge_known_description(model, desc, text):
            continue  # the capture (or a log) already holds this description: the file adds candidates
        described.append((path, name, desc))
    call = Call(call_id="sdp-files")
    for role, name, desc in _file_roles(described, updates_possible=len(paths) >= 3):
        call.exchanges.append(
            SdpExchange(
                role=role,
                agent="caller" if role != "answer" else f"callee:{name}",
                sip_method=None,
                sip_status=None,
                bodies=[desc],
                source=SourceRef(kind="file", name=name, position=1),
            )
        )
    if call.exchanges:
        model.calls.append(call)


def _file_roles(
    described: list[tuple[Path, str, SessionDescription]], *, updates_possible: bool
) -> list[tuple[str, str, SessionDescription]]:
    """(role, name, description): the offer, the answers by file name, the updated offers by file name.

    An updated offer needs an offer and an answer before it, so it is looked for only among three or
    more files."""
    updates = [d for d in described if updates_possible and any(m.remote_candidates for m in d[2].media)]
    rest = [d for d in described if not any(d is u for u in updates)]
    offer = next((d for d in rest if any(_same_agent(d[2], u[2]) for u in updates)), rest[0] if rest else None)

    def by_file(d: tuple[Path, str, SessionDescription]) -> tuple[str, str]:
        return d[0].name, str(d[0])

    answers = sorted((d for d in rest if d is not offer), key=by_file)
    return (
        ([("offer", offer[1], offer[2])] if offer is not None else [])
        + [("answer", name, desc) for _path, name, desc in answers]
        + [("final-offer", name, desc) for _path, name, desc in sorted(updates, key=by_file)]
    )


def _same_agent(a: SessionDescription, b: SessionDescription) -> bool:
    """Two descriptions by one agent: a candidate or an ice-ufrag in common."""
    ufrags = {m.ice_ufrag for m in a.media if m.ice_ufrag} & {m.ice_ufrag for m in b.media if m.ice_ufrag}
    candidates = {(c.address, c.component) for m in a.media for c in m.candidates}
    return bool(ufrags) or any((c.address, c.component) in candidates for m in b.media for c in m.candidates)
