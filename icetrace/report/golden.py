"""Corpus regression: a compact summary per capture, compared with its golden file.

The golden file sits beside the capture as `<capture>.expected.json` and is written by
`icetrace check --update`. The summary keeps what a regression should notice (per call, stream and
component: outcome, connectivity, nomination style, cause code, selected pair, the succeeded and
failed pairs, the nominated pairs where they are not just the selected one; the verdict codes) and
leaves out what legitimately varies (timings, counters, frame numbers).
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

from icetrace.analysis import Analysis
from icetrace.errors import InputError, OutputError

MAX_GOLDEN_BYTES = 16 << 20  # a summary is a few KB
MAX_GOLDEN_DEPTH = 32  # a summary nests 5 deep


GOLDEN_FORMAT = 3  # 3: streams carry their cause code


def _pair_label(p: dict[str, Any]) -> str:
    a, b = p["controlling"], p["controlled"]
    return f"{a['address']} {a['type']} -> {b['address']} {b['type']} {p['transport']}"


def stream_keys(streams: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Where each stream of `analyze --json` sits in a summary: its call's key and its own. Streams
    without signaling share the call `-` and an index, numbered `-`, `-#2`, ... in analysis order."""
    seen: set[tuple[str, str]] = set()
    out = []
    for s in streams:
        call = "-" if s["call_id"] is None else str(s["call_id"])
        base = "-" if s["index"] is None else str(s["index"])
        key, n = base, 1
        while (call, key) in seen:
            n += 1
            key = f"{base}#{n}"
        seen.add((call, key))
        out.append((call, key))
    return out


def _component(c: dict[str, Any]) -> dict[str, Any]:
    """A component's selected pair, its succeeded and failed pairs, and its nominated pairs where
    they are not just the selected one (most components: a full agent selects the pair it nominated,
    RFC 8445 §8.1.1), so a golden file grows only where a nomination tells something of its own."""
    selected = None if c["selected"] is None else _pair_label(c["selected"])
    out: dict[str, Any] = {
        "selected": selected,
        "succeeded": sorted({_pair_label(p) for p in c["pairs"] if p["state"] == "succeeded"}),
        "failed": sorted({_pair_label(p) for p in c["pairs"] if p["state"] == "failed"}),
    }
    nominated = sorted({_pair_label(p) for p in c["pairs"] if p["nominated"]})
    if nominated != ([selected] if selected else []):
        out["nominated"] = nominated
    return out


def summary(analysis: Analysis) -> dict[str, Any]:
    """What a user cares about per call, stream and component: no timings, counters or frame
    numbers, so a golden file changes only when the story does."""
    doc = analysis.to_dict()
    calls: dict[str, Any] = {}
    for s, (call_key, key) in zip(doc["streams"], stream_keys(doc["streams"]), strict=True):
        call = calls.setdefault(call_key, {"streams": {}})
        components = {}
        for c in s["components"]:
            ckey = str(c["component"])
            while ckey in components:
                ckey += "'"
            components[ckey] = _component(c)
        call["streams"][key] = {
            "media": s["media"],
            "outcome": s["outcome"],
            "connectivity": s["connectivity"],
            "nomination_style": s["nomination_style"],
            "cause": s["cause"]["code"] if s["cause"] else None,
            "components": components,
        }
    return {"format": GOLDEN_FORMAT, "calls": calls, "verdicts": sorted({v["code"] for v in doc["verdicts"]})}


_NAMES = {"calls": "call", "streams": "stream", "components": "component"}


def differences(expected: Any, actual: Any) -> list[str]:
    """Field-by-field differences a person can read: `call X stream 0 component 1: selected: was A -> now B`."""
    out: list[str] = []
    _diff(expected, actual, [], [], out)
    return out


def _where(place: list[str], field: list[str]) -> str:
    return ": ".join(x for x in (" ".join(place), "/".join(field)) if x) or "summary"


def _diff(expected: Any, actual: Any, place: list[str], field: list[str], out: list[str]) -> None:
    if expected == actual:
        return
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual), key=str):
            if field and field[-1] in _NAMES:  # a key of calls/streams/components names a place
                kind = _NAMES[field[-1]]
                if key not in expected or key not in actual:
                    state = "was absent -> now present" if key not in expected else "was present -> now absent"
                    out.append(f"{_where([*place, f'{kind} {key}'], field[:-1])}: {state}")
                    continue
                _diff(expected[key], actual[key], [*place, f"{kind} {key}"], field[:-1], out)
            else:
                _diff(expected.get(key), actual.get(key), place, [*field, str(key)], out)
        return
    label = _where(place, field)
    if _strings(expected) and _strings(actual):
        lost = sorted(set(expected) - set(actual))
        gained = sorted(set(actual) - set(expected))
        for item in lost:
            out.append(f"{label}: was {item} -> now gone")
        for item in gained:
            out.append(f"{label}: was not -> now {item}")
        if not lost and not gained:
            out.append(f"{label}: was {expected!r} -> now {actual!r}")
        return
    out.append(f"{label}: was {_show(expected)} -> now {_show(actual)}")


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _show(value: Any) -> str:
    return "absent" if value is None else json.dumps(value) if not isinstance(value, str) else value


def load_golden(path: Path) -> Any:
    """The golden file's document; InputError naming the file (and line) when it is not a summary."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_GOLDEN_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read golden file: {exc.strerror or exc}") from None
    if len(data) > MAX_GOLDEN_BYTES:
        raise InputError(f"{path}: golden file larger than {MAX_GOLDEN_BYTES >> 20} MB")
    if not data.strip():
        raise InputError(f"{path}: golden file is empty; run check --update")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{path}: line {line}: golden file is not UTF-8") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: line {exc.lineno}, column {exc.colno}: golden file is not JSON: {exc.msg}") from None
    except RecursionError:
        raise InputError(f"{path}: golden file nests deeper than JSON can be read") from None
    except ValueError as exc:  # e.g. an integer beyond Python's int-string limit
        raise InputError(f"{path}: golden file holds an unreadable value: {exc}") from None
    if not isinstance(doc, dict) or _depth(doc) > MAX_GOLDEN_DEPTH:
        raise InputError(f"{path}: golden file is not a capture summary")
    return doc


def _depth(doc: Any) -> int:
    """How deep containers nest, counted without recursion."""
    deepest, todo = 0, [(doc, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            if depth <= MAX_GOLDEN_DEPTH:
                todo.extend((child, depth + 1) for child in item)
    return deepest


def write_golden(path: Path, doc: Any) -> None:
    """Write the golden file in place, never through a symbolic link (it could point outside the corpus)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    if path.is_symlink():
        raise InputError(f"{path}: a symbolic link; check --update does not write through links")
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # became a link since the check above
            raise InputError(f"{path}: a symbolic link; check --update does not write through links") from None
        raise OutputError(f"{path}: cannot write golden file: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(doc, indent=2) + "\n")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write golden file: {exc.strerror or exc}") from None
