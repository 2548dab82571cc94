"""The timeline: time across, one lane per candidate pair (grouped by stream and component, highest
priority first), the gathering transactions in lanes above, SIP events as vertical marks.

Sized by lane count so 3 pairs and 60 pairs both read at a glance; constrained layout measures the
lane labels, so none is cut off however long its addresses are.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from icetrace.ice.reconstruction import Reconstruction
from icetrace.plots.story import GatheringLane, Lane, Story, build

# kind -> (marker, colour, legend text); the gid of each drawn collection is "check-<kind>"
MARKS: dict[str, tuple[str, str, str]] = {
    "request": ("o", "tab:blue", "request"),
    "nominating": ("D", "tab:blue", "request with USE-CANDIDATE"),
    "retransmission": ("|", "tab:orange", "retransmission"),
    "success": ("o", "tab:green", "success response"),
    "error": ("X", "tab:red", "error response"),
    "nonstandard": ("P", "tab:olive", "answered by another message type"),
    "timeout": ("s", "0.35", "timed out"),
    "unanswered": ("s", "0.7", "unanswered (capture ended)"),
    "icmp-error": ("X", "tab:purple", "ICMP error"),
    "integrity-failure": ("*", "magenta", "MESSAGE-INTEGRITY failed"),
}
HOLLOW = {"request", "unanswered"}
LANE_INCH = 0.3
SELECTED_COLOUR, NOMINATED_COLOUR, MEDIA_COLOUR = "#c8f0c8", "#fff0b0", "tab:blue"


def timeline_figure(rec: Reconstruction, checks: pd.DataFrame, story: Story | None = None) -> Figure:
    """The timeline of `rec`, from its checks table."""
    story = story or build(rec, checks)
    rows = _rows(story.lanes)
    g_rows = len(story.gathering)
    height = 1.9 + LANE_INCH * max(len(rows), 4) + (LANE_INCH * g_rows + 0.5 if g_rows else 0)
    # wide enough that the plot keeps most of the width beside the longest label (IPv6 pairs are long)
    longest = max([len(lane.label) for lane in story.lanes] + [len(g.label) for g in story.gathering] + [0])
    fig = Figure(figsize=(max(12.0, 0.06 * longest + 8.0), height), layout="constrained")
    if g_rows:
        gax, ax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [g_rows, max(len(rows), 1)]})
        _draw_gathering(gax, story)
    else:
        gax, ax = None, fig.subplots()
    _draw_pairs(ax, rows, story)
    for axis in [a for a in (gax, ax) if a is not None]:
        for event in story.sip:
            axis.axvline(event.time - story.t0, color="tab:purple", lw=0.9, ls="--", alpha=0.7, gid="sip")
    top = gax if gax is not None else ax
    span = max(story.end - story.t0, 1.0)
    for x, text in _merged_sip_labels(story, span * 0.02):
        top.annotate(
            text,
            (x, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 2),
            textcoords="offset points",
            rotation=90,
            fontsize=7,
            color="tab:purple",
            ha="center",
            va="bottom",
            gid="sip-label",
        )
    end = story.end - story.t0
    ax.set_xlim(-0.02 * max(end, 1.0), end + 0.06 * max(end, 1.0))
    start = datetime.fromtimestamp(story.t0, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    ax.set_xlabel(f"seconds since {start} UTC")
    fig.suptitle(_title(story), fontsize=10)
    fig.legend(handles=_legend(story), loc="outside lower center", ncols=5, fontsize=7, frameon=False)
    return fig


def _merged_sip_labels(story: Story, within: float) -> list[tuple[float, str]]:
    """SIP events closer than `within` seconds share one label, so their texts do not overprint."""
    merged: list[tuple[float, list[str]]] = []
    for event in story.sip:
        x = event.time - story.t0
        if merged and x - merged[-1][0] < within:
            if event.label not in merged[-1][1]:
                merged[-1][1].append(event.label)
        else:
            merged.append((x, [event.label]))
    return [(x, ", ".join(texts)) for x, texts in merged]


def _title(story: Story) -> str:
    selected = sum(lane.selected for lane in story.lanes)
    return (
        f"ICE checks per candidate pair: {len(story.lanes)} pairs, "
        f"{selected} selected (green lane), nominated (yellow lane)"
    )


def _rows(lanes: list[Lane]) -> list[Lane | str]:
    """Lanes with a header row before each stream/component group."""
    rows: list[Lane | str] = []
    group = None
    for lane in lanes:
        if lane.group != group:
            group = lane.group
            rows.append(group)
        rows.append(lane)
    return rows


def _draw_pairs(ax: Any, rows: list[Lane | str], story: Story) -> None:
    points: dict[str, list[tuple[float, float]]] = {k: [] for k in MARKS}
    labels = []
    for y, row in enumerate(rows):
        if isinstance(row, str):
            labels.append(row)
            ax.axhline(y + 0.5, color="0.6", lw=0.6)
            continue
        suffix = "  [selected]" if row.selected else ("  [nominated]" if row.nominated else "")
        labels.append(row.label + suffix)
        if row.selected or row.nominated:
            colour = SELECTED_COLOUR if row.selected else NOMINATED_COLOUR
            ax.axhspan(y - 0.5, y + 0.5, color=colour, zorder=0, gid="selected" if row.selected else "nominated")
        if row.media is not None:
            first, last = row.media.first - story.t0, row.media.last - story.t0
            ax.barh(y, max(last - first, 1e-3), left=first, height=0.55, color=MEDIA_COLOUR, alpha=0.22, gid="media")
            ax.annotate(
                f"{row.media.kinds} {row.media.packets} pkts",
                (first, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=6.5,
                color="navy",
                zorder=4,  # above the check markers, on a light box so both stay readable
                bbox={"facecolor": "white", "alpha": 0.6, "linewidth": 0, "pad": 0.6},
                gid="media-label",
            )
        for e in row.events:
            points[e.kind].append((e.time - story.t0, y - 0.17 if e.from_controlling else y + 0.17))
        rtt = row.first_rtt_ms
        ax.annotate(
            row.state + ("" if rtt is None else f", rtt {rtt:.1f} ms"),
            (1.0, y),
            xycoords=("axes fraction", "data"),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=6.5,
            color="darkgreen" if row.state == "succeeded" else ("tab:red" if row.state == "failed" else "0.3"),
            gid="state",
        )
    for kind, xy in points.items():
        if xy:
            _scatter(ax, kind, xy)
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
        if isinstance(row, str):
            tick.set_fontweight("bold")
            tick.set_fontsize(8)
        elif row.selected:
            tick.set_fontweight("bold")
    ax.set_ylim(max(len(rows), 1) - 0.5, -0.5)
    ax.grid(axis="x", color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    if rows:
        ax.set_ylabel("pairs: controlling → controlled", fontsize=8)
    if not rows:
        ax.text(0.5, 0.5, "no candidate pairs", transform=ax.transAxes, ha="center", color="0.4")


def _scatter(ax: Any, kind: str, xy: list[tuple[float, float]]) -> None:
    marker, colour, _ = MARKS[kind]
    size = 60 if kind in ("retransmission", "integrity-failure") else 26
    face = "none" if kind in HOLLOW else colour
    edge = {} if marker == "|" else {"edgecolors": colour}
    ax.scatter(
        [x for x, _ in xy],
        [y for _, y in xy],
        s=size,
        marker=marker,
        facecolors=face,
        linewidths=1.1,
        **edge,
        zorder=3,
        gid=f"check-{kind}",
    )


GATHER_COLOURS = {"success": "tab:green", "error": "tab:red"}
# marker by method, colour by outcome; unknown methods get "P"
GATHER_SHAPES = {"allocate": "s", "binding": "o", "refresh": "D", "channel-bind": "v", "create-permission": "^"}


def _draw_gathering(ax: Any, story: Story) -> None:
    lanes: list[GatheringLane] = story.gathering
    for y, lane in enumerate(lanes):
        counts: dict[str, tuple[int, list[int]]] = {}
        for e in lane.events:
            colour = GATHER_COLOURS.get(e.outcome, "0.5")
            marker = GATHER_SHAPES.get(e.method, "P")
            ax.plot(e.time - story.t0, y, marker=marker, color=colour, ms=5, ls="none", alpha=0.85, gid="gathering")
            count, codes = counts.get(e.method, (0, []))
            counts[e.method] = (count + 1, codes + ([e.error_code] if e.error_code else []))
        parts = []
        for method, (count, codes) in counts.items():
            text = method + (f" ×{count}" if count > 1 else "")
            if codes:
                text += " (" + ", ".join(str(c) for c in sorted(set(codes))) + ")"
            parts.append(text)
        ax.annotate(
            ", ".join(parts),
            (1.0, y),
            xycoords=("axes fraction", "data"),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=6,
            gid="gathering-label",
        )
    ax.set_yticks(range(len(lanes)), [lane.label for lane in lanes], fontsize=7)
    ax.set_ylim(len(lanes) - 0.5, -0.5)
    ax.set_ylabel("gathering", fontsize=8)
    ax.grid(axis="x", color="0.9", lw=0.6)


def _legend(story: Story) -> list[Any]:
    present = {e.kind for lane in story.lanes for e in lane.events}
    handles: list[Any] = []
    for kind, (marker, colour, text) in MARKS.items():
        if kind in present:
            face = "none" if kind in HOLLOW else colour
            handles.append(
                Line2D([], [], ls="none", marker=marker, markerfacecolor=face, markeredgecolor=colour, label=text)
            )
    handles.append(Line2D([], [], ls="none", label="(upper half: sent by controlling, lower: controlled)"))
    methods = {e.method for g in story.gathering for e in g.events}
    for method in sorted(methods):
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker=GATHER_SHAPES.get(method, "P"),
                markerfacecolor="none",
                markeredgecolor="0.3",
                label=f"{method} (gathering; colour: outcome)",
            )
        )
    if any(lane.media for lane in story.lanes):
        handles.append(Patch(color=MEDIA_COLOUR, alpha=0.22, label="media (packets both ways)"))
    if story.sip:
        handles.append(Line2D([], [], color="tab:purple", ls="--", label="SIP event"))
    return handles


def plot_timeline(rec: Reconstruction, checks: pd.DataFrame, path: str | Path) -> Path:
    """Write the timeline to `path` (PNG, SVG or PDF by suffix)."""
    timeline_figure(rec, checks).savefig(path, dpi=110)
    return Path(path)
