"""Check ladder (sngrep-style call flow): one column per transport address, one arrow per check.

Columns are the addresses the checks ran between; arrows are coloured by outcome and the
selected pairs are drawn bold. matplotlib is imported here only, never by the CLI's other paths.
"""

from __future__ import annotations

from pathlib import Path

from icetrace.analysis import Analysis

COLOURS = {"success": "tab:green", "error": "tab:red", "timeout": "tab:gray", "unanswered": "tab:orange"}


def plot_ladder(analysis: Analysis, path: str | Path, *, max_checks: int = 200) -> Path:
    """Write the ladder of every ICE check (first `max_checks`) to `path` (PNG, SVG or PDF by suffix)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    checks = analysis.checks.head(max_checks)
    columns = list(dict.fromkeys([*checks.src.tolist(), *checks.dst.tolist()]))
    x = {addr: i for i, addr in enumerate(columns)}
    selected = {
        frozenset((str(c.selected.controlling.address), str(c.selected.controlled.address)))
        for s in analysis.streams
        for c in s.components
        if c.selected
    }
    height = max(4.0, 0.18 * len(checks) + 2)
    fig, ax = plt.subplots(figsize=(max(6.0, 2.2 * len(columns)), height))
    t0 = float(checks.time.min()) if len(checks) else 0.0
    for i, addr in enumerate(columns):
        ax.axvline(i, color="0.8", lw=1, zorder=0)
        ax.text(i, -0.6, addr, ha="center", va="bottom", fontsize=8, rotation=0)
    for row, check in enumerate(checks.itertuples()):
        y = row
        a, b = x[check.src], x[check.dst]
        bold = frozenset((check.src, check.dst)) in selected
        colour = COLOURS.get(check.outcome, "black")
        ax.annotate(
            "", xy=(b, y), xytext=(a, y), arrowprops={"arrowstyle": "->", "color": colour, "lw": 2.4 if bold else 1.0}
        )
        label = f"{check.time - t0:7.3f}s f{check.frame}" + (" UC" if check.use_candidate else "")
        ax.text(min(a, b) + abs(b - a) / 2, y - 0.15, label, ha="center", fontsize=6, color=colour)
    ax.set_ylim(len(checks) + 0.5, -1.2)
    ax.set_xlim(-0.6, max(len(columns) - 0.4, 0.6))
    ax.axis("off")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, label=k) for k, c in COLOURS.items()]
    ax.legend(handles=handles, loc="lower right", fontsize=7, title="check outcome (bold: selected)")
    out = Path(path)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_timeline(analysis: Analysis, path: str | Path) -> Path:
    """One lane per candidate pair: checks as ticks coloured by outcome, media as a bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = analysis.pairs
    checks = analysis.checks
    fig, ax = plt.subplots(figsize=(10, max(3.0, 0.45 * len(pairs) + 1.5)))
    t0 = float(checks.time.min()) if len(checks) else 0.0
    labels = []
    for lane, pair in enumerate(pairs.itertuples()):
        labels.append(f"{pair.controlling} ({pair.controlling_type}) - {pair.controlled} ({pair.controlled_type})")
        ends = {pair.controlling, pair.controlled}
        mine = checks[checks.src.isin(ends) & checks.dst.isin(ends)]
        for check in mine.itertuples():
            ax.plot(check.time - t0, lane, "|", ms=12, color=COLOURS.get(check.outcome, "black"))
        if pair.selected:
            media = analysis.media[analysis.media.src.isin(ends) & analysis.media.dst.isin(ends)]
            if len(media):
                ax.plot(
                    [media.first_time.min() - t0, media.last_time.max() - t0],
                    [lane, lane],
                    lw=5,
                    color="tab:blue",
                    alpha=0.4,
                    solid_capstyle="butt",
                )
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the first check")
    ax.set_title("ICE checks per pair (ticks: green success, grey timeout, red error; bar: media)", fontsize=9)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
