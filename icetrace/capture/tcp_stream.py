"""TCP reassembly per direction: in-order bytes out, retransmissions and overlaps trimmed.

Out-of-order segments wait in a heap ordered by their (unwrapped) sequence number, so each
segment is stored and released once, whatever order it came in: linear in the segments. A gap
waits for its retransmission while it is younger than `GAP_WAIT` seconds of capture and the data
behind it is under `MAX_BUFFERED` bytes; then, or at the end of the capture (`flush`), it is
skipped. The chunk after a skipped gap says how many bytes are missing before it, so the framing
above can resynchronise: one lost segment costs the message it cut, not the rest of the flow.

A direction ends at its FIN (once the data before it is in) or at an RST from either side; its
state is then dropped, here and by the readers above (`TransportPacket.closes`), so a capture of
many short connections costs memory for the open ones only. The latest closed directions are
remembered with where their data ended, so a retransmission after the close is not taken for a
new connection.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TypeVar

MAX_BUFFERED = 1 << 20  # bytes of out-of-order data kept per direction
# seconds of capture a gap may hold data back: a retransmission comes after a retransmission
# timeout (RFC 6298: 1 s at first, then doubling; RFC 2988 stacks started at 3 s), so this
# allows a retransmission and a backed-off retry of it
GAP_WAIT = 10.0
_HALF = 0x80000000
_MASK = 0xFFFFFFFF
FIN, SYN, RST = 0x01, 0x02, 0x04
MAX_REMEMBERED = 16384  # SYNs and closed directions remembered, each (the oldest forgotten first)

_V = TypeVar("_V")
Chunk = tuple[bytes, int, float, int]  # (bytes, frame, time, bytes missing just before them)


@dataclass(slots=True)
class TcpDirection:
    """One direction of one connection."""

    next_seq: int | None = None
    # (unwrapped seq, arrival order, data, frame, time): the arrival order breaks ties without comparing bytes
    pending: list[tuple[int, int, bytes, int, float]] = field(default_factory=list)
    buffered: int = 0
    gaps_skipped: int = 0
    follow: bool | None = None  # None until the first payload shows what the flow carries
    closing: bool = False  # its FIN came: it ends once the data before the FIN is in
    fin_seq: int | None = None  # the sequence number after the FIN
    _unwrapped: int = 0  # next_seq counted from the first byte, without wrapping
    _arrivals: int = 0
    _starts: set[int] = field(default_factory=set)
    _gap_since: float | None = None  # capture time since which the current gap holds data back

    def accept(self, seq: int, payload: bytes, syn: bool, frame: int, time: float) -> list[Chunk]:
        """Feed one segment; returns the in-order chunks it releases."""
        if syn:
            self.next_seq = (seq + 1) & _MASK
            if not payload:
                return []
            seq = (seq + 1) & _MASK
        if not payload:
            return []
        if self.next_seq is None:
            self.next_seq = seq  # capture started mid-connection
        out: list[Chunk] = []
        delta = (seq - self.next_seq) & _MASK
        if delta >= _HALF:  # starts before next_seq: retransmission or overlap
            behind = (self.next_seq - seq) & _MASK
            if behind >= len(payload):
                return []
            payload = payload[behind:]
            delta = 0
        if delta == 0:
            self._release(payload, frame, time, 0, out)
            self._drain(out, time)
            return out
        start = self._unwrapped + delta
        if start not in self._starts:
            self._starts.add(start)
            self._arrivals += 1
            heapq.heappush(self.pending, (start, self._arrivals, payload, frame, time))
            self.buffered += len(payload)
            if self._gap_since is None:
                self._gap_since = time
        if self.buffered > MAX_BUFFERED or (self._gap_since is not None and time - self._gap_since > GAP_WAIT):
            self._skip_gap(out, time)
        return out

    def skip_listed(self, size: int) -> None:
        """The next `size` bytes came in order and were listed elsewhere (the C skimmer's rows)."""
        self.next_seq = ((self.next_seq or 0) + size) & _MASK
        self._unwrapped += size

    def flush(self) -> list[Chunk]:
        """At the end of the capture: every segment still waiting, its gaps skipped."""
        out: list[Chunk] = []
        while self.pending:
            self._skip_gap(out, None)
        return out

    def _release(self, data: bytes, frame: int, time: float, gap: int, out: list[Chunk]) -> None:
        out.append((data, frame, time, gap))
        self.next_seq = ((self.next_seq or 0) + len(data)) & _MASK
        self._unwrapped += len(data)

    def _drain(self, out: list[Chunk], now: float | None, gap: int = 0) -> None:
        pending = self.pending
        while pending and pending[0][0] <= self._unwrapped:
            start, _, data, frame, time = heapq.heappop(pending)
            self._starts.discard(start)
            self.buffered -= len(data)
            behind = self._unwrapped - start
            if behind < len(data):
                self._release(data[behind:], frame, time, gap, out)
                gap = 0
        # a gap further on starts holding data back now
        self._gap_since = now if pending else None

    def _skip_gap(self, out: list[Chunk], now: float | None) -> None:
        if not self.pending or self.next_seq is None:
            return
        first = self.pending[0][0]
        missing = first - self._unwrapped
        self.next_seq = (self.next_seq + missing) & _MASK
        self._unwrapped = first
        self.gaps_skipped += 1
        self._drain(out, now, missing)


FlowKey = tuple[bytes, int, bytes, int]  # (src, sport, dst, dport) of one direction


class TcpFlows(dict[FlowKey, TcpDirection | None]):
    """Each open TCP direction that carried data, by 4-tuple: its reassembly, or None when it is not
    followed. A SYN alone, and where a closed direction's data ended, are remembered apart, for the
    latest MAX_REMEMBERED directions only: a scan of a million ports keeps no state per port."""

    def __init__(self) -> None:
        super().__init__()
        self.syns: OrderedDict[FlowKey, int] = OrderedDict()  # the first sequence number a SYN announced
        self.closed: OrderedDict[FlowKey, int | None] = OrderedDict()  # where the data ended, if known

    def opening(self, key: FlowKey, seq: int, size: int, flags: int) -> TcpDirection | None:
        """The state a segment of a direction not (or no longer) open starts, if it starts one: data
        does, unless it ends where a closed direction's data ended, or before (a late retransmission);
        a SYN alone is only remembered; anything else (an ACK, a FIN) starts nothing."""
        if flags & SYN:
            self.closed.pop(key, None)
            if size:
                return TcpDirection()
            _remember(self.syns, key, (seq + 1) & _MASK)
            return None
        if not size:
            return None
        if key in self.closed:
            end = self.closed[key]
            if end is None or (end - (seq + size)) & _MASK < _HALF:
                return None
            del self.closed[key]
        return TcpDirection(next_seq=self.syns.pop(key, None))

    def close(self, key: FlowKey, end: int | None) -> TcpDirection | None:
        """Forget the direction (returning its state), remembering where its data ended."""
        self.syns.pop(key, None)
        state = self.pop(key, None)
        _remember(self.closed, key, end)
        return state


def _remember(table: OrderedDict[FlowKey, _V], key: FlowKey, value: _V) -> None:
    table[key] = value
    table.move_to_end(key)
    if len(table) > MAX_REMEMBERED:
        table.popitem(last=False)
