"""When the pair in use moved: a component that ran on one pair and then on another.

With aggressive nomination, renomination (draft-thatcher-ice-renomination) or an ICE restart the
controlling agent can nominate several pairs in turn (RFC 8445 §8.1.1 lets it change its mind), so
one component can carry the call on a relay first and on a direct pair later. The capture shows it
by media: a pair is in use from the first media packet on it after its checks succeeded, and the
pair in use changes each time media starts on another nominated pair. Nominations alone do not
tell it (an aggressive agent nominates every pair it checks), so without media no change is told.
"""

from __future__ import annotations

from collections.abc import Callable

from icetrace.ice.model import Component, Pair, SelectionChange
from icetrace.ice.reconstruction import ChecksByPair
from icetrace.records.media_flow import MediaFlow

CARRIES_CALL = frozenset(("rtp", "rtcp", "dtls", "zrtp", "data", "channeldata", "turn-data"))


def selection_changes(
    component: Component, checks_by_pair: ChecksByPair, media_on: Callable[[Pair], list[MediaFlow]]
) -> list[SelectionChange]:
    """The moves between pairs in use, oldest first; empty when one pair carried the call."""
    starts: list[tuple[float, int | None, Pair]] = []
    for pair in component.pairs:
        if not (pair.nominated or pair is component.selected) or pair.state != "succeeded":
            continue
        successes = [
            t.response.time for t, _ in checks_by_pair.get(id(pair), []) if t.outcome == "success" and t.response
        ]
        after = min(successes) if successes else None
        flows = [f for f in media_on(pair) if f.kind in CARRIES_CALL and (after is None or f.last_time >= after)]
        if not flows:
            continue
        first = min(flows, key=lambda f: (max(f.first_time, after or f.first_time), f.first_frame))
        if after is None or first.first_time >= after:
            starts.append((first.first_time, first.first_frame, pair))
        else:  # its 5-tuple carried data before: in use from its first success
            starts.append((after, pair.nomination_frame, pair))
    starts.sort(key=lambda s: (s[0], s[1] or 0))
    changes: list[SelectionChange] = []
    current: Pair | None = None
    for time, frame, pair in starts:
        if pair is current:
            continue
        if current is not None:
            changes.append(SelectionChange(time=time, frame=frame, before=current, after=pair))
        current = pair
    if changes and changes[-1].after is not component.selected:
        return []  # the media does not end on the selected pair: no story the selection agrees with
    return changes


def change_text(change: SelectionChange, start: float, frame_text: Callable[[int], str] = str) -> str:
    """The move in words, its time counted from `start`: "relay first (A <-> B), switched to direct
    (C <-> D) at 0.7 s (frame 346)"; `frame_text` names the frame (its file too, with several captures)."""
    before, after = change.before, change.after
    old = "relay" if before.is_relay else "direct"
    new = "relay" if after.is_relay else "direct"
    frame = f" (frame {frame_text(change.frame)})" if change.frame else ""
    return f"{old} first ({_ends(before)}), switched to {new} ({_ends(after)}) at {change.time - start:.1f} s{frame}"


def _ends(p: Pair) -> str:
    return f"{p.controlling.address} <-> {p.controlled.address}"
