"""Corpus regression: a compact summary per capture, compared with its golden file.

The golden file sits beside the capture as `<capture>.expected.json` and is written by
`icetrace check --update`. The summary keeps what a regression should notice (outcomes,
selected pairs, pair states, verdict codes) and leaves out what legitimately varies.
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


def summary(analysis: Analysis) -> dict[str, Any]:
    doc = analysis.to_dict()
    streams = []
    for s in doc["streams"]:
        components = []
        for c in s["components"]:
            sel = c["selected"]
            components.append(
                {
                    "component": c["component"],
                    "selected": None if sel is None else [sel["controlling"]["address"], sel["controlled"]["address"]],
                    "pairs": sorted(
                        f"{p['controlling']['address']} {p['controlled']['address']} {p['state']}" for p in c["pairs"]
                    ),
                }
            )
        streams.append(
            {
                "call_id": s["call_id"],
                "index": s["index"],
                "outcome": s["outcome"],
                "nomination_style": s["nomination_style"],
                "components": components,
            }
        )
    return {"streams": streams, "verdicts": sorted({v["code"] for v in doc["verdicts"]})}


def differences(expected: Any, actual: Any, where: str = "") -> list[str]:
    """Field-by-field differences, each naming its path."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual), key=str):
            out += differences(expected.get(key), actual.get(key), f"{where}/{key}")
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        out = []
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            out += differences(e, a, f"{where}[{i}]")
        return out
    return [] if expected == actual else [f"{where or '/'}: expected {expected!r}, got {actual!r}"]


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
