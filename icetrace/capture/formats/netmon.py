"""Microsoft Network Monitor 2.x (`.cap`): a 128-byte header, frames, and a frame table at the end.

The table gives each frame's file offset, so this format needs seeking, and a damaged frame
does not hide the others. Each frame may carry its own media type (2.1+) and UTC time (2.3).
"""

from __future__ import annotations

import array
import calendar
import functools
import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, BinaryIO

from icetrace.capture import fast_reader, pcapng_blocks
from icetrace.capture.formats.base import Copying, Frame, Reading, ReadProblem
from icetrace.capture.linktypes import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IEEE802_11,
    LINKTYPE_NETMON_802_11,
    LINKTYPE_NETMON_UNSUPPORTED,
    LINKTYPE_RAW,
)
from icetrace.errors import InputError

MAGIC = b"GMBU"
MAGIC_VERSION_1 = b"RTSS"  # Network Monitor 1.x, not read
HEADER = 128
FRAME_HEADER = 16  # time offset (8 bytes), original length, captured length
FILETIME_UNIX_EPOCH = 116444736000000000  # 100 ns intervals from 1601-01-01 to 1970-01-01


class NetmonRecord(IntEnum):
    """Media types of Network Monitor records that are not packets (Wireshark's wiretap/netmon.c)."""

    NETWORK_EVENT = 0xFFE0
    NETWORK_INFO_EX = 0xFFFB
    PAYLOAD_HEADER = 0xFFFC
    NETWORK_INFO = 0xFFFD
    DNS_CACHE = 0xFFFE
    NETMON_FILTER = 0xFFFF


# Network Monitor media types -> LINKTYPE (as Wireshark's wiretap/netmon.c reads them: 0 is
# Ethernet in NetMon 3.4 VPN captures, 6 is 802.11 with NetMon's radio header, 7-9 carry raw
# IP, and 0xE000 plus a pcap link type wraps that link type). Other types (NetmonRecord and the
# like) are frames without packets.
_NETMON_MEDIA = {
    0: LINKTYPE_ETHERNET,
    1: LINKTYPE_ETHERNET,
    6: LINKTYPE_NETMON_802_11,
    7: LINKTYPE_RAW,
    8: LINKTYPE_RAW,
    9: LINKTYPE_RAW,
}
_NETMON_PCAP_BASE = 0xE000


def netmon_linktype(media: int) -> int:
    """The link type of a Network Monitor media type."""
    if media & 0xF000 == _NETMON_PCAP_BASE:
        return media & 0x0FFF
    return _NETMON_MEDIA.get(media, LINKTYPE_NETMON_UNSUPPORTED)


@dataclass(frozen=True)
class NetmonLayout:
    """What a Network Monitor 2.x header says about its frames."""

    start_us: int  # capture start, microseconds since the Unix epoch
    default_link: int
    trailer: int  # bytes after each frame's data: 0 (2.0), 2 (2.1), 6 (2.2), 15 (2.3)
    table: bytes  # the frame table: one little-endian uint32 file offset per frame
    file_size: int  # bytes (decompressed): no frame may claim more

    @property
    def frames(self) -> int:
        return len(self.table) // 4

    def offset(self, index: int) -> int:
        return int.from_bytes(self.table[4 * index : 4 * index + 4], "little")

    def time(self, ticks: int, utc_filetime: bool) -> float:
        """Epoch seconds of a frame: its UTC FILETIME (2.3) or its offset from the start."""
        if utc_filetime:
            return (ticks - FILETIME_UNIX_EPOCH) / 1e7
        return (self.start_us + ticks) / 1_000_000


def _trailer_size(major: int, minor: int) -> int:
    if major != 2 or minor < 1:
        return 0
    return {1: 2, 2: 6}.get(minor, 15)


def read_layout(fh: BinaryIO, path: str, problems: list[ReadProblem]) -> NetmonLayout:
    """The header and frame table of a Network Monitor 2.x file (`fh` at its start)."""
    header = fh.read(HEADER)
    if len(header) < 40:
        raise InputError(f"{path}: Network Monitor header is cut short")
    minor, major, network = header[4], header[5], struct.unpack_from("<H", header, 6)[0]
    year, month, _dow, day, hour, minute, sec, msec = struct.unpack_from("<8H", header, 8)
    table_offset, table_length = struct.unpack_from("<II", header, 24)
    try:
        start_us = (calendar.timegm((year, month, day, hour, minute, sec, 0, 0, 0)) * 1000 + msec) * 1000
    except (ValueError, OverflowError):
        start_us = 0
        problems.append(ReadProblem(path, 8, 0, "capture start time is invalid; times are relative"))
    # lengths are checked against the file before anything is read: a hostile header may claim gigabytes
    size = fh.seek(0, io.SEEK_END)
    if table_offset > size:
        what = f"frame table offset {table_offset} is past the end of the file ({size} bytes)"
        problems.append(ReadProblem(path, 24, 1, what))
        table_length = 0
    elif table_length > size - table_offset:
        problems.append(ReadProblem(path, table_offset, 1, "frame table cut short (file truncated)"))
        table_length = size - table_offset
    fh.seek(table_offset)
    table = fh.read(table_length) if table_length else b""
    trailer = _trailer_size(major, minor)
    return NetmonLayout(start_us, netmon_linktype(network), trailer, table[: len(table) // 4 * 4], size)


class Netmon:
    """The Network Monitor 2.x format: its plain reader and its C skimmer hook."""

    name = "netmon2"
    title = "Network Monitor"
    magics: tuple[bytes, ...] = (MAGIC,)

    def read(self, fh: BinaryIO, reading: Reading) -> Iterator[Frame]:
        layout = read_layout(fh, str(reading.path), reading.problems)
        fast = fast_reader.skim(reading, fh, NetmonHook(layout))
        if fast is not None:
            yield from fast
            return
        for index in range(layout.frames):
            frame = netmon_frame(fh, layout, index, reading.problems, str(reading.path))
            if frame is None:
                continue  # the table gives each frame's offset: a damaged one does not hide the rest
            reading.bytes_read = layout.offset(index) + FRAME_HEADER + len(frame.data)
            yield frame

    def copy_as_pcapng(self, fh: BinaryIO, copying: Copying) -> Iterator[bytes]:
        return _copy(fh, copying)


def netmon_frame(
    fh: BinaryIO, layout: NetmonLayout, index: int, problems: list[ReadProblem], path: str
) -> Frame | None:
    """Frame `index` (0-based) read by seeking; None, with the damage recorded, when it is cut short."""
    frame_offset = layout.offset(index)
    if frame_offset + FRAME_HEADER > layout.file_size:
        what = f"frame table entry points past the end of the file ({layout.file_size} bytes); skipped"
        problems.append(ReadProblem(path, frame_offset, index + 1, what))
        return None
    fh.seek(frame_offset)
    rh = fh.read(FRAME_HEADER)
    if len(rh) < FRAME_HEADER:
        problems.append(ReadProblem(path, frame_offset, index + 1, "frame header cut short (file truncated)"))
        return None
    delta_us, orig, incl = struct.unpack("<QII", rh)
    if incl > layout.file_size - frame_offset - FRAME_HEADER:
        what = f"frame length {incl} runs past the end of the file; skipped"
        problems.append(ReadProblem(path, frame_offset, index + 1, what))
        return None
    data = fh.read(incl)
    if len(data) < incl:
        problems.append(ReadProblem(path, frame_offset, index + 1, f"frame cut short: {len(data)} of {incl} bytes"))
        return None
    linktype = layout.default_link
    when = layout.time(delta_us, False)
    trailer = layout.trailer
    if trailer:
        tr = fh.read(trailer)
        if len(tr) == trailer:
            linktype = netmon_linktype(struct.unpack_from("<H", tr)[0])
            if trailer >= 15:
                filetime = struct.unpack_from("<Q", tr, 6)[0]
                if filetime:
                    when = layout.time(filetime, True)
    return Frame(index + 1, when, linktype, data, orig)


@functools.cache
def _media_table() -> bytes:
    """Every Network Monitor media type's link type, for the skimmer (one mapping: netmon_linktype)."""
    return array.array("i", [netmon_linktype(media) for media in range(65536)]).tobytes()


class NetmonHook:
    """Network Monitor through the C skimmer: the window follows the frame table."""

    start_offset = 0

    def __init__(self, layout: NetmonLayout) -> None:
        self.layout = layout

    def skimmer(self, skimmer_type: Any) -> Any:
        skimmer = skimmer_type("netmon", False, self.layout.default_link, 1, self.layout.trailer)
        skimmer.set_media_table(_media_table())
        return skimmer

    def walk(self, body: fast_reader.FastBody) -> Iterator[Frame]:
        """Windows where the table says the next frames are; a frame larger than a window is read alone."""
        layout = self.layout
        skimmer = body.skimmer
        source = body.unbuffered()
        view = memoryview(bytearray(2 * fast_reader.WINDOW))
        base, filled, index = -1, 0, 0
        while index < layout.frames:
            offset = layout.offset(index)
            if base < 0 or offset < base or offset + FRAME_HEADER > base + filled:
                source.seek(offset)
                base, filled = offset, source.readinto(view) or 0
            window = view[:filled]
            raw, after, _ = skimmer.walk_netmon(window, base, layout.table, index)
            yield from body.walked(self.frames(window, 0, raw) if raw else ())
            if after > index:
                index = after
                body.bytes_read = base + filled
                if body.progress is not None:
                    body.progress(body.bytes_read, index)
                continue
            if base != offset:
                base = -1  # the frame starts in this window but ends past it: move the window
                continue
            # a frame larger than the window, or cut short by the end of the file
            frame = netmon_frame(source, layout, index, body.problems, body.path)
            if frame is not None:  # a damaged frame is skipped, as in the plain reader
                yield from body.walked((frame,))
            index += 1
            skimmer.number = index

    def frames(self, window: memoryview, pos: int, raw: bytes) -> Iterator[Frame]:
        fields = fast_reader.kept_fields(raw)
        time = self.layout.time
        for i in range(0, len(fields), fast_reader.KEPT_FIELDS):
            number, offset, caplen, orig, ticks, utc, linktype = fields[i : i + fast_reader.KEPT_FIELDS]
            start = pos + offset
            data = bytes(window[start : start + caplen])
            if linktype >= 1 << 63:  # a negative link type (no pcap equivalent), stored unsigned
                linktype -= 1 << 64
            yield Frame(number, time(ticks, utc == 1), linktype, data, orig)

    def flow_time(self, ticks: int, utc: int) -> float:
        return self.layout.time(ticks, utc == 1)

    def time_bases(self) -> list[tuple[int, int, int, bool]]:
        """NetmonLayout.time: microseconds after the capture's start, or a FILETIME (int / float)."""
        return [(0, 1_000_000, self.layout.start_us, False), (1, 10_000_000, -FILETIME_UNIX_EPOCH, True)]


# -- an annotated copy ----------------------------------------------------------

LINKTYPE_USER0 = 147  # Network Monitor frames of a media type no pcap link type stands for
# Network Monitor records that are not packets (events, network information, DNS cache, the
# capture filter): Wireshark skips them without giving them a frame number, and so does the copy
_NOT_PACKETS = frozenset(NetmonRecord)


def _copy(fh: BinaryIO, copying: Copying) -> Iterator[bytes]:
    """One pcapng interface per link type the frames use, times in 100 ns units (2.3 files stamp
    each frame with a FILETIME, older ones with microseconds since the capture start)."""
    problems, path = copying.problems, copying.path
    layout = read_layout(fh, path, [])
    yield pcapng_blocks.shb()
    interfaces: dict[int, int] = {}
    for index in range(layout.frames):
        frame_offset = layout.offset(index)
        rh = b""
        if frame_offset + 16 <= layout.file_size:
            fh.seek(frame_offset)
            rh = fh.read(16)
        delta_us, orig, incl = struct.unpack("<QII", rh) if len(rh) == 16 else (0, 0, -1)
        data = fh.read(incl) if 0 <= incl <= layout.file_size - frame_offset - 16 else b""
        notes = list(copying.notes(index + 1))
        media = None
        ticks = (layout.start_us + delta_us) * 10
        if len(data) != incl:
            # the reader skips a damaged frame and reads on (the table gives every frame's offset);
            # the copy keeps its number with an empty frame that says so
            problems.append(ReadProblem(path, frame_offset, index + 1, "damaged frame left empty"))
            notes.insert(0, "icetrace: damaged Network Monitor frame (cut short or pointing past the end)")
            data, orig = b"", 0
        elif layout.trailer:
            tr = fh.read(layout.trailer)
            if len(tr) == layout.trailer:
                media = struct.unpack_from("<H", tr)[0]
                if layout.trailer >= 15:
                    filetime = struct.unpack_from("<Q", tr, 6)[0]
                    if filetime:
                        ticks = filetime - FILETIME_UNIX_EPOCH
        if media in _NOT_PACKETS:
            continue
        linktype = layout.default_link if media is None else netmon_linktype(media)
        name = None
        if linktype == LINKTYPE_NETMON_802_11:
            # NetMon's radio header (version, then its length, little-endian) has no pcap link
            # type; the 802.11 frame after it is written as LINKTYPE_IEEE802_11
            cut = data[1] | data[2] << 8 if len(data) >= 3 else 0
            data, orig, linktype = data[cut:], max(0, orig - cut), LINKTYPE_IEEE802_11
        elif linktype == LINKTYPE_NETMON_UNSUPPORTED:
            linktype, name = LINKTYPE_USER0, f"Network Monitor media type 0x{(media or 0):04x}"
        key = linktype if name is None else -(media or 0) - 1
        if key not in interfaces:
            interfaces[key] = len(interfaces)
            yield pcapng_blocks.idb("<", linktype, 0, 7, name)
        if copying.blank(index + 1):
            data = b""
        if ticks > pcapng_blocks.MAX_TICKS:
            what = "frame time past what pcapng holds: written as the latest it can"
            problems.append(ReadProblem(path, frame_offset, index + 1, what))
        yield pcapng_blocks.epb("<", interfaces[key], ticks, data, orig, pcapng_blocks.comment_options(notes))


NETMON = Netmon()
# recognised, so that the error says what the file is
UNSUPPORTED = {MAGIC_VERSION_1: "Network Monitor 1.x captures are not supported"}
