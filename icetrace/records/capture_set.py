"""Several captures given together: the taps of one call, or consecutive files of one capture, and
frame references that name their file.

A frame is known inside the analysis by its id: its capture's index (in the order given) shifted
left by FRAME_BITS, plus its number in that capture, so the first capture's ids are its frame
numbers and ids from different files never collide. The outputs turn an id back into words: the
number alone when one capture was given, `file#number` when several were.

Taps of one call (a LAN, the public segment, a TURN server) see the same packets at the same time:
a message seen at several is one event and its media is counted once. Consecutive files of one
capture (dumpcap's `-b` ring buffer, `editcap -c` pieces) are one timeline: each starts where the
previous one ended, no message is in two of them, and what they count adds up. `reading` tells
the two apart and says why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

FRAME_BITS = 32  # a capture's frame numbers stay below 2**32 (pcapng numbers them as uint32 too)
_NUMBER_MASK = (1 << FRAME_BITS) - 1


def frame_id(capture: int, number: int) -> int:
    """The id of frame `number` of the `capture`-th capture given."""
    return capture << FRAME_BITS | number


def capture_index(frame: int) -> int:
    return frame >> FRAME_BITS


def frame_number(frame: int) -> int:
    """The frame's number in its own capture (what Wireshark shows)."""
    return frame & _NUMBER_MASK


@dataclass(frozen=True)
class CaptureSpan:
    """What one capture shows about where it lies in time: its first and last packet, the interface
    its header names (None: not said), and whether it was read at all."""

    name: str
    first: float | None
    last: float | None
    interface: tuple[object, ...] | None = None


@dataclass(frozen=True)
class CaptureSet:
    """The captures given, how they were read together, and how a frame id reads in words."""

    names: tuple[str, ...] = ()
    timeline: bool = False  # consecutive files of one capture, not several taps
    note: str = ""  # which reading was taken, and why ('' for one capture)

    @property
    def several(self) -> bool:
        return len(self.names) > 1

    def frame_text(self, frame: int) -> str:
        """'57', or 'capture-edge.pcap#57' when several captures were given."""
        if not self.several:
            return str(frame)
        index = capture_index(frame)
        name = self.names[index] if index < len(self.names) else f"capture {index + 1}"
        return f"{name}#{frame_number(frame)}"

    def frame_json(self, frame: int | None) -> int | str | None:
        """A frame reference for the JSON document: the number for one capture, 'file#number' for several."""
        if frame is None:
            return None
        return self.frame_text(frame) if self.several else frame

    def file_of(self, frame: int | None) -> str | None:
        """The name of the capture a frame id belongs to (None: no frame, or no capture was given)."""
        if frame is None or not self.names:
            return None
        index = capture_index(frame)
        return self.names[index] if index < len(self.names) else None

    def frames_text(self, frames: Sequence[int]) -> str:
        return ", ".join(self.frame_text(f) for f in frames)

    def tap(self, frame: int) -> int:
        """Which tap saw a frame: every file of one timeline is one tap."""
        return 0 if self.timeline else capture_index(frame)


def display_names(paths: Sequence[str]) -> tuple[str, ...]:
    """Each capture by the shortest end of its path that no other capture's path ends in as well:
    its file name, or where two share one, as many of its folders as tell them apart
    (aioice-direct/public.pcap and aioice-relay-only/public.pcap); one path given twice, one name.
    Only paths of the same file name are compared (a ring buffer read for hours names thousands)."""
    parts = [path.replace("\\", "/").split("/") for path in paths]
    sharing: dict[str, list[int]] = defaultdict(list)
    for i, mine in enumerate(parts):
        sharing[mine[-1]].append(i)
    names = []
    for i, mine in enumerate(parts):
        others = [parts[j] for j in sharing[mine[-1]] if j != i and parts[j] != mine]
        depth = 1
        while depth < len(mine) and any(p[-depth:] == mine[-depth:] for p in others):
            depth += 1
        names.append(paths[i] if depth == len(mine) else "/".join(mine[-depth:]))
    return tuple(names)


def reading(spans: Sequence[CaptureSpan], messages_in_two: int) -> CaptureSet:
    """How several captures are read together: as one timeline when every one of them has the same
    interface, each starts no earlier than the one before it ended, and no message is in two of them;
    otherwise as taps of one call."""
    names = display_names([s.name for s in spans])
    if len(spans) < 2:
        return CaptureSet(names)
    timed = sorted((s for s in spans if s.first is not None and s.last is not None), key=lambda s: s.first or 0.0)
    interfaces = {s.interface for s in spans}
    follows = len(timed) == len(spans) and all(
        (b.first or 0.0) >= (a.last or 0.0) for a, b in zip(timed, timed[1:], strict=False)
    )
    if follows and messages_in_two == 0 and len(interfaces) == 1 and None not in interfaces:
        order = ", ".join(display_names([s.name for s in timed]))
        note = (
            f"read as one timeline: {len(spans)} consecutive files of one capture (the same interface, each starts "
            f"after the one before it ends, no message in two of them): {order}"
        )
        return CaptureSet(names, timeline=True, note=note)
    why = []
    if not follows:
        why.append("their times overlap" if len(timed) == len(spans) else "some hold no packet")
    if messages_in_two:
        why.append(f"{messages_in_two} messages are in more than one")
    if len(interfaces) > 1 or None in interfaces:
        why.append("their interfaces differ or are not named")
    note = f"read as {len(spans)} taps of one call ({'; '.join(why)}): a message seen at several is one event"
    return CaptureSet(names, note=note)


COPY_WINDOW = 0.05  # seconds: one packet seen at two taps, not a retransmission across two files


def messages_in_two(per_capture: Sequence[Sequence[tuple[str, int, float]]]) -> int:
    """How many messages (transaction id, message type and time of each STUN message, per capture)
    appear in more than one capture within COPY_WINDOW of each other: copies of one packet at two
    taps. A retransmission that straddles two files of one capture is never that close."""
    seen: dict[tuple[str, int], list[tuple[int, float]]] = {}
    for index, messages in enumerate(per_capture):
        for tid, kind, time in messages:
            if tid:
                seen.setdefault((tid, kind), []).append((index, time))
    return sum(
        1
        for copies in seen.values()
        if len(copies) > 1 and any(a[0] != b[0] and abs(a[1] - b[1]) < COPY_WINDOW for a in copies for b in copies)
    )
