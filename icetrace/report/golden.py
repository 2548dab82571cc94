"""Corpus regression: a compact summary per capture, compared with its golden file.

The golden file sits beside the capture as `<capture>.expected.json` and is written by
`icetrace check --update`. The summary keeps what a regression should notice (outcomes,
selected pairs, pair states, verdict codes) and leaves out what legitimately varies.
"""

from __future__ import annotations

from typing import Any

from icetrace.analysis import Analysis


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
