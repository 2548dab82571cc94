"""A time axis with its idle gaps cut short (a broken axis), so a 40 s pause between two bursts of
checks does not squeeze every check into a sliver.

Times are seconds since the story's start; `x()` maps them to where they are drawn. A gap longer
than `IDLE_GAP_S` and than a fifth of the whole span, in which nothing was sent (no check, no
gathering, no SIP event, no media), is drawn as a narrow break labelled with how long it lasted;
the tick labels keep the real times.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

IDLE_GAP_S = 5.0
IDLE_SHARE = 0.2  # of the whole span
BREAK_SHARE = 0.03  # of the drawn span: the width a cut gap keeps


@dataclass
class TimeAxis:
    cuts: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of each cut gap
    kept: float = 0.0  # drawn width of each cut

    @classmethod
    def of(cls, busy: Iterable[tuple[float, float]]) -> TimeAxis:
        """The axis for these busy intervals (an instant is an interval of no length)."""
        spans = sorted(busy)
        if not spans:
            return cls()
        whole = max(end for _, end in spans) - spans[0][0]
        cuts = []
        reach = spans[0][1]
        for start, end in spans[1:]:
            if start - reach > max(IDLE_GAP_S, IDLE_SHARE * whole):
                cuts.append((reach, start))
            reach = max(reach, end)
        drawn = whole - sum(b - a for a, b in cuts)
        return cls(cuts, max(BREAK_SHARE * drawn, 1e-3) if cuts else 0.0)

    def x(self, t: float) -> float:
        """Where time `t` is drawn."""
        shift = 0.0
        for start, end in self.cuts:
            if t >= end:
                shift += (end - start) - self.kept
            elif t > start:
                return start - shift + (t - start) / (end - start) * self.kept
        return t - shift

    def segments(self, low: float, high: float) -> list[tuple[float, float]]:
        """The uncut stretches of [low, high]."""
        out, start = [], low
        for a, b in self.cuts:
            out.append((start, a))
            start = b
        out.append((start, high))
        return [(a, b) for a, b in out if b > a]

    def set_ticks(self, ax: Axes, low: float, high: float, characters: float = 110.0) -> None:
        """Ticks at round real times in each uncut stretch, labelled with the real time; `characters`
        is about how many label characters the axis holds side by side, so no two labels touch."""
        positions: list[float] = []
        labels: list[str] = []
        total = max(self.x(high) - self.x(low), 1e-9)
        for a, b in self.segments(low, high):
            share = (self.x(b) - self.x(a)) / total
            values = MaxNLocator(nbins=max(1, round(8 * share))).tick_values(a, b)
            step = values[1] - values[0] if len(values) > 1 else max(b - a, 1e-9)
            for value in values:
                if not a - 1e-9 <= value <= b + 1e-9:
                    continue
                text = _seconds(value, step)
                gap = (len(text) + (len(labels[-1]) if labels else 0)) / 2 + 3
                if positions and self.x(value) - positions[-1] < gap * total / characters:
                    continue
                positions.append(self.x(value))
                labels.append(text)
        ax.set_xticks(positions, labels)

    def draw_breaks(self, ax: Axes, label: bool) -> None:
        """A grey band with the pause's length where each gap was cut."""
        for i, (start, end) in enumerate(self.cuts):
            left, right = self.x(start), self.x(end)
            ax.axvspan(left, right, color="0.85", alpha=0.6, lw=0, zorder=0.5, gid="idle-break")
            if label:  # from the top (a group's heading row, no marks), the next from the bottom, so two
                # cuts close together stay readable
                top = i % 2 == 0
                ax.annotate(
                    f"{duration_text(end - start)} idle",
                    ((left + right) / 2, 1.0 if top else 0.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(0, -3 if top else 3),
                    textcoords="offset points",
                    rotation=90,
                    ha="center",
                    va="top" if top else "bottom",
                    fontsize=6.5,
                    color="0.3",
                    gid="idle",
                )


def duration_text(seconds: float) -> str:
    """A pause in the unit that reads it: '52.8 s', '12.5 min', '3.2 h', '113.2 days' (a capture's clock
    may jump by months between two sessions)."""
    for unit, size in (("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= 2 * size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"


def _seconds(value: float, step: float) -> str:
    """A tick's time with as many decimals as its spacing needs: '0.25', '40', '217669'."""
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 0
    return f"{value:.{min(decimals, 6)}f}"
