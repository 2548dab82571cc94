"""Capture file readers: pcap, pcapng, Network Monitor 2.x, optionally gzip-compressed.

The format is told from the first bytes, not the file name, through the format registry
(`formats/registry.py`); each format's module reads its files. Frames are numbered from 1
exactly as Wireshark numbers them. Reading streams through a buffered file, so memory
does not grow with the capture. A damaged file yields every intact frame and records one
`ReadProblem` naming the file, byte offset and frame.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

from icetrace.capture.formats import registry
from icetrace.capture.formats.base import Frame, MediaSink, Progress, ReadProblem, RelayedSink, RowSink, SkimmedBody
from icetrace.capture.input_file import open_capture
from icetrace.errors import InputError

__all__ = ["CaptureReader", "Frame", "ReadProblem", "RowSink", "read_frames"]


@dataclass
class CaptureReader:
    """Iterate the frames of one capture file; `problems` fills in as reading goes."""

    path: Path
    problems: list[ReadProblem] = field(default_factory=list)
    format: str = ""
    bytes_read: int = 0
    # When set, plain RTP/RTCP/DTLS/ZRTP frames are only counted, never built as Frames
    # (fast_reader with the C skimmer; media_skip's numpy pass for Ethernet pcaps without it)
    media_sink: MediaSink | None = None
    # When set too, UDP relayed media (ChannelData, Send/Data indications) is counted by the C skimmer
    relayed_sink: RelayedSink | None = None
    # Or, when set, the C skimmer writes the rows of UDP relayed media (icetrace messages) there
    relayed_rows: RowSink | None = None
    progress: Progress | None = None
    # a capture still being written (a pipe): read as it comes, never copied to a spool file first
    live: bool = False
    # the latest frame the fast path walked without handing it back: frames after the last one
    # handed back still say how long the capture ran
    end_time: float | None = None
    _fast: SkimmedBody | None = None

    def ignore_tcp(self, src: bytes, sport: int, dst: bytes, dport: int, ignored: bool = True) -> None:
        """The caller no longer wants this TCP direction; the fast path may stop handing it back.
        `ignored=False` when the direction has closed: nothing is kept for it any more."""
        if self._fast is not None:
            self._fast.ignore_tcp(src, sport, dst, dport, ignored)

    def tcp_listed(self, frame: int) -> int:
        """Bytes of this TCP frame's direction whose rows the skimmer wrote since it last handed one back."""
        return self._fast.tcp_listed(frame) if self._fast is not None else 0

    def problem(self, offset: int, frame: int, message: str) -> None:
        self.problems.append(ReadProblem(str(self.path), offset, frame, message))

    def report_counts(self) -> None:
        """The media the fast path counted so far, handed to the sinks now (they add it up)."""
        if self._fast is not None:
            self._fast.report_counts()

    def follow(self, body: SkimmedBody) -> Iterator[Frame]:
        """The frames of a skimmed body, keeping `bytes_read` and `problems` up to date."""
        self._fast = body
        try:
            for frame in body:
                self.bytes_read = body.bytes_read
                yield frame
        finally:
            self.bytes_read = body.bytes_read
            self.problems.extend(body.problems)
            self.end_time = body.end_time

    def __iter__(self) -> Iterator[Frame]:
        fh, gz = open_capture(self.path, live=self.live)
        try:
            with fh:
                yield from self._body(fh)
        except OSError as exc:  # EIO and the like: the medium, not the format
            raise InputError(f"{self.path}: read error after {self.bytes_read} bytes: {exc.strerror or exc}") from None
        finally:
            if gz is not None and gz.damage is not None:
                self.problem(gz.damage_offset, 0, gz.damage)  # an offset in the decompressed bytes

    def _body(self, fh: BinaryIO) -> Iterator[Frame]:
        head = cast(io.BufferedReader, fh).peek(64)[:64]
        fmt = registry.format_of(head)
        if fmt is None:
            if head[:4] in registry.UNSUPPORTED:
                raise InputError(f"{self.path}: {registry.UNSUPPORTED[head[:4]]}")
            if not head:
                raise InputError(f"{self.path}: empty file, not a capture")
            raise InputError(f"{self.path}: not a capture file ({registry.names()})")
        self.format = fmt.name
        yield from fmt.read(fh, self)


def read_frames(path: str | Path, problems: list[ReadProblem] | None = None) -> Iterator[Frame]:
    """Frames of one capture; damage is appended to `problems` when given."""
    reader = CaptureReader(Path(path))
    try:
        yield from reader
    finally:
        if problems is not None:
            problems.extend(reader.problems)
