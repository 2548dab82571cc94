"""pcap, pcapng and Network Monitor bodies read through the C skimmer (`_walk.c`): media is only counted.

The file is read into one buffer, 1 MB at a time, in place. The skimmer walks the
records of each window, counts RTP/RTCP/DTLS/ZRTP datagrams per 5-tuple and kind,
skips TCP directions the packet source gave up on, and returns the offsets of every
other frame; only those become `Frame` objects. pcapng blocks other than plain
Enhanced Packet Blocks (section and interface headers, statistics, damage) stop the
walk and are read here, by the same rules and with the same warnings as the plain
reader in `reader.py`. Network Monitor frames are found through the frame table, so
there the window follows the table.
"""

from __future__ import annotations

import array
import functools
import struct
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from icetrace.capture.reader import (
    MAX_BLOCK,
    Frame,
    NetmonLayout,
    ReadProblem,
    if_tsresol,
    netmon_frame,
    netmon_linktype,
    pcap_resync,
    pcapng_packet,
    resync_after_damage,
)

Skimmer: Any
try:
    from icetrace.capture import _walk  # type: ignore[attr-defined,unused-ignore]

    Skimmer = _walk.Skimmer
except ImportError:  # not compiled: reader.py falls back to the numpy or the plain path
    Skimmer = None

WINDOW = 1 << 20  # the window stays in L2 cache from read to walk: 8 MB windows walk 5x slower
_SHB = b"\x0a\x0d\x0d\x0a"
_STATUS_MORE, _STATUS_BLOCK, _STATUS_DAMAGE = 0, 1, 2
_KEPT_FIELDS = 7  # per frame handed back: number, offset, length, original length, ticks, interface, link type


@functools.cache
def _media_table() -> bytes:
    """Every Network Monitor media type's link type, for the skimmer (one mapping: reader.py's)."""
    return array.array("i", [netmon_linktype(media) for media in range(65536)]).tobytes()


class _Resync(Exception):
    """A damaged pcap record or pcapng block was skipped: reading resumes at this file offset."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


# (src packed, sport, dst packed, dport, kind, first frame, first time, last frame, last time, packets, bytes)
MediaSink = Callable[[bytes, int, bytes, int, str, int, float, int, float, int, int], None]
# (relayed media counted: (via, src packed, sport, dst packed, dport, channel, peer packed or None, peer port,
#  kind, first frame, first time, last frame, last time, packets, bytes) each; the latest counted indication's time)
RelayedSink = Callable[[list[tuple[Any, ...]], float | None], None]


def available() -> bool:
    return Skimmer is not None


class FastBody:
    """Frames of one pcap, pcapng or Network Monitor file body; `problems` and `bytes_read` as in CaptureReader."""

    def __init__(
        self,
        path: str,
        fh: BinaryIO,
        fmt: str,
        sink: MediaSink,
        progress: Callable[[int, int], None] | None = None,
        *,
        big_endian: bool = False,
        linktype: int = -1,
        divisor: int = 1_000_000,
        start_offset: int = 0,
        netmon: NetmonLayout | None = None,
        relayed_sink: RelayedSink | None = None,
    ) -> None:
        self.path = path
        self.fh = fh
        self.format = fmt
        self.sink = sink
        self.progress = progress
        self.problems: list[ReadProblem] = []
        self.bytes_read = start_offset
        self._netmon = netmon
        if netmon is not None:
            self._skimmer: Any = Skimmer(fmt, False, netmon.default_link, 1, netmon.trailer)
            self._skimmer.set_media_table(_media_table())
        else:
            self._skimmer = Skimmer(fmt, big_endian, linktype, divisor)
        self.relayed_sink = relayed_sink
        if relayed_sink is not None:
            self._skimmer.count_relayed()
        self._divisor = divisor
        # pcapng state: byte order and interfaces of the current section
        self._endian = ">" if big_endian else "<"
        self._interfaces: list[tuple[int, int, int]] = []  # (linktype, units per second, snaplen)
        # every interface of the file, in order: the skimmer numbers them file-wide
        self._file_interfaces: list[tuple[int, int, int]] = []

    def ignore_tcp(self, src: bytes, sport: int, dst: bytes, dport: int) -> None:
        """From the next window on, frames of this TCP direction are not handed back."""
        self._skimmer.ignore_tcp(src, sport, dst, dport)

    def _problem(self, offset: int, frame: int, message: str) -> None:
        self.problems.append(ReadProblem(self.path, offset, frame, message))

    def __iter__(self) -> Iterator[Frame]:
        try:
            yield from self._windows() if self._netmon is None else self._netmon_windows(self._netmon)
        finally:
            self._report_media()

    def _unbuffered(self) -> Any:
        """The raw file under the BufferedReader (its extra copy costs more than the walk), if any."""
        unbuffered = getattr(self.fh, "raw", None)
        if unbuffered is not None and unbuffered.seekable():
            unbuffered.seek(self.fh.tell())
            return unbuffered
        return self.fh

    def _netmon_windows(self, layout: NetmonLayout) -> Iterator[Frame]:
        """Network Monitor: the window follows the frame table, which says where each frame is."""
        skimmer = self._skimmer
        source = self._unbuffered()
        view = memoryview(bytearray(2 * WINDOW))
        base, filled, index = -1, 0, 0
        while index < layout.frames:
            offset = layout.offset(index)
            if base < 0 or offset < base or offset + 16 > base + filled:
                source.seek(offset)
                base, filled = offset, source.readinto(view) or 0
            window = view[:filled]
            raw, after, _ = skimmer.walk_netmon(window, base, layout.table, index)
            if raw:
                yield from self._frames(window, 0, raw)
            if after > index:
                index = after
                self.bytes_read = base + filled
                if self.progress is not None:
                    self.progress(self.bytes_read, index)
                continue
            if base != offset:
                base = -1  # the frame starts in this window but ends past it: move the window
                continue
            # a frame larger than the window, or cut short by the end of the file
            frame = netmon_frame(source, layout, index, self.problems, self.path)
            if frame is not None:  # a damaged frame is skipped, as in reader.py
                yield frame
            index += 1
            skimmer.number = index

    def _windows(self) -> Iterator[Frame]:
        skimmer = self._skimmer
        source = self._unbuffered()
        buffer = bytearray(2 * WINDOW)
        view = memoryview(buffer)
        carried = 0  # bytes of an unfinished record at the buffer's front
        base = self.bytes_read  # file offset of buffer[0]
        eof = False
        while not eof:
            if carried + WINDOW > len(buffer):
                grown = bytearray(carried + WINDOW)
                grown[:carried] = view[:carried]
                buffer, view = grown, memoryview(grown)
            got = source.readinto(view[carried : carried + WINDOW])
            eof = not got
            filled = carried + (got or 0)
            window = view[:filled]
            pos = 0
            try:
                while True:
                    raw, used, status = skimmer.walk(window[pos:])
                    if raw:
                        yield from self._frames(window, pos, raw)
                    pos += used
                    self.bytes_read = base + pos
                    if status == _STATUS_MORE:
                        break
                    if status == _STATUS_DAMAGE:
                        incl = struct.unpack_from(self._endian + "I", window, pos + 8)[0]
                        what = f"record length {incl} is implausible"
                        number = skimmer.number + 1
                        resume = pcap_resync(
                            source, base + pos, number, self._endian, self._divisor, what, self.problems, self.path
                        )
                        if resume is None:
                            return
                        raise _Resync(resume)
                    step = self._block(window, pos, filled, base, source)
                    if step is None:
                        return  # damage, reported
                    consumed, frame = step
                    if not consumed:
                        break  # the block is not all in the buffer yet
                    if frame is not None:
                        yield frame
                    pos += consumed
                    self.bytes_read = base + pos
            except _Resync as resync:  # the file is positioned at the intact block
                base, carried, eof = resync.offset, 0, False
                continue
            if self.progress is not None:
                self.progress(self.bytes_read, skimmer.number)
            carried = filled - pos
            view[:carried] = view[pos:filled]
            base += pos
            if eof and carried:
                self._cut_short(view[:carried], base)

    def _frames(self, window: memoryview, pos: int, raw: bytes) -> Iterator[Frame]:
        fields = memoryview(raw).cast("Q").tolist()
        fmt = self.format
        unit = self._divisor
        interfaces = self._file_interfaces
        netmon = self._netmon
        for i in range(0, len(fields), _KEPT_FIELDS):
            number, offset, caplen, orig, ticks, iface, linktype = fields[i : i + _KEPT_FIELDS]
            start = pos + offset
            data = bytes(window[start : start + caplen])
            if fmt == "pcap":
                yield Frame(number, ticks / unit, linktype, data, orig)
            elif fmt == "pcapng":
                yield Frame(number, ticks / interfaces[iface][1], linktype, data, orig)
            else:
                assert netmon is not None
                if linktype >= 1 << 63:  # a negative link type (no pcap equivalent), stored unsigned
                    linktype -= 1 << 64
                yield Frame(number, netmon.time(ticks, iface == 1), linktype, data, orig)

    def _cut_short(self, rest: memoryview, offset: int) -> None:
        number = self._skimmer.number + 1
        if self.format == "pcap":
            if len(rest) < 16:
                self._problem(offset, number, "record header cut short (file truncated)")
            else:
                incl = struct.unpack_from(self._endian + "I", rest, 8)[0]
                self._problem(offset, number, f"frame cut short: {len(rest) - 16} of {incl} bytes (file truncated)")
        elif len(rest) < 8:
            self._problem(offset, number, "block header cut short (file truncated)")
        elif rest[:4] == _SHB and len(rest) < 12:
            self._problem(offset, number, "section header cut short")
        else:
            self._problem(offset, number, "block cut short (file truncated)")

    # -- pcapng blocks the skimmer leaves to Python ---------------------------

    def _block(
        self, window: memoryview, pos: int, filled: int, base: int, source: Any
    ) -> tuple[int, Frame | None] | None:
        """Read one block at `pos`: (bytes consumed, frame or None), 0 bytes to read more; None to stop.

        Raises _Resync after a damaged block when an intact one follows."""
        if pos + 12 > filled:
            return 0, None
        offset = base + pos
        head = bytes(window[pos : pos + 12])
        if head[:4] == _SHB:
            self._endian = "<" if head[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        endian = self._endian
        blen = struct.unpack_from(endian + "I", head, 4)[0]
        if blen < 12 or blen % 4 or blen > MAX_BLOCK:
            self._resync(source, offset, f"corrupt block length {blen}")
            return None
        if pos + blen > filled:
            return 0, None  # at the end of the file, _cut_short reports it
        if struct.unpack_from(endian + "I", window, pos + blen - 4)[0] != blen:
            self._resync(source, offset, f"block length {blen} disagrees with its trailer")
            return None
        btype = struct.unpack_from(endian + "I", head)[0]
        content = bytes(window[pos + 8 : pos + blen - 4])
        frame = None
        if head[:4] == _SHB:
            self._skimmer.new_section(endian == ">")
            self._interfaces = []
        elif btype == 1:  # Interface Description Block
            if len(content) < 8:
                self._problem(offset, self._skimmer.number + 1, "interface block cut short")
            else:
                linktype, _, snaplen = struct.unpack_from(endian + "HHI", content)
                self._interfaces.append((linktype, if_tsresol(content[8:], endian), snaplen))
                self._file_interfaces.append(self._interfaces[-1])
                self._skimmer.add_interface(linktype)
        elif btype in (6, 2, 3):
            number = self._skimmer.number + 1
            self._skimmer.number = number
            frame = pcapng_packet(btype, content, endian, self._interfaces, number, offset, self.problems, self.path)
        return blen, frame

    def _resync(self, source: Any, offset: int, what: str) -> None:
        """Warn about a damaged block; raise _Resync if an intact block follows (else reading stops)."""
        resume = resync_after_damage(
            source, offset, self._skimmer.number + 1, self._endian, what, self.problems, self.path
        )
        if resume is not None:
            raise _Resync(resume)

    def _time(self, ticks: int, iface: int) -> float:
        """A time the skimmer counted in ticks of an interface (Network Monitor: of a time base)."""
        if self._netmon is not None:
            return self._netmon.time(ticks, iface == 1)
        if self.format == "pcap":
            return ticks / self._divisor
        return ticks / self._file_interfaces[iface][1]

    def _report_media(self) -> None:
        time = self._time
        for src, sport, dst, dport, kind, n1, t1, i1, n2, t2, i2, packets, size in self._skimmer.flows():
            self.sink(src, sport, dst, dport, kind, n1, time(t1, i1), n2, time(t2, i2), packets, size)
        if self.relayed_sink is not None:
            counts, latest = self._skimmer.relayed()
            self.relayed_sink(
                [(*c[:9], c[9], time(c[10], c[11]), c[12], time(c[13], c[14]), c[15], c[16]) for c in counts],
                max((time(ticks, iface) for iface, ticks in latest), default=None),
            )
