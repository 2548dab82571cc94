"""The ladder (a call-flow diagram, as sngrep and Wireshark's flow graph draw SIP, with STUN/TURN
understood): one column per transport address named by its role, arrows in time order.

Repetition is collapsed: every message of one kind between the same two addresses (a request and
its retransmissions, the consent checks on the selected pair, a media flow) is one arrow placed at
its first occurrence, labelled with its count, its time span, the transport of each leg and its
first frame. A message relayed by TURN is drawn from its sender to the peer behind the relay (or
from that peer to its receiver), through the relay server's column, so the picture shows which
peer a check went to. Colours say the outcome; bold arrows are the selected path: what travelled
on a selected pair and was answered, and its media. Idle gaps are marked by a break.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from icetrace.ice.carried_media import one_copy_per_flow
from icetrace.ice.reconstruction import Reconstruction
from icetrace.plots.story import WRAPPING_METHODS, Story, agent_sides, build, is_challenge, with_host_sockets, wrapped
from icetrace.plots.time_axis import duration_text
from icetrace.records.vocabulary import TransactionOutcome

COLOURS = {
    "request": "tab:blue",
    "success": "tab:green",
    "error": "tab:red",
    "challenge": "tab:orange",  # a 401/438 asking for (fresh) credentials: the normal first answer
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
    "cancelled": False,
    "timeout": False,
    "unanswered": False,
}
# left to right; a TURN client no agent is known to own (its checks are not in the capture) on the left
ROLE_ORDER = ("caller", "TURN client", "STUN server", "relay server", "edge relay", "callee")
IDLE_BREAK_S = 5.0  # a pause this long between two rows is drawn as a break in the ladder
# RFC 8656 §2: a TURN server relays to peers over UDP; RFC 6062's TCP relaying uses Connect, not Send/Data
RELAY_TO_PEER = "udp"


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
    frame_name: str = ""  # the frame as 'file#number', when several captures were read
    legs: tuple[str, ...] = ("udp",)  # the transport of each leg: ("tcp", "udp") through a relay
    via: str | None = None  # the relay server's address when the message went through TURN

    @property
    def label(self) -> str:
        """'binding request ×7 over 31.50 s, no answer  udp  f15…'; relayed: '… tcp→relay→udp …'."""
        text = self.text.removesuffix(NO_ANSWER)
        span = f"over {self.last - self.first:.2f} s"
        if self.unit == "pkts":
            body = f"{text} 1 pkt" if self.count == 1 else f"{text} {self.count} pkts {span}"
        else:
            body = text if self.count == 1 else f"{text} ×{self.count} {span}"
        if self.text.endswith(NO_ANSWER):
            body += ", no answer"
        legs = "→relay→".join(self.legs)
        return f"{body}  {legs}  {self.frame_name or f'f{self.frame}'}" + ("…" if self.count > 1 else "")


def arrows(rec: Reconstruction, messages: pd.DataFrame, transactions: pd.DataFrame) -> list[Arrow]:
    """The collapsed arrows of every STUN/TURN message and media flow, in order of first appearance."""
    path = SelectedPath(rec)
    by_key: dict[tuple[str, ...], Arrow] = {}
    t = transactions
    answers = [o for o, yes in ANSWERED.items() if yes]
    unanswered = dict(zip(t["transaction_id"].astype(str), ~t["outcome"].isin(answers), strict=True))
    inner = messages["kind"].eq("stun") & messages["relay_via"].notna() & ~messages["method"].isin(WRAPPING_METHODS)
    carried = set(messages.loc[inner, "frame"].tolist())
    copies = _seen_at_another_tap(rec)
    for row in messages.to_dict("records"):
        if str(row.get("kind") or "") != "stun":
            continue  # ChannelData that carries no STUN is data: drawn with the media flows
        if row["frame"] in copies:
            continue  # one arrow per message: another tap's copy of it is drawn
        if str(row.get("method")) in WRAPPING_METHODS and row["frame"] in carried:
            continue  # a Send/Data wrapper: drawn as the message it carries
        text, colour = _message_text(row)
        if row.get("class") == "request" and unanswered.get(str(row.get("transaction_id"))):
            text += NO_ANSWER
        src, dst, via = _ends(row)
        legs = _legs(row, via)
        key = (src, dst, text, *legs)
        if key in by_key:
            _repeat(by_key[key], float(row["time"]))
        else:
            arrow = Arrow(src, dst, text, colour, float(row["time"]), float(row["time"]), int(row["frame"]))
            arrow.legs, arrow.via = legs, via
            by_key[key] = arrow
        answered = colour in (COLOURS["request"], COLOURS["success"]) and not text.endswith(NO_ANSWER)
        by_key[key].bold |= answered and path.carries(str(row.get("transaction_id")), src, dst, via)
    by_key.update(_media_arrows(rec, path))
    if rec.captures.several:
        for arrow in by_key.values():
            arrow.frame_name = rec.captures.frame_text(arrow.frame)
    return sorted(by_key.values(), key=lambda a: (a.first, a.frame))


def _media_arrows(rec: Reconstruction, path: SelectedPath) -> dict[tuple[str, ...], Arrow]:
    """One arrow per media flow. A TURN client's ChannelData leg counts the media it carried (the
    checks inside its ChannelData are drawn as the checks they are, ice/relayed_checks.py)."""
    # a NAT's two names of one socket: from one check seen at two taps, or a server's mapping of it
    joined = [(m.inside, m.outside) for m in rec.nat_mappings] + [(m.base, m.mapped) for m in rec.mappings]
    out: dict[tuple[str, ...], Arrow] = {}
    for f in one_copy_per_flow(rec.media, joined, rec.captures.tap) if rec.captures.several else rec.media:
        key = (str(f.src), str(f.dst), f"media {f.kind}")
        arrow = Arrow(*key[:2], f.kind, COLOURS["media"], f.first_time, f.last_time, f.first_frame, f.packets)
        leg = f.kind == "channeldata" and path.on_leg(*key[:2])
        arrow.unit, arrow.bold, arrow.legs = "pkts", leg or path.on(*key[:2]), (str(f.transport or "udp"),)
        out[key] = arrow
    return out


def _seen_at_another_tap(rec: Reconstruction) -> set[int]:
    """Frames whose message another tap also saw, and whose arrow comes from that tap's copy: of a
    transaction, the records of the tap that saw the most of it (its requests and answers, on every
    leg) are drawn; of an indication, the first tap's copy."""
    if not rec.captures.several or rec.captures.timeline:
        return set()
    tap = rec.captures.tap
    out: set[int] = set()
    for t in rec.transactions:
        by_tap: dict[int, list[Any]] = {}
        for view in (t, *t.other_views):
            for r in [*view.requests, *view.responses]:
                by_tap.setdefault(tap(r.frame), []).append(r)
        kept = max(by_tap, key=lambda k: (len(by_tap[k]), -min(r.time for r in by_tap[k])))
        out.update(r.frame for k, records in by_tap.items() if k != kept for r in records)
    first_tap: dict[tuple[str, int], int] = {}
    for r in rec.records:
        if r.kind == "stun" and r.cls == "indication" and r.relay is None and r.transaction_id:
            seen = first_tap.setdefault((r.transaction_id, r.type), tap(r.frame))
            if seen != tap(r.frame):
                out.add(r.frame)
    return out


class SelectedPath:
    """The checks of each selected pair, and the addresses of its two sides (for media, and for
    answers whose request the capture missed). A relayed message counts by the relayed
    address its client holds on that server (an agent may allocate from its host socket, so the
    client's address alone does not tell a relayed check from a direct one); when that allocation
    is not in the capture, by the TURN clients of the selected pair's relayed candidates."""

    def __init__(self, rec: Reconstruction) -> None:
        self.relayed_of: dict[tuple[str, str], str] = {}
        by_hosts: dict[tuple[str, str], set[str]] = {}  # the same by IP addresses, for ports a NAT rewrote
        client_of: dict[str, set[str]] = {}
        for a in rec.allocations:
            if a.relayed is not None:
                self.relayed_of[(str(a.client), str(a.server))] = str(a.relayed)
                by_hosts.setdefault((str(a.client.ip), str(a.server.ip)), set()).add(str(a.relayed))
                client_of.setdefault(str(a.relayed), set()).add(str(a.client))
        self.by_hosts = {hosts: next(iter(r)) for hosts, r in by_hosts.items() if len(r) == 1}
        chosen = {id(c.selected) for s in rec.streams for c in s.components if c.selected is not None}
        self.checks = {str(c.transaction.request.transaction_id): id(c.pair) in chosen for c in rec.checks}
        # the client-to-server legs a selected pair's relayed checks travelled: its media's too
        self.legs = {
            frozenset((str(r.relay.client), str(r.relay.server)))
            for c in rec.checks
            if id(c.pair) in chosen
            for r in (*c.transaction.requests, *c.transaction.responses)
            if r.relay is not None
        }
        self.sides: list[tuple[set[str], set[str]]] = []
        self.clients: list[tuple[set[str], set[str]]] = []
        for s in rec.streams:
            for c in s.components:
                if c.selected is None:
                    continue
                ends = (c.selected.controlling, c.selected.controlled)
                wire = [{str(w) for w in cand.wire_addresses} for cand in ends]
                self.sides.append((wire[0], wire[1]))
                clients = [set().union(*(client_of.get(w, set()) for w in side)) for side in wire]
                self.clients.append((clients[0], clients[1]))

    def carries(self, transaction_id: str, src: str, dst: str, via: str | None) -> bool:
        """A check on a selected pair; a message of no check (an answer whose request the capture
        missed), by its addresses."""
        if transaction_id in self.checks:
            return self.checks[transaction_id]
        return self.on(src, dst, via)

    def on_leg(self, src: str, dst: str) -> bool:
        """A TURN client-to-server leg a selected pair's relayed checks travelled."""
        return frozenset((src, dst)) in self.legs

    def on(self, src: str, dst: str, via: str | None = None) -> bool:
        if via is not None:
            client, peer = (src, dst) if (src, via) in self.relayed_of else (dst, src)
            relayed = self.relayed_of.get((client, via)) or self.by_hosts.get((_host(client), _host(via)))
            if relayed is not None:
                return self._between(self.sides, relayed, peer)
            return self._between(self.clients, src, dst)
        return self._between(self.sides, src, dst)

    @staticmethod
    def _between(sides: list[tuple[set[str], set[str]]], src: str, dst: str) -> bool:
        return any((src in a and dst in b) or (src in b and dst in a) for a, b in sides)


def _host(address: str) -> str:
    """'10.0.0.1:5000' -> '10.0.0.1', '[2001:db8::1]:5000' -> '2001:db8::1'."""
    return address.rsplit(":", 1)[0].strip("[]")


def _ends(row: dict[Any, Any]) -> tuple[str, str, str | None]:
    """Sender and receiver as the ICE agents meet: through a relay, the peer stands in for the server."""
    src, dst = str(row["src"]), str(row["dst"])
    peer, server = row.get("relay_peer"), row.get("relay_server")
    if not (_present(peer) and _present(server)) or str(row.get("method")) in WRAPPING_METHODS:
        return src, dst, None
    if dst == str(server):
        return src, str(peer), dst
    if src == str(server):
        return str(peer), dst, src
    return src, dst, None


def _legs(row: dict[Any, Any], via: str | None) -> tuple[str, ...]:
    wire = str(row["transport"]) if _present(row.get("transport")) else "udp"
    if via is None:
        return (wire,)
    return (wire, RELAY_TO_PEER) if str(row["dst"]) == via else (RELAY_TO_PEER, wire)


def _repeat(arrow: Arrow, time: float) -> None:
    arrow.count += 1
    arrow.last = max(arrow.last, time)


def _present(value: Any) -> bool:
    return value is not None and not bool(pd.isna(value))


def _message_text(row: dict[Any, Any]) -> tuple[str, str]:
    """'binding request USE-CANDIDATE', 'allocate challenge 401' and a colour for its class."""
    method = str(row.get("method") or "?")
    cls = str(row.get("class") or "")
    colour = {"request": "request", "success": "success", "error": "error"}.get(cls, "indication")
    code = int(row["error_code"]) if cls == "error" and _present(row.get("error_code")) else None
    if code is not None and is_challenge(method, code):
        cls, colour = "challenge", "challenge"
    text = f"{method} {cls}".strip()
    if code is not None:
        text += f" {code}"
    if row.get("use_candidate") is True:
        text += " USE-CANDIDATE"
    if _present(row.get("relay_via")) and not _present(row.get("relay_server")):
        text += f" (in {row['relay_via']})"
    elif _present(row.get("relay_via")):
        text += f" ({str(row['relay_via']).replace('-', ' ')})"
    return text, COLOURS[colour]


SIDE_ORDER = ("host", "TURN client", "NAT", "prflx", "relay")  # from the agent outwards, toward the servers


def columns(addresses: list[str], roles: dict[str, str], sides: dict[str, str] | None = None) -> list[str]:
    """Caller side on the left, servers in the middle, callee side on the right, the rest after;
    on each side each agent's addresses together, its own outermost and its relay nearest the servers.
    `sides` puts agents seen without signaling on a side (story.agent_sides): so a relayed check's
    path crosses its relay's column."""
    agents = list(sides or {})

    def rank(addr: str) -> tuple[int, int, int, str]:
        role = roles.get(addr, "")
        who = next((a for a in agents if role == a or role.startswith(a + " ")), None)
        placed = (sides or {})[who] + role[len(who) :] if who is not None else role
        for i, head in enumerate(ROLE_ORDER):
            if placed.startswith(head):
                kind = placed.removeprefix(head).strip()
                step = SIDE_ORDER.index(kind) if kind in SIDE_ORDER else len(SIDE_ORDER)
                group = agents.index(who) if who is not None else 0
                if head == "callee":
                    group, step = -group, -step
                return i, group, (step if head in ("caller", "callee") else 0), role
        return len(ROLE_ORDER), 0, 0, role

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
    ends = list(dict.fromkeys(a for arrow in drawn for a in (arrow.src, arrow.via, arrow.dst) if a is not None))
    roles = with_host_sockets(story.roles, ends)
    cols = columns(ends, roles, agent_sides(rec))
    rows = _rows(drawn)
    # a column is as wide as its header's longest line (IPv6 addresses are long) at 7.5 pt bold
    header = max((len(line) for c in cols for line in (roles.get(c, ""), c)), default=0)
    width = max(7.0, max(1.9, 0.075 * header + 0.2) * len(cols) + 2.5)
    legend = [
        "STUN/TURN ladder, repeats collapsed (×count over span), transport of each leg",
        "blue requests, green success, orange 401 challenges, red errors, grey indications, teal media;",
        "bold: the selected path; ● on a relay column: relayed through that TURN server",
    ]
    title = wrapped([*story.headlines, *legend], width, 9)
    height = 1.8 + 0.3 * max(len(rows), 1) + (0.3 if hidden else 0) + 0.16 * (title.count("\n") - 2)
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.subplots()
    _draw_columns(ax, cols, roles, len(rows))
    x = {addr: i for i, addr in enumerate(cols)}
    t0 = drawn[0].first if drawn else 0.0  # the first message drawn, whatever else the capture holds
    for y, row in enumerate(rows):
        if isinstance(row, Arrow):
            _draw_arrow(ax, row, x, y, t0)
        else:
            _draw_break(ax, row, y, len(cols))
    if hidden:
        ax.annotate(f"… {hidden} more arrows not drawn", (0, len(rows)), fontsize=7, color="0.3", gid="hidden")
    ax.set_ylim(len(rows) + (0.6 if hidden else 0.2), -1.0)
    ax.set_xlim(-0.5, max(len(cols) - 0.5, 0.5))
    ax.axis("off")
    fig.suptitle(title, fontsize=9)
    if not drawn:
        ax.text(0.5, 0.5, "no STUN/TURN messages", transform=ax.transAxes, ha="center", color="0.4")
    return fig


def _rows(drawn: list[Arrow]) -> list[Arrow | float]:
    """The arrows with the length of each idle pause (a float) where one is long enough to break for."""
    rows: list[Arrow | float] = []
    latest = None
    for arrow in drawn:
        if latest is not None and arrow.first - latest >= IDLE_BREAK_S:
            rows.append(arrow.first - latest)
        rows.append(arrow)
        latest = arrow.last if latest is None else max(latest, arrow.last)
    return rows


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


def _draw_break(ax: Axes, idle: float, y: int, width: int) -> None:
    """A break across the ladder: the time axis is not to scale here."""
    ax.plot([-0.5, max(width - 0.5, 0.5)], [y, y], color="0.6", lw=0.8, ls=(0, (1, 3)), gid="idle-break")
    ax.annotate(
        f"≈ {duration_text(idle)} idle", (-0.45, y), ha="right", va="center", fontsize=6.5, color="0.3", gid="idle"
    )


def _draw_arrow(ax: Axes, arrow: Arrow, x: dict[str, int], y: int, t0: float) -> None:
    """One row: the arrow from its sender's column to its receiver's, its label, and its time on the left."""
    a, b = x[arrow.src], x[arrow.dst]
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
    if arrow.via is not None:
        ax.plot([x[arrow.via]], [y], marker="o", ms=4, color=arrow.colour, zorder=3, gid="via-relay")
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
        url=f"#f{arrow.frame}",  # in the HTML page's SVG: a link to the message's row
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
