"""ICE signaling inside an application's message: SDP and trickled candidates, whatever the app calls them.

WebRTC leaves signaling to the application, so the keys around an SDP or a candidate differ from
app to app; what does not differ is the W3C shape of the values: an SDP string (`v=0` first, line
ends escaped in JSON) beside an optional `"type": "offer"|"answer"`, and RTCIceCandidateInit
`{"candidate": "candidate:…", "sdpMid": …, "sdpMLineIndex": …, "usernameFragment": …}` where an
empty candidate marks the end of candidates. Bodies that are not JSON are read as a bare SDP (WHIP,
RFC 9725) or an SDP fragment (RFC 8840: a=ice-ufrag, a=mid, a=candidate, a=end-of-candidates).
The JSON walk is bounded in depth and in nodes; a JSON string that itself holds JSON is opened.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

MAX_DEPTH = 32
MAX_NODES = 200_000
# arrays and objects in one JSON text: a webrtc-internals dump of a long call holds some thousands
# (its stats series are strings), so this bound is far above any real one
MAX_CONTAINERS = 1_000_000
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')


@dataclass(frozen=True, slots=True, kw_only=True)
class Description:
    sdp: str
    type: str | None  # "offer" | "answer" | "pranswer" when the app said so


@dataclass(frozen=True, slots=True, kw_only=True)
class TrickledCandidate:
    """One candidate as trickled (RFC 8838), or the end of candidates when `line` is empty."""

    line: str  # "candidate:…" without "a=", or "" for end-of-candidates
    mid: str | None
    mline_index: int | None
    ufrag: str | None


Signal = Description | TrickledCandidate


class PayloadError(ValueError):
    """The message looked like JSON but could not be read within the bounds."""


def signals_in(text: str) -> tuple[list[Signal], list[str]]:
    """What one message carries, and a problem per thing that could not be read."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            value = load_json(stripped)
        except PayloadError as exc:
            return [], [str(exc)]
        out: list[Signal] = []
        problems: list[str] = []
        _walk(value, 0, [0], out, problems)
        return out, problems
    if stripped.startswith("v=0"):
        return [Description(sdp=stripped, type=None)], []
    if "a=candidate:" in stripped or "a=end-of-candidates" in stripped:
        return list(_sdpfrag(stripped)), []
    return [], []


def _json_int(digits: str) -> int | float:
    """A JSON integer; one longer than any value a signaling message holds is read as a float (1e999:
    infinity), since Python refuses to convert over 4,300 digits and would lose the whole message."""
    return int(digits) if len(digits) <= 64 else float(digits)


def _containers(text: str) -> int:
    """How many arrays and objects parsing `text` would build (brackets inside strings left out)."""
    count = text.count("[") + text.count("{")
    if count > MAX_CONTAINERS:
        # counted again without the strings (a dump's stats series hold "[1,2,3]" as text)
        bare = _JSON_STRING.sub("", text)
        count = bare.count("[") + bare.count("{")
    return count


def load_json(text: str) -> object:
    """The JSON value of `text`, or PayloadError. Each array or object costs Python 50-100 bytes, so
    a text of empty lists would cost over 20 times its size: past MAX_CONTAINERS it is refused."""
    if _containers(text) > MAX_CONTAINERS:
        raise PayloadError(f"JSON with over {MAX_CONTAINERS} arrays and objects: skipped")
    try:
        return json.loads(text, parse_int=_json_int)
    except RecursionError:
        raise PayloadError("JSON nested too deeply to read: skipped") from None
    except ValueError as exc:
        raise PayloadError(f"JSON does not parse ({exc}): skipped") from None


def _walk(value: object, depth: int, nodes: list[int], out: list[Signal], problems: list[str]) -> None:
    nodes[0] += 1
    if nodes[0] > MAX_NODES:
        if nodes[0] == MAX_NODES + 1:
            problems.append(f"JSON with over {MAX_NODES} values: the rest skipped")
        return
    if depth > MAX_DEPTH:
        if not any(p.startswith("JSON nested") for p in problems):
            problems.append(f"JSON nested over {MAX_DEPTH} levels: the deeper values skipped")
        return
    if isinstance(value, dict):
        found = _candidate_of(value) or _description_of(value)
        if found is not None:
            out.append(found)
        for key, item in value.items():
            if found is not None and key in ("candidate", "sdp"):
                continue
            _walk(item, depth + 1, nodes, out, problems)
    elif isinstance(value, list):
        for item in value:
            _walk(item, depth + 1, nodes, out, problems)
    elif isinstance(value, str):
        text = value.lstrip()
        if text.startswith("v=0"):
            out.append(Description(sdp=text, type=None))
        elif text.startswith(("candidate:", "a=candidate:")):
            out.append(TrickledCandidate(line=_bare(text), mid=None, mline_index=None, ufrag=None))
        elif text.startswith("a=end-of-candidates"):
            out.append(TrickledCandidate(line="", mid=None, mline_index=None, ufrag=None))
        elif text.startswith(("{", "[")) and len(text) <= 1 << 20:
            try:
                inner = load_json(text)
            except PayloadError:
                return  # a string that only looks like JSON
            _walk(inner, depth + 1, nodes, out, problems)


def _bare(line: str) -> str:
    line = line.strip()
    return line[2:] if line.startswith("a=") else line


def _candidate_of(obj: dict[str, object]) -> TrickledCandidate | None:
    line = obj.get("candidate")
    if not isinstance(line, str):
        return None
    text = line.strip()
    if text and not text.startswith(("candidate:", "a=candidate:", "a=end-of-candidates")):
        return None
    if (
        text
        and not any(k in obj for k in ("sdpMid", "sdpMLineIndex", "usernameFragment"))
        and not text.startswith(("candidate:", "a=candidate:"))
    ):
        return None
    if not text and not any(k in obj for k in ("sdpMid", "sdpMLineIndex", "usernameFragment")):
        return None  # an empty "candidate" key with nothing around it says nothing
    mid = obj.get("sdpMid")
    index = obj.get("sdpMLineIndex")
    ufrag = obj.get("usernameFragment")
    return TrickledCandidate(
        line="" if text.startswith("a=end-of-candidates") else _bare(text),
        mid=str(mid) if isinstance(mid, str | int) and not isinstance(mid, bool) else None,
        # W3C: an unsigned short; anything else (a negative index, a float, a string) is absent
        mline_index=index if isinstance(index, int) and not isinstance(index, bool) and 0 <= index <= 0xFFFF else None,
        ufrag=ufrag if isinstance(ufrag, str) else None,
    )


def _description_of(obj: dict[str, object]) -> Description | None:
    sdp = obj.get("sdp")
    if not isinstance(sdp, str) or not sdp.lstrip().startswith("v=0"):
        return None
    kind = obj.get("type")
    return Description(sdp=sdp.lstrip(), type=kind.lower() if isinstance(kind, str) else None)


def _sdpfrag(text: str) -> Iterator[TrickledCandidate]:
    """RFC 8840 trickle-ice-sdpfrag: candidates under their a=mid, with the session's a=ice-ufrag."""
    ufrag: str | None = None
    mid: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("a=ice-ufrag:"):
            ufrag = line.partition(":")[2].strip()
        elif line.startswith("a=mid:"):
            mid = line.partition(":")[2].strip()
        elif line.startswith("a=candidate:"):
            yield TrickledCandidate(line=line[2:], mid=mid, mline_index=None, ufrag=ufrag)
        elif line.startswith("a=end-of-candidates"):
            yield TrickledCandidate(line="", mid=mid, mline_index=None, ufrag=ufrag)
