"""A small progress line on a terminal's stderr (silent when not a terminal)."""

from __future__ import annotations

import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.last = 0.0

    def update(self, bytes_read: int, frames: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.5:
            return
        self.last = now
        rate = bytes_read / max(now - self.started, 1e-6) / 1e6
        self.stream.write(f"\r{frames:>10,} frames  {bytes_read / 1e6:>9.1f} MB  {rate:6.1f} MB/s")
        self.stream.flush()

    def close(self) -> None:
        if self.last:
            self.stream.write("\n")
