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
from icetrace.plots.story import GatheringLane, Lane, MediaBand, Story, build, is_challenge, wrapped
from icetrace.plots.time_axis import TimeAxis

# kind -> (marker, colour, legend text); the gid of each drawn collection is "check-<kind>"
MARKS: dict[str, tuple[str, str, str]] = {
    "request": ("o", "tab:blue", "request"),
    "nominating": ("D", "tab:blue", "request with USE-CANDIDATE"),
    "retransmission": ("|", "tab:orange", "retransmission"),
    "success": ("o", "tab:green", "success response"),
    "error": ("X", "tab:red", "error response"),
    "nonstandard": ("P", "tab:olive", "answered by another message type"),
    "cancelled": ("s", "0.55", "cancelled (another pair nominated)"),
    "timeout": ("s", "0.35", "timed out"),
    "unanswered": ("s", "0.7", "unanswered (capture ended)"),
    "icmp-error": ("X", "tab:purple", "ICMP error"),
    "integrity-failure": ("*", "magenta", "MESSAGE-INTEGRITY failed"),
}
HOLLOW = {"request", "unanswered", "cancelled"}
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
    width = max(12.0, 0.06 * longest + 8.0)
    legend = _legend(story)
    height += 0.22 * -(-len(legend) // _legend_columns(legend, width))
    title = _title(story, width)
    height += 0.18 * title.count("\n")
    fig = Figure(figsize=(width, height), layout="constrained")
    if g_rows:
        gax, ax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [g_rows, max(len(rows), 1)]})
    else:
        gax, ax = None, fig.subplots()
    time = _time_axis(story)
    if gax is not None:
        _draw_gathering(gax, story, time)
    _draw_pairs(ax, rows, story, time)
    for axis in [a for a in (gax, ax) if a is not None]:
        for event in story.sip:
            axis.axvline(time.x(event.time - story.t0), color="tab:purple", lw=0.9, ls="--", alpha=0.7, gid="sip")
        for switch in story.switches:
            x = time.x(switch.time - story.t0)
            axis.axvline(x, color="tab:green", lw=1.2, ls="-.", alpha=0.8, gid="switch")
        time.draw_breaks(axis, label=axis is ax)
    _draw_switch_labels(ax, story, time)
    _draw_sip_labels(gax if gax is not None else ax, story, time)
    end = story.end - story.t0
    drawn = max(time.x(end), 1e-3)
    ax.set_xlim(-0.02 * drawn, time.x(end) + 0.06 * drawn)
    if time.cuts:  # matplotlib's own ticks otherwise
        time.set_ticks(ax, 0.0, end, characters=max(30.0, (width - 0.075 * longest - 4.0) / 0.075))
    start = datetime.fromtimestamp(story.t0, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    ax.set_xlabel(f"seconds since {start} UTC" + ("; grey bands: idle time cut short" if time.cuts else ""))
    fig.suptitle(title, fontsize=10)
    fig.legend(
        handles=legend, loc="outside lower center", ncols=_legend_columns(legend, width), fontsize=7, frameon=False
    )
    return fig


def _time_axis(story: Story) -> TimeAxis:
    """The broken axis: busy wherever a check, gathering transaction, SIP event or media was."""
    busy = [(e.time, e.time) for lane in story.lanes for e in lane.events]
    busy += [(lane.media.first, lane.media.last) for lane in story.lanes if lane.media]
    busy += [(e.time, e.time) for g in story.gathering for e in g.events] + [(e.time, e.time) for e in story.sip]
    return TimeAxis.of((a - story.t0, b - story.t0) for a, b in busy)


def _draw_switch_labels(ax: Any, story: Story, time: TimeAxis) -> None:
    """Each move of the pair in use, named at the foot of its line."""
    for switch in story.switches:
        ax.annotate(
            switch.label,
            (time.x(switch.time - story.t0), 0.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, 2),
            textcoords="offset points",
            rotation=90,
            fontsize=7,
            color="tab:green",
            ha="left",
            va="bottom",
            gid="switch-label",
        )


def _legend_columns(handles: list[Any], width: float) -> int:
    """As many columns as fit the figure's width, so no entry is cut off at either side."""
    longest = max((len(str(h.get_label())) for h in handles), default=10)
    return max(1, min(5, int((width - 0.4) / (0.058 * longest + 0.5))))


def _draw_sip_labels(top: Any, story: Story, time: TimeAxis) -> None:
    span = max(time.x(story.end - story.t0), 1.0)
    for x, text in _merged_sip_labels(story, time, span * 0.02):
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


def _merged_sip_labels(story: Story, time: TimeAxis, within: float) -> list[tuple[float, str]]:
    """SIP events drawn closer than `within` share one label, so their texts do not overprint."""
    merged: list[tuple[float, list[str]]] = []
    for event in story.sip:
        x = time.x(event.time - story.t0)
        if merged and x - merged[-1][0] < within:
            if event.label not in merged[-1][1]:
                merged[-1][1].append(event.label)
        else:
            merged.append((x, [event.label]))
    return [(x, ", ".join(texts)) for x, texts in merged]


def _title(story: Story, width: float) -> str:
    """Each stream's cause first, then what the plot shows."""
    selected = sum(lane.selected for lane in story.lanes)
    sessions = len({lane.stream for lane in story.lanes})
    where = f" in {sessions} sessions" if sessions > 1 else ""
    pairs = f"{len(story.lanes)} pair{'s' if len(story.lanes) != 1 else ''}"
    legend = (
        f"ICE checks per candidate pair: {pairs}{where}, "
        f"{selected} selected (green lane, one per component), nominated (yellow lane)"
    )
    if not story.lanes:  # nothing to count, nor a lane colour to explain
        legend = "ICE checks per candidate pair: the capture holds no connectivity check"
    return wrapped([*story.headlines, legend], width, 10)


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


def _draw_pairs(ax: Any, rows: list[Lane | str], story: Story, time: TimeAxis) -> None:
    points: dict[str, list[tuple[float, float]]] = {k: [] for k in MARKS}
    end = time.x(story.end - story.t0)
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
            _draw_media(ax, row.media, y, (time.x(row.media.first - story.t0), time.x(row.media.last - story.t0)), end)
        for e in row.events:
            points[e.kind].append((time.x(e.time - story.t0), y - 0.17 if e.from_controlling else y + 0.17))
        ax.annotate(
            row.state + (f", {row.rtt_text}" if row.rtt_text else ""),
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
        ax.set_yticks([0], ["no candidate pairs"], color="0.4")
        ax.set_ylim(0.5, -0.5)


def _draw_media(ax: Any, media: MediaBand, y: int, span: tuple[float, float], end: float) -> None:
    """A pair's media band and its count, written leftwards from the band's end when the band lies
    late in the plot, so the count stays inside it."""
    first, last = span
    ax.barh(y, max(last - first, 1e-3), left=first, height=0.55, color=MEDIA_COLOUR, alpha=0.22, gid="media")
    late = first > 0.6 * end
    ax.annotate(
        f"{media.kinds} {media.packets} pkt{'s' if media.packets != 1 else ''}",
        (last if late else first, y),
        xytext=(-3 if late else 3, 0),
        textcoords="offset points",
        ha="right" if late else "left",
        va="center",
        fontsize=6.5,
        color="navy",
        zorder=4,  # above the check markers, on a light box so both stay readable
        bbox={"facecolor": "white", "alpha": 0.6, "linewidth": 0, "pad": 0.6},
        gid="media-label",
    )


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


GATHER_COLOURS = {"success": "tab:green", "error": "tab:red", "challenge": "tab:orange"}
# marker by method, colour by outcome; unknown methods get "P"
GATHER_SHAPES = {"allocate": "s", "binding": "o", "refresh": "D", "channel-bind": "v", "create-permission": "^"}


def _draw_gathering(ax: Any, story: Story, time: TimeAxis) -> None:
    lanes: list[GatheringLane] = story.gathering
    for y, lane in enumerate(lanes):
        counts: dict[str, tuple[int, list[int]]] = {}
        for e in lane.events:
            colour = GATHER_COLOURS.get(e.outcome, "0.5")
            marker = GATHER_SHAPES.get(e.method, "P")
            x = time.x(e.time - story.t0)
            ax.plot(x, y, marker=marker, color=colour, ms=5, ls="none", alpha=0.85, gid="gathering")
            count, codes = counts.get(e.method, (0, []))
            counts[e.method] = (count + 1, codes + ([e.error_code] if e.error_code else []))
        parts = []
        for method, (count, codes) in counts.items():
            text = method + (f" ×{count}" if count > 1 else "")
            if codes:
                text += " (" + ", ".join(_code_text(method, c) for c in sorted(set(codes))) + ")"
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


def _code_text(method: str, code: int) -> str:
    return f"{code} challenge" if is_challenge(method, code) else str(code)


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
                label=f"{method} (gathering)",
            )
        )
    if methods:
        handles.append(Line2D([], [], ls="none", label="gathering: green success, orange 401 challenge, red error"))
    if any(lane.media for lane in story.lanes):
        handles.append(Patch(color=MEDIA_COLOUR, alpha=0.22, label="media (packets both ways)"))
    if story.sip:
        handles.append(Line2D([], [], color="tab:purple", ls="--", label="SIP event"))
    if story.switches:
        handles.append(Line2D([], [], color="tab:green", ls="-.", label="the pair in use changed"))
    return handles


def plot_timeline(rec: Reconstruction, checks: pd.DataFrame, path: str | Path) -> Path:
    """Write the timeline to `path` (PNG, SVG or PDF by suffix)."""
    timeline_figure(rec, checks).savefig(path, dpi=110)
    return Path(path)
