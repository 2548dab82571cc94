"""TCP reassembly per direction: in-order bytes out, retransmissions and overlaps trimmed.

Out-of-order segments wait (bounded) until the gap fills; a gap that never fills
is skipped once too much is buffered, so one lost segment cannot stall a flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_MAX_BUFFERED = 1 << 20  # bytes of out-of-order data kept per direction


@dataclass(slots=True)
class TcpDirection:
    """One direction of one connection."""

    next_seq: int | None = None
    pending: dict[int, tuple[bytes, int, float]] = field(default_factory=dict)  # seq -> (data, frame, time)
    buffered: int = 0
    follow: bool | None = None  # None until the first payload shows what the flow carries

    def accept(self, seq: int, payload: bytes, syn: bool, frame: int, time: float) -> list[tuple[bytes, int, float]]:
        """Feed one segment; returns the in-order chunks it releases as (bytes, frame, time)."""
        if syn:
            self.next_seq = (seq + 1) & 0xFFFFFFFF
            if not payload:
                return []
            seq = (seq + 1) & 0xFFFFFFFF
        if not payload:
            return []
        if self.next_seq is None:
            self.next_seq = seq  # capture started mid-connection
        out: list[tuple[bytes, int, float]] = []
        delta = (seq - self.next_seq) & 0xFFFFFFFF
        if delta >= 0x80000000:  # starts before next_seq: retransmission or overlap
            behind = (self.next_seq - seq) & 0xFFFFFFFF
            if behind >= len(payload):
                return []
            payload = payload[behind:]
            delta = 0
        if delta == 0:
            out.append((payload, frame, time))
            self.next_seq = (self.next_seq + len(payload)) & 0xFFFFFFFF
            self._drain(out)
        else:
            if seq not in self.pending:
                self.pending[seq] = (payload, frame, time)
                self.buffered += len(payload)
            if self.buffered > _MAX_BUFFERED:
                self._skip_gap(out)
        return out

    def _drain(self, out: list[tuple[bytes, int, float]]) -> None:
        while self.pending and self.next_seq is not None:
            progressed = False
            for seq in list(self.pending):
                behind = (self.next_seq - seq) & 0xFFFFFFFF
                data, frame, time = self.pending[seq]
                if behind < 0x80000000:  # seq <= next_seq
                    del self.pending[seq]
                    self.buffered -= len(data)
                    if behind < len(data):
                        chunk = data[behind:]
                        out.append((chunk, frame, time))
                        self.next_seq = (self.next_seq + len(chunk)) & 0xFFFFFFFF
                    progressed = True
            if not progressed:
                break

    def _skip_gap(self, out: list[tuple[bytes, int, float]]) -> None:
        if not self.pending or self.next_seq is None:
            return
        base = self.next_seq
        first = min(self.pending, key=lambda s: (s - base) & 0xFFFFFFFF)
        self.next_seq = first
        self._drain(out)
