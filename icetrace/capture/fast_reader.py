"""Capture bodies read through the C skimmer (`_walk.c`): media is only counted.

The file is read into one buffer, 1 MB at a time, in place. The skimmer walks the
records of each window, counts RTP/RTCP/DTLS/ZRTP datagrams per 5-tuple and kind,
skips TCP directions the packet source gave up on, and returns the offsets of every
other frame; only those become `Frame` objects. What differs between formats is each
format module's `SkimHook`: the skimmer it asks for, how frame times are made, and the
records the skimmer stops at (a damaged pcap length, a pcapng block other than a plain
Enhanced Packet Block), which the hook reads by the same rules and with the same
warnings as the format's plain reader. Formats whose records follow one another use
`stream_windows`; Network Monitor's window follows its frame table instead.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections.abc import Generator, Iterable, Iterator, Sequence
from typing import Any, BinaryIO, Protocol

from dissectors.codec import REGISTRY, attribute_spec
from icetrace.capture.formats.base import Frame, MediaSink, Progress, Reading, ReadProblem, RelayedSink, RowSink

Skimmer: Any
try:
    from icetrace.capture import _walk  # type: ignore[attr-defined,unused-ignore]

    Skimmer = _walk.Skimmer
except ImportError:  # not compiled: the formats fall back to the numpy or the plain path
    Skimmer = None

WINDOW = 1 << 20  # the window stays in L2 cache from read to walk: 8 MB windows walk 5x slower
STATUS_MORE, STATUS_BLOCK, STATUS_DAMAGE = 0, 1, 2  # Skimmer.walk: window done, a block for Python, damage
KEPT_FIELDS = 7  # per frame handed back: number, offset, length, original length, ticks, interface, link type


class Resync(Exception):
    """A damaged pcap record or pcapng block was skipped: reading resumes at this file offset."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class SkimHook(Protocol):
    """A format's part in skimming one file."""

    start_offset: int  # where the body's records start

    def skimmer(self, skimmer_type: Any) -> Any:
        """This file's skimmer, made from `skimmer_type` (_walk.Skimmer)."""
        ...

    def walk(self, body: FastBody) -> Iterator[Frame]:
        """The frames of the body, window by window (`stream_windows` for record streams)."""
        ...

    def frames(self, window: memoryview, pos: int, raw: bytes) -> Iterator[Frame]:
        """Frames of the rows the skimmer handed back for the window from `pos` on."""
        ...

    def flow_time(self, ticks: int, interface: int) -> float:
        """Epoch seconds of a media flow's first or last packet, as the skimmer counted it."""
        ...

    def time_bases(self) -> Iterable[tuple[int, int, int, bool]]:
        """(interface, divisor, offset, float division) of each interface known before the walk: a
        frame's time is (ticks + offset) / divisor seconds, as `frames` computes it (Python's int / int,
        or int / float with float division)."""
        ...


class StreamHook(SkimHook, Protocol):
    """A format whose records follow one another, read by `stream_windows`."""

    def stopped(
        self, body: FastBody, status: int, window: memoryview, pos: int, base: int, source: Any
    ) -> tuple[int, Frame | None] | None:
        """Read the record at `pos` where the skimmer stopped: (bytes consumed, frame or None), 0 bytes
        when it is not all in the window yet; None to stop reading. May raise Resync."""
        ...

    def cut_short(self, body: FastBody, rest: memoryview, offset: int, source: Any) -> None:
        """Report the unfinished record at the end of the file; raise Resync instead when it is damage
        with an intact record after it."""
        ...


def available() -> bool:
    return Skimmer is not None


def skim(reading: Reading, fh: BinaryIO, hook: SkimHook) -> Iterator[Frame] | None:
    """The frames of `fh` through the C skimmer; None without a media sink or a compiled skimmer."""
    if reading.media_sink is None or Skimmer is None:
        return None
    body = FastBody(
        str(reading.path),
        fh,
        hook,
        reading.media_sink,
        reading.progress,
        relayed_sink=reading.relayed_sink,
        relayed_rows=reading.relayed_rows,
    )
    return reading.follow(body)


def kept_fields(raw: bytes) -> list[int]:
    """The skimmer's rows of KEPT_FIELDS integers, flat."""
    return memoryview(raw).cast("Q").tolist()


@functools.cache
def attribute_tables() -> tuple[list[tuple[int, str, str]], list[tuple[int, str, str]]]:
    """(code, name, value kind) of every registered attribute as RFC 5389 and as the legacy dialects
    (MS-TURN, RFC 3489) name it: what the skimmer writes in relayed media rows."""
    # the legacy dialects rename some registered codes; they add none (codec._LEGACY_DECODERS)
    modern = [(code, attribute_spec(code).name, attribute_spec(code).kind) for code in REGISTRY]
    legacy = [(code, attribute_spec(code, "ms-turn").name, attribute_spec(code, "ms-turn").kind) for code in REGISTRY]
    return modern, legacy


class FastBody:
    """Frames of one file body through the skimmer; `problems` and `bytes_read` as in CaptureReader."""

    def __init__(
        self,
        path: str,
        fh: BinaryIO,
        hook: SkimHook,
        sink: MediaSink,
        progress: Progress | None = None,
        *,
        relayed_sink: RelayedSink | None = None,
        relayed_rows: RowSink | None = None,
    ) -> None:
        self.path = path
        self.fh = fh
        self.hook = hook
        self.sink = sink
        self.progress = progress
        self.problems: list[ReadProblem] = []
        self.bytes_read = hook.start_offset
        # the time of the latest frame the skimmer walked without handing it back (the capture's end,
        # when its last frames are neither STUN nor media)
        self.end_time: float | None = None
        self._skimmer: Any = hook.skimmer(Skimmer)
        self.relayed_sink = relayed_sink
        if relayed_sink is not None:
            self._skimmer.count_relayed()
        self._rows = _WaitingRows(relayed_rows) if relayed_rows is not None else None
        self._listed: dict[int, int] = {}  # see tcp_listed
        if relayed_rows is not None:
            self._skimmer.list_relayed(relayed_rows.format, *attribute_tables())
            for interface, divisor, offset, float_division in hook.time_bases():
                self.time_base(interface, divisor, offset, float_division)

    @property
    def skimmer(self) -> Any:
        """This body's _walk.Skimmer (its `number` is the last frame number given)."""
        return self._skimmer

    def ignore_tcp(self, src: bytes, sport: int, dst: bytes, dport: int, ignored: bool = True) -> None:
        """From the next window on, frames of this TCP direction are not handed back (`ignored=False`:
        they are again, and the direction is forgotten)."""
        self._skimmer.ignore_tcp(src, sport, dst, dport, ignored)

    def problem(self, offset: int, frame: int, message: str) -> None:
        self.problems.append(ReadProblem(self.path, offset, frame, message))

    def time_base(self, interface: int, divisor: int, offset: int = 0, float_division: bool = False) -> None:
        """An interface's frame times, for the rows the skimmer writes: (ticks + offset) / divisor,
        as Python's int / int gives it (`float_division`: int / float)."""
        if self._rows is not None:
            self._skimmer.time_base(interface, divisor, offset, float_division)

    def walked(self, frames: Iterable[Frame]) -> Iterable[Frame]:
        """The frames one walk handed back, each after the rows written for the frames before it.
        Called after every walk (with no frames when none came back), so few rows wait."""
        rows = self._rows
        if rows is None:
            return frames
        self._take_rows()
        return rows.interleave(frames)

    def _take_rows(self) -> None:
        assert self._rows is not None
        text, frames, ends, listed_at, listed = self._skimmer.rows()
        self._rows.add(text, frames, ends)
        if listed_at:
            self._listed.update(zip(memoryview(listed_at).cast("Q"), memoryview(listed).cast("Q")))

    def tcp_listed(self, frame: int) -> int:
        """Bytes of this TCP frame's direction the skimmer listed since the frame before it handed back."""
        return self._listed.pop(frame, 0)

    def report_counts(self) -> None:
        """Hand the media and relayed media counted so far to the sinks, then count afresh: a long
        reading takes its counts as it goes (the sinks add them up)."""
        self._report_media()
        self._skimmer.clear_counts()

    def __iter__(self) -> Iterator[Frame]:
        try:
            yield from self.hook.walk(self)
            if self._rows is not None:
                self._take_rows()
                self._rows.flush()
        finally:
            self._report_media()

    def unbuffered(self) -> Any:
        """The raw file under the BufferedReader (its extra copy costs more than the walk), if any."""
        unbuffered = getattr(self.fh, "raw", None)
        if unbuffered is not None and unbuffered.seekable():
            unbuffered.seek(self.fh.tell())
            return unbuffered
        return self.fh

    def _report_media(self) -> None:
        time = self.hook.flow_time
        self.end_time = max((time(ticks, iface) for iface, ticks in self._skimmer.ends()), default=None)
        for src, sport, dst, dport, kind, n1, t1, i1, n2, t2, i2, packets, size in self._skimmer.flows():
            self.sink(src, sport, dst, dport, kind, n1, time(t1, i1), n2, time(t2, i2), packets, size)
        if self.relayed_sink is not None:
            counts, latest = self._skimmer.relayed()
            self.relayed_sink(
                [(*c[:9], c[9], time(c[10], c[11]), c[12], time(c[13], c[14]), c[15], c[16]) for c in counts],
                max((time(ticks, iface) for iface, ticks in latest), default=None),
            )


_AFTER_EVERY_FRAME = 1 << 64


class _WaitingRows:
    """Rows the skimmer wrote, held until the frame handed back after them is read."""

    def __init__(self, sink: RowSink) -> None:
        self.sink = sink
        self.text = ""
        self.frames: Sequence[int] = ()  # frame number of each row
        self.ends: Sequence[int] = ()  # where each row ends in `text`
        self.done = 0  # rows written
        self.first = _AFTER_EVERY_FRAME  # frame number of the first row waiting

    def add(self, text: str, frames: bytes, ends: bytes) -> None:
        """The rows of the latest walks: the rows still waiting come before them."""
        if not text:
            return
        self.flush()
        # read where needed (a few bisections a window), not converted row by row
        self.frames, self.ends = memoryview(frames).cast("Q"), memoryview(ends).cast("Q")
        self.text, self.done = text, 0
        self.first = self.frames[0]

    def before(self, number: int) -> None:
        """Write the rows of the frames before frame `number`."""
        done = self.done
        upto = bisect_left(self.frames, number, done)
        self.sink.write(self.text[self.ends[done - 1] if done else 0 : self.ends[upto - 1]])
        self.done = upto
        self.first = self.frames[upto] if upto < len(self.frames) else _AFTER_EVERY_FRAME

    def flush(self) -> None:
        if self.first != _AFTER_EVERY_FRAME:
            self.before(_AFTER_EVERY_FRAME)

    def interleave(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for frame in frames:
            if frame.number > self.first:
                self.before(frame.number)
            yield frame


def stream_windows(body: FastBody, hook: StreamHook) -> Iterator[Frame]:
    """Windows one after another; the unfinished record at a window's end moves to the buffer's front."""
    source = body.unbuffered()
    buffer = bytearray(2 * WINDOW)
    view = memoryview(buffer)
    carried = 0  # bytes of an unfinished record at the buffer's front
    base = body.bytes_read  # file offset of buffer[0]
    eof = False
    while not eof:
        if carried + WINDOW > len(buffer):
            grown = bytearray(carried + WINDOW)
            grown[:carried] = view[:carried]
            buffer, view = grown, memoryview(grown)
        got = source.readinto(view[carried : carried + WINDOW])
        eof = not got
        filled = carried + (got or 0)
        try:
            pos = yield from _walk_window(body, hook, view[:filled], base, source)
        except Resync as resync:  # the file is positioned at the intact record
            base, carried, eof = resync.offset, 0, False
            continue
        if pos is None:
            return  # damage, reported
        if body.progress is not None:
            body.progress(body.bytes_read, body.skimmer.number)
        carried = filled - pos
        view[:carried] = view[pos:filled]
        base += pos
        if eof and carried:
            try:
                hook.cut_short(body, view[:carried], base, source)
            except Resync as resync:  # a damaged length that ran past the end: intact records follow
                base, carried, eof = resync.offset, 0, False


def _walk_window(
    body: FastBody, hook: StreamHook, window: memoryview, base: int, source: Any
) -> Generator[Frame, None, int | None]:
    """The frames of one window; returns where its unfinished record starts (None: reading stops)."""
    skimmer = body.skimmer
    pos: int = 0
    while True:
        raw, used, status = skimmer.walk(window[pos:])
        yield from body.walked(hook.frames(window, pos, raw) if raw else ())
        pos += used
        body.bytes_read = base + pos
        if status == STATUS_MORE:
            return pos
        step = hook.stopped(body, status, window, pos, base, source)
        if step is None:
            return None
        consumed, frame = step
        if not consumed:
            return pos  # the record is not all in the buffer yet
        if frame is not None:
            yield from body.walked((frame,))
        pos += consumed
        body.bytes_read = base + pos
