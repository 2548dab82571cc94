"""Capture file readers: pcap, pcapng, Network Monitor 2.x, optionally gzip-compressed.

The format is told from the first bytes, not the file name. Frames are numbered
from 1 exactly as Wireshark numbers them. Reading streams through a buffered file,
so memory does not grow with the capture. A damaged file yields every intact frame
and records one `ReadProblem` naming the file, byte offset and frame.
"""

from __future__ import annotations

import calendar
import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

from icetrace.capture.input_file import open_capture
from icetrace.errors import InputError

# Link-layer types (tcpdump.org LINKTYPE_*), as the link decoder understands them.
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_RAW_ALT12 = 12
LINKTYPE_RAW_ALT14 = 14
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276
LINKTYPE_IEEE802_11 = 105
LINKTYPE_IEEE802_11_RADIOTAP = 127
LINKTYPE_NETMON_UNSUPPORTED = -1  # a Network Monitor media type we cannot decode
LINKTYPE_NETMON_802_11 = -2  # Network Monitor's own 802.11 radio header (no pcap link type exists)

# Network Monitor media types -> LINKTYPE (as Wireshark's wiretap/netmon.c reads them: 0 is
# Ethernet in NetMon 3.4 VPN captures, 6 is 802.11 with NetMon's radio header, 7-9 carry raw
# IP, and 0xE000 plus a pcap link type wraps that link type). Other types (0xFFE0 and up are
# events, process and network information) are frames without packets.
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


@dataclass(slots=True)
class Frame:
    """One captured frame: Wireshark's frame number, epoch time, link type, bytes.

    Read-only by convention; not frozen, because a frozen __init__ is slow per frame."""

    number: int
    time: float
    linktype: int
    data: bytes
    orig_len: int


@dataclass(slots=True)
class ReadProblem:
    """Damage found while reading; analysis of the other frames goes on."""

    path: str
    offset: int  # in the file; -1 when the damage is not in the file's structure
    frame: int  # the frame number at which the damage starts; 0 when the damage is below the frames (gzip)
    message: str

    def __str__(self) -> str:
        # no offset: damage seen above the file's records (a TCP stream's lost bytes);
        # no frame: damage below them (a gzip stream's)
        where = ", ".join(
            ([f"offset {self.offset}"] if self.offset >= 0 else []) + ([f"frame {self.frame}"] if self.frame else [])
        )
        return f"{self.path}: {where}: {self.message}" if where else f"{self.path}: {self.message}"


@dataclass
class CaptureReader:
    """Iterate the frames of one capture file; `problems` fills in as reading goes."""

    path: Path
    problems: list[ReadProblem] = field(default_factory=list)
    format: str = ""
    bytes_read: int = 0
    # When set, plain RTP/RTCP/DTLS/ZRTP frames are only counted, never built as Frames
    # (fast_reader with the C skimmer for pcap and pcapng; media_skip's numpy pass without it)
    media_sink: Any = None
    progress: Any = None
    # When set too, UDP relayed media (ChannelData, Send/Data indications) is counted by the C skimmer
    relayed_sink: Any = None
    _fast: Any = None

    def ignore_tcp(self, src: bytes, sport: int, dst: bytes, dport: int) -> None:
        """The caller no longer wants this TCP direction; the fast path may stop handing it back."""
        if self._fast is not None:
            self._fast.ignore_tcp(src, sport, dst, dport)

    def _fast_body(self, fh: BinaryIO, fmt: str, **options: Any) -> Iterator[Frame] | None:
        if self.media_sink is None:
            return None
        from icetrace.capture import fast_reader

        if not fast_reader.available():
            return None
        body = fast_reader.FastBody(
            str(self.path), fh, fmt, self.media_sink, self.progress, relayed_sink=self.relayed_sink, **options
        )
        self._fast = body
        return self._follow(body)

    def _follow(self, body: Any) -> Iterator[Frame]:
        try:
            for frame in body:
                self.bytes_read = body.bytes_read
                yield frame
        finally:
            self.bytes_read = body.bytes_read
            self.problems.extend(body.problems)

    def __iter__(self) -> Iterator[Frame]:
        fh, gz = open_capture(self.path)
        try:
            with fh:
                yield from self._body(fh)
        except OSError as exc:  # EIO and the like: the medium, not the format
            raise InputError(f"{self.path}: read error after {self.bytes_read} bytes: {exc.strerror or exc}") from None
        finally:
            if gz is not None and gz.damage is not None:
                self._problem(gz.damage_offset, 0, gz.damage)  # an offset in the decompressed bytes

    def _body(self, fh: BinaryIO) -> Iterator[Frame]:
        head = cast(io.BufferedReader, fh).peek(64)[:64]
        magic = head[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
            self.format = "pcap"
            yield from self._pcap(fh)
        elif magic == b"\x0a\x0d\x0d\x0a":
            self.format = "pcapng"
            yield from self._pcapng(fh)
        elif magic == b"GMBU":
            self.format = "netmon2"
            yield from self._netmon(fh)
        elif magic == b"RTSS":
            raise InputError(f"{self.path}: Network Monitor 1.x captures are not supported")
        elif not head:
            raise InputError(f"{self.path}: empty file, not a capture")
        else:
            raise InputError(f"{self.path}: not a capture file (pcap, pcapng or Network Monitor)")

    def _problem(self, offset: int, frame: int, message: str) -> None:
        self.problems.append(ReadProblem(str(self.path), offset, frame, message))

    # -- pcap -----------------------------------------------------------------

    def _pcap(self, fh: BinaryIO) -> Iterator[Frame]:
        header = fh.read(24)
        if len(header) < 24:
            raise InputError(f"{self.path}: pcap header is cut short ({len(header)} of 24 bytes)")
        magic = header[:4]
        endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        nanos = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        linktype = struct.unpack(endian + "I", header[20:24])[0] & 0x0FFFFFFF
        divisor = 1_000_000_000 if nanos else 1_000_000
        fast = self._fast_body(
            fh, "pcap", big_endian=endian == ">", linktype=linktype, divisor=divisor, start_offset=24
        )
        if fast is not None:
            yield from fast
            return
        offset, number = 24, 0
        if self.media_sink is not None and linktype == LINKTYPE_ETHERNET:
            from icetrace.capture.media_skip import Truncated, skim_pcap

            try:
                yield from skim_pcap(fh, endian, int(divisor), linktype, self.media_sink, self.progress)
                return
            except Truncated as cut:
                if not cut.implausible:
                    self._problem(cut.offset, cut.frame, cut.message)
                    return
                # resynchronise as below; the records after the damage are read here
                fh.seek(cut.offset)
                offset, number = cut.offset, cut.frame - 1
        rec = struct.Struct(endian + "IIII")
        read = fh.read
        while True:
            rh = read(16)
            if not rh:
                break
            number += 1
            if len(rh) < 16:
                self._problem(offset, number, "record header cut short (file truncated)")
                break
            sec, frac, incl, orig = rec.unpack(rh)
            if incl > MAX_PCAP_RECORD:
                what = f"record length {incl} is implausible"
                resume = pcap_resync(fh, offset, number, endian, divisor, what, self.problems, str(self.path))
                if resume is None:
                    break
                offset, number = resume, number - 1  # the damaged header is no frame
                continue
            data = read(incl)
            if len(data) < incl:
                self._problem(offset, number, f"frame cut short: {len(data)} of {incl} bytes (file truncated)")
                break
            offset += 16 + incl
            self.bytes_read = offset
            yield Frame(number, (sec * divisor + frac) / divisor, linktype, data, orig)

    # -- pcapng ---------------------------------------------------------------

    def _pcapng(self, fh: BinaryIO) -> Iterator[Frame]:
        fast = self._fast_body(fh, "pcapng")
        if fast is not None:
            yield from fast
            return
        endian = "<"
        interfaces: list[tuple[int, int, int]] = []  # (linktype, units per second, snaplen)
        offset = 0
        number = 0
        read = fh.read
        while True:
            bh = read(8)
            if not bh:
                break
            if len(bh) < 8:
                self._problem(offset, number + 1, "block header cut short (file truncated)")
                break
            btype_raw = bh[:4]
            bom = b""
            if btype_raw == b"\x0a\x0d\x0d\x0a":
                bom = read(4)
                if len(bom) < 4:
                    self._problem(offset, number + 1, "section header cut short")
                    break
                endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            blen = struct.unpack(endian + "I", bh[4:8])[0]
            if blen < 12 or blen % 4 or blen > MAX_BLOCK:
                resume = self._resync(fh, offset, number + 1, endian, f"corrupt block length {blen}")
                if resume is None:
                    break
                offset = resume
                continue
            body = bom + read(blen - 8 - len(bom))
            if len(body) < blen - 8:
                self._problem(offset, number + 1, "block cut short (file truncated)")
                break
            if struct.unpack(endian + "I", body[-4:])[0] != blen:
                resume = self._resync(fh, offset, number + 1, endian, f"block length {blen} disagrees with its trailer")
                if resume is None:
                    break
                offset = resume
                continue
            btype = struct.unpack(endian + "I", btype_raw)[0]
            content = body[:-4]
            if bom:
                interfaces = []
            elif btype == 1:  # Interface Description Block
                if len(content) < 8:
                    self._problem(offset, number + 1, "interface block cut short")
                else:
                    linktype, _, snaplen = struct.unpack_from(endian + "HHI", content)
                    interfaces.append((linktype, if_tsresol(content[8:], endian), snaplen))
            elif btype in (6, 2, 3):
                number += 1
                frame = pcapng_packet(btype, content, endian, interfaces, number, offset, self.problems, str(self.path))
                if frame is not None:
                    yield frame
            offset += blen
            self.bytes_read = offset

    def _resync(self, fh: BinaryIO, offset: int, frame: int, endian: str, what: str) -> int | None:
        return resync_after_damage(fh, offset, frame, endian, what, self.problems, str(self.path))

    # -- Network Monitor 2.x --------------------------------------------------

    def _netmon(self, fh: BinaryIO) -> Iterator[Frame]:
        # The frame table sits at the end of the file, so this format needs seeking.
        layout = self._netmon_layout(fh)
        fast = self._fast_body(fh, "netmon", netmon=layout)
        if fast is not None:
            yield from fast
            return
        for index in range(layout.frames):
            frame = netmon_frame(fh, layout, index, self.problems, str(self.path))
            if frame is None:
                continue  # the table gives each frame's offset: a damaged one does not hide the rest
            self.bytes_read = layout.offset(index) + 16 + len(frame.data)
            yield frame

    def _netmon_layout(self, fh: BinaryIO) -> NetmonLayout:
        header = fh.read(128)
        if len(header) < 40:
            raise InputError(f"{self.path}: Network Monitor header is cut short")
        minor, major, network = header[4], header[5], struct.unpack_from("<H", header, 6)[0]
        year, month, _dow, day, hour, minute, sec, msec = struct.unpack_from("<8H", header, 8)
        table_offset, table_length = struct.unpack_from("<II", header, 24)
        try:
            start_us = (calendar.timegm((year, month, day, hour, minute, sec, 0, 0, 0)) * 1000 + msec) * 1000
        except (ValueError, OverflowError):
            start_us = 0
            self._problem(8, 0, "capture start time is invalid; times are relative")
        trailer = 0
        if major == 2 and minor >= 1:
            trailer = 2
        if major == 2 and minor >= 2:
            trailer = 6
        if major == 2 and minor >= 3:
            trailer = 15
        # lengths are checked against the file before anything is read: a hostile header may claim gigabytes
        size = fh.seek(0, io.SEEK_END)
        if table_offset > size:
            self._problem(24, 1, f"frame table offset {table_offset} is past the end of the file ({size} bytes)")
            table_length = 0
        elif table_length > size - table_offset:
            self._problem(table_offset, 1, "frame table cut short (file truncated)")
            table_length = size - table_offset
        fh.seek(table_offset)
        table = fh.read(table_length) if table_length else b""
        return NetmonLayout(start_us, netmon_linktype(network), trailer, table[: len(table) // 4 * 4], size)


_FILETIME_UNIX_EPOCH = 116444736000000000  # 100 ns intervals from 1601-01-01 to 1970-01-01


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
            return (ticks - _FILETIME_UNIX_EPOCH) / 1e7
        return (self.start_us + ticks) / 1_000_000


def netmon_frame(
    fh: BinaryIO, layout: NetmonLayout, index: int, problems: list[ReadProblem], path: str
) -> Frame | None:
    """Frame `index` (0-based) read by seeking; None, with the damage recorded, when it is cut short."""
    frame_offset = layout.offset(index)
    if frame_offset + 16 > layout.file_size:
        what = f"frame table entry points past the end of the file ({layout.file_size} bytes); skipped"
        problems.append(ReadProblem(path, frame_offset, index + 1, what))
        return None
    fh.seek(frame_offset)
    rh = fh.read(16)
    if len(rh) < 16:
        problems.append(ReadProblem(path, frame_offset, index + 1, "frame header cut short (file truncated)"))
        return None
    delta_us, orig, incl = struct.unpack("<QII", rh)
    if incl > layout.file_size - frame_offset - 16:
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


# pcapng block types a resynchronisation may land on
_BLOCK_TYPES = frozenset((0x0A0D0D0A, 1, 2, 3, 4, 5, 6, 9, 10, 0x00000BAD, 0x40000BAD))
MAX_BLOCK = 1 << 26  # bytes: a longer pcapng block length is damage
# A resynchronisation reads a small window first, then doubling ones: its cost follows the
# distance to the next intact record, so many damaged records close together stay linear
_FIRST_RESYNC_WINDOW = 4096
_RESYNC_WINDOW = 1 << 20


def find_next_block(fh: BinaryIO, damaged_at: int, endian: str) -> int | None:
    """Offset of the next pcapng block whose type is known and whose leading and trailing
    lengths agree (pcapng repeats the length at the end of each block so readers can
    resynchronise), or None. Leaves the file position undefined."""
    header = struct.Struct(endian + "II")
    trailer = struct.Struct(endian + "I")
    pos = damaged_at + 4
    window = _FIRST_RESYNC_WINDOW
    while True:
        fh.seek(pos)
        chunk = fh.read(window)
        window = min(2 * window, _RESYNC_WINDOW)
        if len(chunk) < 12:
            return None
        for i in range(0, len(chunk) - 7, 4):
            btype, blen = header.unpack_from(chunk, i)
            if btype not in _BLOCK_TYPES or blen < 12 or blen % 4 or blen > MAX_BLOCK:
                continue
            if i + blen <= len(chunk):
                tail = chunk[i + blen - 4 : i + blen]
            else:
                fh.seek(pos + i + blen - 4)
                tail = fh.read(4)
            if len(tail) == 4 and trailer.unpack(tail)[0] == blen:
                return pos + i
        step = (len(chunk) - 8) & ~3
        if step <= 0:
            return None
        pos += step


def resync_after_damage(
    fh: BinaryIO, offset: int, frame: int, endian: str, what: str, problems: list[ReadProblem], path: str
) -> int | None:
    """After a damaged pcapng block: one warning, and the offset of the next intact block, where
    `fh` is left (None, and reading stops, when none follows)."""
    resume = find_next_block(fh, offset, endian)
    if resume is None:
        problems.append(ReadProblem(path, offset, frame, f"{what}; no intact block follows, stopping"))
        return None
    problems.append(
        ReadProblem(path, offset, frame, f"{what}; skipped {resume - offset} bytes to the next intact block")
    )
    fh.seek(resume)
    return resume


MAX_PCAP_RECORD = 262144 * 4  # bytes: a longer pcap record length is damage (_walk.c agrees)
_DAY = 86400


def _u32_at_every_byte(chunk: bytes, endian: str) -> Any:
    """The uint32 starting at each byte offset of `chunk` (numpy, so a scan costs no Python per byte)."""
    import numpy as np

    a = np.frombuffer(chunk, np.uint8).astype(np.int64)
    if endian == "<":
        return a[:-3] | a[1:-2] << 8 | a[2:-1] << 16 | a[3:] << 24
    return a[:-3] << 24 | a[1:-2] << 16 | a[2:-1] << 8 | a[3:]


def find_next_record(fh: BinaryIO, damaged_at: int, endian: str, divisor: int) -> int | None:
    """Offset of the next plausible pcap record after a damaged one, or None.

    Plausible: captured length within bounds and at most the original length (which is not 0:
    nothing was on the wire), the fraction
    of a second below one second, and the record it leads to is plausible too (within a day
    of it) or the file ends exactly there. Leaves the file position undefined."""
    rec = struct.Struct(endian + "IIII")
    size = fh.seek(0, io.SEEK_END)
    pos = damaged_at + 1
    window = _FIRST_RESYNC_WINDOW
    while pos + 16 <= size:
        fh.seek(pos)
        chunk = fh.read(window + 15)
        window = min(2 * window, _RESYNC_WINDOW)
        if len(chunk) < 16:
            return None
        v = _u32_at_every_byte(chunk, endian)
        m = len(chunk) - 15  # offsets whose whole header is in the chunk
        sec, frac, incl, orig = v[:m], v[4 : m + 4], v[8 : m + 8], v[12 : m + 12]
        plausible = (
            (incl <= MAX_PCAP_RECORD) & (incl <= orig) & (0 < orig) & (orig <= MAX_PCAP_RECORD) & (frac < divisor)
        )
        for i in map(int, plausible.nonzero()[0].tolist()):
            after = pos + i + 16 + int(incl[i])
            if after == size:
                return pos + i
            if after + 16 > size:
                continue
            if after + 16 <= pos + len(chunk):
                following = rec.unpack_from(chunk, after - pos)
            else:
                fh.seek(after)
                following = rec.unpack(fh.read(16))
            sec2, frac2, incl2, orig2 = following
            if (
                0 < orig2
                and incl2 <= orig2 <= MAX_PCAP_RECORD
                and incl2 <= MAX_PCAP_RECORD
                and frac2 < divisor
                and abs(sec2 - int(sec[i])) <= _DAY
            ):
                return pos + i
        pos += m
    return None


def pcap_resync(
    fh: BinaryIO,
    offset: int,
    frame: int,
    endian: str,
    divisor: int,
    what: str,
    problems: list[ReadProblem],
    path: str,
) -> int | None:
    """After a damaged pcap record: one warning, and the offset of the next plausible record, where
    `fh` is left (None, and reading stops, when none follows)."""
    resume = find_next_record(fh, offset, endian, divisor)
    if resume is None:
        problems.append(ReadProblem(path, offset, frame, f"{what}; no plausible record follows, stopping"))
        return None
    problems.append(
        ReadProblem(path, offset, frame, f"{what}; skipped {resume - offset} bytes to the next plausible record")
    )
    fh.seek(resume)
    return resume


def if_tsresol(options: bytes, endian: str) -> int:
    """Timestamp units per second from the if_tsresol option (default microseconds)."""
    pos = 0
    while pos + 4 <= len(options):
        code, length = struct.unpack_from(endian + "HH", options, pos)
        if code == 0:
            break
        if code == 9 and length >= 1 and pos + 4 < len(options):
            value = options[pos + 4]
            if value & 0x80:
                return int(2 ** (value & 0x7F))
            return int(10**value)
        pos += 4 + length + (-length % 4)
    return 1_000_000


def pcapng_packet(
    btype: int,
    content: bytes,
    endian: str,
    interfaces: list[tuple[int, int, int]],
    number: int,
    offset: int,
    problems: list[ReadProblem],
    path: str,
) -> Frame | None:
    """One EPB, SPB or obsolete Packet Block (its content without the 8-byte header and trailer)."""
    try:
        if btype == 6:  # Enhanced Packet Block
            iface, ts_hi, ts_lo, caplen, orig = struct.unpack_from(endian + "IIIII", content)
            data = content[20 : 20 + caplen]
        elif btype == 2:  # Packet Block (obsolete)
            iface, _, ts_hi, ts_lo, caplen, orig = struct.unpack_from(endian + "HHIIII", content)
            data = content[20 : 20 + caplen]
        else:  # Simple Packet Block: interface 0, no timestamp
            (orig,) = struct.unpack_from(endian + "I", content)
            iface, ts_hi, ts_lo = 0, 0, 0
            snaplen = interfaces[0][2] if interfaces else 0
            caplen = min(orig, snaplen) if snaplen else orig
            data = content[4 : 4 + caplen]
        linktype, unit, _ = interfaces[iface]
    except (struct.error, IndexError):
        problems.append(ReadProblem(path, offset, number, "packet block refers to an unknown interface or cut short"))
        return None
    # divide integers: ticks * 1e-6 would round differently from a pcap's sec + usec/1e6
    return Frame(number, ((ts_hi << 32) | ts_lo) / unit, linktype, bytes(data), orig)


def read_frames(path: str | Path, problems: list[ReadProblem] | None = None) -> Iterator[Frame]:
    """Frames of one capture; damage is appended to `problems` when given."""
    reader = CaptureReader(Path(path))
    try:
        yield from reader
    finally:
        if problems is not None:
            problems.extend(reader.problems)
