"""The ladder (a call-flow diagram, as sngrep and Wireshark's flow graph draw SIP, with STUN/TURN
understood): one column per transport address named by its role, arrows in time order.

Repetition is collapsed: every message of one kind between the same two addresses (a request and
its retransmissions, the consent checks on the selected pair, a media flow) is one arrow placed at
its first occurrence, labelled with its count, its time span and its first frame. Colours say the
outcome; the selected pairs' arrows are bold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from icetrace.ice.reconstruction import Reconstruction
from icetrace.plots.story import WRAPPING_METHODS, Story, build
from icetrace.records.vocabulary import TransactionOutcome

COLOURS = {
    "request": "tab:blue",
    "success": "tab:green",
    "error": "tab:red",
    "indication": "0.45",
    "media": "tab:cyan",
}
NO_ANSWER = " (no answer)"  # on a request's text: no STUN message came back (see ANSWERED)
# each transaction outcome: whether a message came back (an ICMP error is the network's, not an answer)
ANSWERED: dict[TransactionOutcome, bool] = {
    "success": True,
    "error": True,
    "nonstandard": True,
    "integrity-failure": True,
    "icmp-error": False,
    "timeout": False,
    "unanswered": False,
}
ROLE_ORDER = ("caller", "STUN server", "relay server", "edge relay", "callee")


@dataclass
class Arrow:
    """One drawn arrow: a message kind between two addresses, however often it was sent."""

    src: str
    dst: str
    text: str
    colour: str
    first: float
    last: float
    frame: int
    count: int = 1
    bold: bool = False
    unit: str = "×"

    @property
    def label(self) -> str:
        """'binding request ×7 over 31.50 s, no answer  f15…'"""
        text = self.text.removesuffix(NO_ANSWER)
        span = f"over {self.last - self.first:.2f} s"
        if self.unit == "pkts":
            body = f"{text} {self.count} pkts {span}"
        else:
            body = text if self.count == 1 else f"{text} ×{self.count} {span}"
        if self.text.endswith(NO_ANSWER):
            body += ", no answer"
        return f"{body}  f{self.frame}" + ("…" if self.count > 1 else "")


def arrows(rec: Reconstruction, messages: pd.DataFrame, transactions: pd.DataFrame) -> list[Arrow]:
    """The collapsed arrows of every STUN/TURN message and media flow, in order of first appearance."""
    selected = {
        frozenset(wire)
        for s in rec.streams
        for c in s.components
        if c.selected is not None
        for wire in _wire_pairs(c.selected)
    }
    by_key: dict[tuple[str, ...], Arrow] = {}
    t = transactions
    answered = [o for o, yes in ANSWERED.items() if yes]
    unanswered = dict(zip(t["transaction_id"].astype(str), ~t["outcome"].isin(answered), strict=True))
    inner = messages["kind"].eq("stun") & messages["relay_via"].notna() & ~messages["method"].isin(WRAPPING_METHODS)
    carried = set(messages.loc[inner, "frame"].tolist())
    for row in messages.to_dict("records"):
        kind = str(row.get("kind") or "")
        if kind != "stun":
            continue  # ChannelData that carries no STUN is data: drawn with the media flows
        if str(row.get("method")) in WRAPPING_METHODS and row["frame"] in carried:
            continue  # a Send/Data wrapper: drawn as the message it carries
        text, colour = _message_text(row)
        if row.get("class") == "request" and unanswered.get(str(row.get("transaction_id"))):
            text += NO_ANSWER
        key = (str(row["src"]), str(row["dst"]), text)
        _add(by_key, key, row, text, colour, frozenset((key[0], key[1])) in selected)
    for f in rec.media:
        key = (str(f.src), str(f.dst), f"media {f.kind}")
        arrow = Arrow(
            key[0], key[1], f"{f.kind}", COLOURS["media"], f.first_time, f.last_time, f.first_frame, f.packets
        )
        arrow.unit, arrow.bold = "pkts", frozenset((key[0], key[1])) in selected
        by_key[key] = arrow
    return sorted(by_key.values(), key=lambda a: (a.first, a.frame))


def _wire_pairs(p: Any) -> list[tuple[str, str]]:
    return [(str(a), str(b)) for a in p.controlling.wire_addresses for b in p.controlled.wire_addresses]


def _add(
    by_key: dict[tuple[str, ...], Arrow], key: tuple[str, ...], row: dict[Any, Any], text: str, colour: str, bold: bool
) -> None:
    time, frame = float(row["time"]), int(row["frame"])
    if key in by_key:
        arrow = by_key[key]
        arrow.count += 1
        arrow.last = max(arrow.last, time)
    else:
        by_key[key] = Arrow(key[0], key[1], text, colour, time, time, frame, bold=bold)


def _present(value: Any) -> bool:
    return value is not None and not bool(pd.isna(value))


def _message_text(row: dict[Any, Any]) -> tuple[str, str]:
    """'Binding request UC', 'Allocate error 401', 'ChannelData' and a colour for its class."""
    if str(row.get("kind")) != "stun":
        return "ChannelData", COLOURS["media"]
    method = str(row.get("method") or "?")
    cls = str(row.get("class") or "")
    text = f"{method} {cls}".strip()
    if cls == "error" and _present(row.get("error_code")):
        text += f" {int(row['error_code'])}"
    if row.get("use_candidate") is True:
        text += " USE-CANDIDATE"
    if _present(row.get("relay_via")):
        text += f" (in {row['relay_via']})"
    colour = {"request": "request", "success": "success", "error": "error"}.get(cls, "indication")
    return text, COLOURS[colour]


def columns(addresses: list[str], roles: dict[str, str]) -> list[str]:
    """Caller side on the left, servers in the middle, callee side on the right, the rest after."""

    def rank(addr: str) -> tuple[int, str]:
        role = roles.get(addr, "")
        for i, head in enumerate(ROLE_ORDER):
            if role.startswith(head):
                return i, role
        return len(ROLE_ORDER), role

    first_seen = {a: i for i, a in enumerate(addresses)}
    return sorted(addresses, key=lambda a: (*rank(a), first_seen[a]))


def ladder_figure(
    rec: Reconstruction,
    checks: pd.DataFrame,
    messages: pd.DataFrame,
    transactions: pd.DataFrame,
    story: Story | None = None,
    *,
    max_arrows: int = 160,
) -> Figure:
    """The ladder of `rec`, from its checks, messages and transactions tables."""
    story = story or build(rec, checks)
    drawn = arrows(rec, messages, transactions)
    hidden = max(0, len(drawn) - max_arrows)
    drawn = drawn[:max_arrows]
    cols = columns(list(dict.fromkeys(a for arrow in drawn for a in (arrow.src, arrow.dst))), story.roles)
    width = max(7.0, 1.9 * len(cols) + 2.5)
    fig = Figure(figsize=(width, 1.8 + 0.3 * max(len(drawn), 1) + (0.3 if hidden else 0)), layout="constrained")
    ax = fig.subplots()
    rows = len(drawn)
    _draw_columns(ax, cols, story.roles, rows)
    x = {addr: i for i, addr in enumerate(cols)}
    for y, arrow in enumerate(drawn):
        _draw_arrow(ax, arrow, x[arrow.src], x[arrow.dst], y, story.t0)
    if hidden:
        ax.annotate(f"… {hidden} more arrows not drawn", (0, rows), fontsize=7, color="0.3", gid="hidden")
    ax.set_ylim(rows + (0.6 if hidden else 0.2), -1.0)
    ax.set_xlim(-0.5, max(len(cols) - 0.5, 0.5))
    ax.axis("off")
    fig.suptitle(
        "STUN/TURN ladder, repeats collapsed (×count over span)\n"
        "blue requests, green success, red errors, grey indications, teal media; bold: selected pair",
        fontsize=9,
    )
    if not drawn:
        ax.text(0.5, 0.5, "no STUN/TURN messages", transform=ax.transAxes, ha="center", color="0.4")
    return fig


def _draw_columns(ax: Axes, cols: list[str], roles: dict[str, str], rows: int) -> None:
    """One vertical line per address, headed by its role and address."""
    for i, addr in enumerate(cols):
        ax.plot([i, i], [-0.6, rows], color="0.75", lw=1, zorder=0)
        role = roles.get(addr, "")
        ax.annotate(
            f"{role}\n{addr}" if role else addr,
            (i, -0.6),
            ha="center",
            va="bottom",
            fontsize=7.5,
            fontweight="bold" if role else "normal",
            gid="column",
        )


def _draw_arrow(ax: Axes, arrow: Arrow, a: int, b: int, y: int, t0: float) -> None:
    """One row: the arrow from column `a` to column `b`, its label, and its time on the left."""
    ax.annotate(
        "",
        xy=(b, y),
        xytext=(a, y),
        arrowprops={
            "arrowstyle": "-|>",
            "color": arrow.colour,
            "lw": 2.4 if arrow.bold else 1.0,
            "linestyle": "--" if arrow.text.endswith(NO_ANSWER) else "-",
            "shrinkA": 0,
            "shrinkB": 0,
        },
        gid="arrow",
    )
    ax.annotate(
        arrow.label,
        ((a + b) / 2, y),
        xytext=(0, 2),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=6.5,
        color=arrow.colour if arrow.colour != COLOURS["media"] else "teal",
        fontweight="bold" if arrow.bold else "normal",
        gid="arrow-label",
    )
    ax.annotate(
        f"+{arrow.first - t0:.3f} s", (-0.45, y), ha="right", va="center", fontsize=6.5, color="0.3", gid="time"
    )


def plot_ladder(
    rec: Reconstruction, checks: pd.DataFrame, messages: pd.DataFrame, transactions: pd.DataFrame, path: str | Path
) -> Path:
    """Write the ladder to `path` (PNG, SVG or PDF by suffix)."""
    ladder_figure(rec, checks, messages, transactions).savefig(path, dpi=110)
    return Path(path)
