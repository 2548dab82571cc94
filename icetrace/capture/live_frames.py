"""Frames of a capture read as it is written (`icetrace watch`): the reader's clock moves with every
frame, and a ring buffer's files after the first number their frames with their own id."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from icetrace.capture.reader import CaptureReader, Frame
from icetrace.records.capture_set import frame_id


class LiveFrames:
    """A reader whose every frame's time goes to `clock` first (a live capture's clock moves with
    media and all, not only with what the packet source hands on), its frames numbered with their
    file's id when it is not the first file read (records/capture_set.py)."""

    def __init__(self, reader: CaptureReader, clock: Callable[[float], None] | None, capture: int) -> None:
        self.reader = reader
        self.clock = clock
        self.base = frame_id(capture, 0)

    def __iter__(self) -> Iterator[Frame]:
        clock, base = self.clock, self.base
        for frame in self.reader:
            if clock is not None:
                clock(frame.time)
            if base:
                frame.number += base
            yield frame

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reader, name)
