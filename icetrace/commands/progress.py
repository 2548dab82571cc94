"""A small progress line on a terminal's stderr (silent when not a terminal)."""

from __future__ import annotations

import time
from typing import TextIO


class Progress:
    """Redrawn at most twice a second; the last line, when closed, shows the totals."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.last = 0.0
        self.latest: tuple[int, int] | None = None

    def update(self, bytes_read: int, frames: int) -> None:
        self.latest = (bytes_read, frames)
        now = time.monotonic()
        if now - self.last >= 0.5:
            self.last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        if self.latest is None:
            return
        bytes_read, frames = self.latest
        rate = bytes_read / max(now - self.started, 1e-6) / 1e6
        self.stream.write("\r")  # alone: the one control character the output streams let through
        self.stream.write(f"{frames:>10,} frames  {bytes_read / 1e6:>9.1f} MB  {rate:6.1f} MB/s")
        self.stream.flush()

    def close(self) -> None:
        if self.last:  # a line was drawn: bring it to the end, then leave it
            self._draw(time.monotonic())
            self.stream.write("\n")
