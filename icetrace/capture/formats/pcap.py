"""pcap (libpcap's classic format): a 24-byte header, then records of a 16-byte header and the frame.

Microsecond or nanosecond timestamps, either byte order, one link type for the file. A record
length no record has (over 1 MB, over the file's snap length, over the frame's original length)
is damage, and so is one that runs past the end of the file when a plausible record follows it:
reading resynchronises on the next plausible record, on every path (C, numpy, plain) and in
`annotate`'s copy alike (`record_damage`, `pcap_records`).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from icetrace.capture import fast_reader, pcapng_blocks
from icetrace.capture.formats.base import FIRST_RESYNC_WINDOW, RESYNC_WINDOW, Copying, Frame, Reading, ReadProblem
from icetrace.capture.linktypes import LINKTYPE_ETHERNET
from icetrace.errors import InputError

MAGIC_MICROS_LE, MAGIC_MICROS_BE = b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4"
MAGIC_NANOS_LE, MAGIC_NANOS_BE = b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"
HEADER = 24
MAX_PCAP_RECORD = 262144 * 4  # bytes: a longer pcap record length is damage (_walk.c agrees)
_DAY = 86400


@dataclass(frozen=True)
class PcapHeader:
    """What the global header says about every record."""

    endian: str  # struct byte order of the record headers: "<" or ">"
    divisor: int  # timestamp fraction units per second
    linktype: int
    snaplen: int = 0

    @classmethod
    def read(cls, fh: BinaryIO, path: object) -> PcapHeader:
        header = fh.read(HEADER)
        if len(header) < HEADER:
            raise InputError(f"{path}: pcap header is cut short ({len(header)} of 24 bytes)")
        magic = header[:4]
        endian = "<" if magic in (MAGIC_MICROS_LE, MAGIC_NANOS_LE) else ">"
        nanos = magic in (MAGIC_NANOS_LE, MAGIC_NANOS_BE)
        snaplen, linktype = struct.unpack(endian + "II", header[16:24])
        return cls(endian, 1_000_000_000 if nanos else 1_000_000, linktype & 0x0FFFFFFF, snaplen)

    @property
    def limit(self) -> int:
        """The longest record length that is not damage: the snap length, when it is one."""
        return min(self.snaplen, MAX_PCAP_RECORD) if self.snaplen else MAX_PCAP_RECORD


def record_damage(incl: int, orig: int, limit: int) -> str:
    """Why a record header is damage, "" when it is plausible."""
    if incl > MAX_PCAP_RECORD:
        return f"record length {incl} is implausible"
    if incl > limit:
        return f"record length {incl} is over the file's snap length {limit}"
    if incl > orig:
        return f"record length {incl} is over the frame's original length {orig}"
    return ""


class Pcap:
    """The pcap format: its plain reader, its C skimmer hook and, for Ethernet without the
    skimmer, the numpy pass."""

    name = "pcap"
    title = "pcap"
    magics: tuple[bytes, ...] = (MAGIC_MICROS_LE, MAGIC_MICROS_BE, MAGIC_NANOS_LE, MAGIC_NANOS_BE)

    def read(self, fh: BinaryIO, reading: Reading) -> Iterator[Frame]:
        header = PcapHeader.read(fh, reading.path)
        fast = fast_reader.skim(reading, fh, PcapHook(header))
        if fast is not None:
            yield from fast
            return
        offset, number = HEADER, 0
        if reading.media_sink is not None and header.linktype == LINKTYPE_ETHERNET:
            resume = yield from _numpy_pass(fh, header, reading)
            if resume is None:
                return
            offset, number = resume
        yield from _records(fh, header, reading, offset, number)

    def copy_as_pcapng(self, fh: BinaryIO, copying: Copying) -> Iterator[bytes]:
        """One section and interface, then each record as an Enhanced Packet Block in the file's
        own time units; damaged records skipped to the next plausible one, as the reader does."""
        header = PcapHeader.read(fh, copying.path)
        yield pcapng_blocks.shb()
        yield pcapng_blocks.idb("<", header.linktype & 0xFFFF, header.snaplen, 9 if header.divisor > 1_000_000 else 6)
        # numbered, timed and skipped as the reader reads them
        for number, _, ticks, orig, data in pcap_records(fh, header, copying.problems, copying.path):
            if copying.blank(number):
                data = b""
            yield pcapng_blocks.epb("<", 0, ticks, data, orig, pcapng_blocks.comment_options(copying.notes(number)))


def _numpy_pass(fh: BinaryIO, header: PcapHeader, reading: Reading) -> Generator[Frame, None, tuple[int, int] | None]:
    """Frames through media_skip's numpy pass; returns where the plain reader resynchronises, if it must."""
    # imported here, not above: numpy costs a tenth of a second of start-up and only this fallback needs it
    from icetrace.capture.media_skip import Truncated, skim_pcap

    assert reading.media_sink is not None
    try:
        yield from skim_pcap(
            fh, header.endian, header.divisor, header.linktype, header.limit, reading.media_sink, reading.progress
        )
        return None
    except Truncated as cut:
        # the plain reader reads from the damaged (or cut) record on, and says what it found there
        fh.seek(cut.offset)
        return cut.offset, cut.frame - 1


def _records(fh: BinaryIO, header: PcapHeader, reading: Reading, offset: int, number: int) -> Iterator[Frame]:
    """The plain reader: one Frame per record from `offset` (`number` frames before it)."""
    divisor, linktype = header.divisor, header.linktype
    for frame, end, ticks, orig, data in pcap_records(fh, header, reading.problems, str(reading.path), offset, number):
        reading.bytes_read = end
        yield Frame(frame, ticks / divisor, linktype, data, orig)


def pcap_records(
    fh: BinaryIO, header: PcapHeader, problems: list[ReadProblem], path: str, offset: int = HEADER, number: int = 0
) -> Iterator[tuple[int, int, int, int, bytes]]:
    """(frame number, offset after it, ticks, original length, data) of each record from `offset`
    (`number` frames before it), damage skipped to the next plausible record with one problem each."""
    endian, divisor, limit = header.endian, header.divisor, header.limit
    rec = struct.Struct(endian + "IIII")
    read = fh.read
    while True:
        rh = read(16)
        if not rh:
            break
        number += 1
        if len(rh) < 16:
            problems.append(ReadProblem(path, offset, number, "record header cut short (file truncated)"))
            break
        sec, frac, incl, orig = rec.unpack(rh)
        what = record_damage(incl, orig, limit)
        data = b"" if what else read(incl)
        if not what and len(data) < incl:
            what = f"record length {incl} runs past the end of the file"
            if find_next_record(fh, offset, endian, divisor, limit) is None:
                what = ""  # nothing plausible follows: the file was cut there
                problems.append(
                    ReadProblem(path, offset, number, f"frame cut short: {len(data)} of {incl} bytes (file truncated)")
                )
                break
        if what:
            resume = pcap_resync(fh, offset, number, endian, divisor, what, problems, path, limit)
            if resume is None:
                break
            offset, number = resume, number - 1  # the damaged header is no frame
            continue
        offset += 16 + incl
        yield number, offset, sec * divisor + frac, orig, data


class PcapHook:
    """pcap through the C skimmer: records in one stream; a damaged length stops the walk here."""

    def __init__(self, header: PcapHeader) -> None:
        self.header = header
        self.start_offset = HEADER

    def skimmer(self, skimmer_type: Any) -> Any:
        header = self.header
        return skimmer_type("pcap", header.endian == ">", header.linktype, header.divisor, max_record=header.limit)

    def walk(self, body: fast_reader.FastBody) -> Iterator[Frame]:
        return fast_reader.stream_windows(body, self)

    def frames(self, window: memoryview, pos: int, raw: bytes) -> Iterator[Frame]:
        fields = fast_reader.kept_fields(raw)
        unit = self.header.divisor
        for i in range(0, len(fields), fast_reader.KEPT_FIELDS):
            number, offset, caplen, orig, ticks, _, linktype = fields[i : i + fast_reader.KEPT_FIELDS]
            start = pos + offset
            yield Frame(number, ticks / unit, linktype, bytes(window[start : start + caplen]), orig)

    def flow_time(self, ticks: int, _interface: int) -> float:
        return ticks / self.header.divisor

    def time_bases(self) -> list[tuple[int, int, int, bool]]:
        return [(0, self.header.divisor, 0, False)]

    def stopped(
        self, body: fast_reader.FastBody, status: int, window: memoryview, pos: int, base: int, source: Any
    ) -> tuple[int, Frame | None] | None:
        """The skimmer met a damaged record length: warn, and raise Resync if a plausible record follows."""
        header = self.header
        incl, orig = struct.unpack_from(header.endian + "II", window, pos + 8)
        what = record_damage(incl, orig, header.limit)
        number = body.skimmer.number + 1
        resume = pcap_resync(
            source, base + pos, number, header.endian, header.divisor, what, body.problems, body.path, header.limit
        )
        if resume is None:
            return None
        raise fast_reader.Resync(resume)

    def cut_short(self, body: fast_reader.FastBody, rest: memoryview, offset: int, source: Any) -> None:
        """The file ends inside this record: damage when a plausible record follows (Resync), else cut."""
        header = self.header
        number = body.skimmer.number + 1
        if len(rest) < 16:
            body.problem(offset, number, "record header cut short (file truncated)")
            return
        incl = struct.unpack_from(header.endian + "I", rest, 8)[0]
        if find_next_record(source, offset, header.endian, header.divisor, header.limit) is None:
            body.problem(offset, number, f"frame cut short: {len(rest) - 16} of {incl} bytes (file truncated)")
            return
        what = f"record length {incl} runs past the end of the file"
        resume = pcap_resync(
            source, offset, number, header.endian, header.divisor, what, body.problems, body.path, header.limit
        )
        if resume is not None:
            raise fast_reader.Resync(resume)


def _u32_at_every_byte(chunk: bytes, endian: str) -> Any:
    """The uint32 starting at each byte offset of `chunk` (numpy, so a scan costs no Python per byte)."""
    import numpy as np  # only damaged files need it; see _numpy_pass

    a = np.frombuffer(chunk, np.uint8).astype(np.int64)
    if endian == "<":
        return a[:-3] | a[1:-2] << 8 | a[2:-1] << 16 | a[3:] << 24
    return a[:-3] << 24 | a[1:-2] << 16 | a[2:-1] << 8 | a[3:]


def _plausible_after(following: tuple[int, ...], sec: int, divisor: int, limit: int) -> bool:
    sec2, frac2, incl2, orig2 = following
    return (
        0 < orig2
        and incl2 <= orig2 <= MAX_PCAP_RECORD
        and incl2 <= limit
        and frac2 < divisor
        and abs(sec2 - sec) <= _DAY
    )


def find_next_record(
    fh: BinaryIO, damaged_at: int, endian: str, divisor: int, limit: int = MAX_PCAP_RECORD
) -> int | None:
    """Offset of the next plausible pcap record after a damaged one, or None.

    Plausible: captured length within bounds and at most the original length (which is not 0:
    nothing was on the wire), the fraction
    of a second below one second, and the record it leads to is plausible too (within a day
    of it) or the file ends exactly there. Leaves the file position undefined."""
    rec = struct.Struct(endian + "IIII")
    size = fh.seek(0, io.SEEK_END)
    pos = damaged_at + 1
    window = FIRST_RESYNC_WINDOW
    while pos + 16 <= size:
        fh.seek(pos)
        chunk = fh.read(window + 15)
        window = min(2 * window, RESYNC_WINDOW)
        if len(chunk) < 16:
            return None
        v = _u32_at_every_byte(chunk, endian)
        m = len(chunk) - 15  # offsets whose whole header is in the chunk
        sec, frac, incl, orig = v[:m], v[4 : m + 4], v[8 : m + 8], v[12 : m + 12]
        plausible = (incl <= limit) & (incl <= orig) & (0 < orig) & (orig <= MAX_PCAP_RECORD) & (frac < divisor)
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
            if _plausible_after(following, int(sec[i]), divisor, limit):
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
    limit: int = MAX_PCAP_RECORD,
) -> int | None:
    """After a damaged pcap record: one warning, and the offset of the next plausible record, where
    `fh` is left (None, and reading stops, when none follows)."""
    resume = find_next_record(fh, offset, endian, divisor, limit)
    if resume is None:
        problems.append(ReadProblem(path, offset, frame, f"{what}; no plausible record follows, stopping"))
        return None
    problems.append(
        ReadProblem(path, offset, frame, f"{what}; skipped {resume - offset} bytes to the next plausible record")
    )
    fh.seek(resume)
    return resume


PCAP = Pcap()
