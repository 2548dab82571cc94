"""pcapng: sections of blocks, each with its byte order and its interfaces (link type, time resolution).

Every block repeats its length at its end; a block whose lengths are damaged or disagree, or
whose length runs past the end of the file while an intact block follows, is skipped to the next
block whose type is known and whose lengths agree.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from enum import IntEnum
from typing import Any, BinaryIO

from icetrace.capture import fast_reader, pcapng_blocks
from icetrace.capture.formats.base import FIRST_RESYNC_WINDOW, RESYNC_WINDOW, Copying, Frame, Reading, ReadProblem


class BlockType(IntEnum):
    """pcapng block types (draft-ietf-opsawg-pcapng)."""

    SECTION_HEADER = 0x0A0D0D0A
    INTERFACE_DESCRIPTION = 1
    PACKET = 2  # obsolete
    SIMPLE_PACKET = 3
    NAME_RESOLUTION = 4
    INTERFACE_STATISTICS = 5
    ENHANCED_PACKET = 6
    SYSTEMD_JOURNAL_EXPORT = 9
    DECRYPTION_SECRETS = 10
    CUSTOM = 0x00000BAD
    CUSTOM_DO_NOT_COPY = 0x40000BAD


SHB_MAGIC = b"\x0a\x0d\x0d\x0a"  # the section header's type, the same in both byte orders
LITTLE_ENDIAN_BOM = b"\x4d\x3c\x2b\x1a"
PACKET_BLOCKS = frozenset((BlockType.ENHANCED_PACKET, BlockType.PACKET, BlockType.SIMPLE_PACKET))
MAX_BLOCK = 1 << 26  # bytes: a longer pcapng block length is damage
IF_TSRESOL = 9
Interface = tuple[int, int, int]  # (linktype, units per second, snaplen)


class Pcapng:
    """The pcapng format: its plain reader and its C skimmer hook."""

    name = "pcapng"
    title = "pcapng"
    magics: tuple[bytes, ...] = (SHB_MAGIC,)

    def read(self, fh: BinaryIO, reading: Reading) -> Iterator[Frame]:
        fast = fast_reader.skim(reading, fh, PcapngHook())
        if fast is not None:
            yield from fast
            return
        yield from _blocks(fh, reading)

    def copy_as_pcapng(self, fh: BinaryIO, copying: Copying) -> Iterator[bytes]:
        return _copy(fh, copying)


def _blocks(fh: BinaryIO, reading: Reading) -> Iterator[Frame]:
    """The plain reader: every block in turn, a Frame per packet block."""
    path = str(reading.path)
    endian = "<"
    interfaces: list[Interface] = []
    offset = 0
    number = 0
    read = fh.read
    while True:
        bh = read(8)
        if not bh:
            break
        if len(bh) < 8:
            reading.problem(offset, number + 1, "block header cut short (file truncated)")
            break
        bom = b""
        if bh[:4] == SHB_MAGIC:
            bom = read(4)
            if len(bom) < 4:
                reading.problem(offset, number + 1, "section header cut short")
                break
            endian = "<" if bom == LITTLE_ENDIAN_BOM else ">"
        blen = struct.unpack(endian + "I", bh[4:8])[0]
        body = b""
        what = _damaged_length(blen)
        if not what:
            body = bom + read(blen - 8 - len(bom))
            if len(body) < blen - 8:
                resume = past_the_end(fh, offset, number + 1, endian, blen, reading.problems, path)
                if resume is None:
                    break
                offset = resume
                continue
            if struct.unpack(endian + "I", body[-4:])[0] != blen:
                what = f"block length {blen} disagrees with its trailer"
        if what:
            resume = resync_after_damage(fh, offset, number + 1, endian, what, reading.problems, path)
            if resume is None:
                break
            offset = resume
            continue
        btype = struct.unpack(endian + "I", bh[:4])[0]
        content = body[:-4]
        if bom:
            interfaces = []
        elif btype == BlockType.INTERFACE_DESCRIPTION:
            if len(content) < 8:
                reading.problem(offset, number + 1, "interface block cut short")
            else:
                interfaces.append(interface(content, endian))
        elif btype in PACKET_BLOCKS:
            number += 1
            frame = pcapng_packet(btype, content, endian, interfaces, number, offset, reading.problems, path)
            if frame is not None:
                yield frame
        offset += blen
        reading.bytes_read = offset


def _damaged_length(blen: int) -> str:
    """Why a block's length is damage ("" if it is not)."""
    if blen < 12 or blen % 4 or blen > MAX_BLOCK:
        return f"corrupt block length {blen}"
    return ""


def interface(content: bytes, endian: str) -> Interface:
    """An Interface Description Block's content (at least 8 bytes)."""
    linktype, _, snaplen = struct.unpack_from(endian + "HHI", content)
    return linktype, if_tsresol(content[8:], endian), snaplen


class PcapngHook:
    """pcapng through the C skimmer: plain Enhanced Packet Blocks are walked in C; every other
    block (section and interface headers, statistics, damage) is read here."""

    start_offset = 0

    def __init__(self) -> None:
        # byte order and interfaces of the current section
        self.endian = "<"
        self.interfaces: list[Interface] = []
        # every interface of the file, in order: the skimmer numbers them file-wide
        self.file_interfaces: list[Interface] = []

    def skimmer(self, skimmer_type: Any) -> Any:
        return skimmer_type("pcapng", False, -1, 1_000_000)

    def walk(self, body: fast_reader.FastBody) -> Iterator[Frame]:
        return fast_reader.stream_windows(body, self)

    def frames(self, window: memoryview, pos: int, raw: bytes) -> Iterator[Frame]:
        fields = fast_reader.kept_fields(raw)
        interfaces = self.file_interfaces
        for i in range(0, len(fields), fast_reader.KEPT_FIELDS):
            number, offset, caplen, orig, ticks, iface, linktype = fields[i : i + fast_reader.KEPT_FIELDS]
            start = pos + offset
            data = bytes(window[start : start + caplen])
            yield Frame(number, ticks / interfaces[iface][1], linktype, data, orig)

    def flow_time(self, ticks: int, interface: int) -> float:
        return ticks / self.file_interfaces[interface][1]

    def time_bases(self) -> list[tuple[int, int, int, bool]]:
        return []  # each interface's, as its description block is read

    def stopped(
        self, body: fast_reader.FastBody, status: int, window: memoryview, pos: int, base: int, source: Any
    ) -> tuple[int, Frame | None] | None:
        """Read the block at `pos` as the plain reader does. Raises Resync after a damaged block
        when an intact one follows."""
        if pos + 12 > len(window):
            return 0, None
        offset = base + pos
        head = bytes(window[pos : pos + 12])
        if head[:4] == SHB_MAGIC:
            self.endian = "<" if head[8:12] == LITTLE_ENDIAN_BOM else ">"
        endian = self.endian
        blen = struct.unpack_from(endian + "I", head, 4)[0]
        what = _damaged_length(blen)
        if not what and pos + blen > len(window):
            return 0, None  # at the end of the file, cut_short reports it
        if not what and struct.unpack_from(endian + "I", window, pos + blen - 4)[0] != blen:
            what = f"block length {blen} disagrees with its trailer"
        if what:
            number = body.skimmer.number + 1
            resume = resync_after_damage(source, offset, number, endian, what, body.problems, body.path)
            if resume is not None:
                raise fast_reader.Resync(resume)
            return None
        btype = struct.unpack_from(endian + "I", head)[0]
        content = bytes(window[pos + 8 : pos + blen - 4])
        return blen, self._block(body, head[:4] == SHB_MAGIC, btype, content, offset)

    def _block(
        self, body: fast_reader.FastBody, section: bool, btype: int, content: bytes, offset: int
    ) -> Frame | None:
        skimmer = body.skimmer
        if section:
            skimmer.new_section(self.endian == ">")
            self.interfaces = []
        elif btype == BlockType.INTERFACE_DESCRIPTION:
            if len(content) < 8:
                body.problem(offset, skimmer.number + 1, "interface block cut short")
            else:
                self.interfaces.append(interface(content, self.endian))
                self.file_interfaces.append(self.interfaces[-1])
                skimmer.add_interface(self.interfaces[-1][0])
                body.time_base(len(self.file_interfaces) - 1, self.interfaces[-1][1])
        elif btype in PACKET_BLOCKS:
            number = skimmer.number + 1
            skimmer.number = number
            return pcapng_packet(btype, content, self.endian, self.interfaces, number, offset, body.problems, body.path)
        return None

    def cut_short(self, body: fast_reader.FastBody, rest: memoryview, offset: int, source: Any) -> None:
        """The file ends inside this block: damage when an intact block follows (Resync), else cut."""
        number = body.skimmer.number + 1
        if len(rest) < 8:
            body.problem(offset, number, "block header cut short (file truncated)")
        elif rest[:4] == SHB_MAGIC and len(rest) < 12:
            body.problem(offset, number, "section header cut short")
        else:
            blen = struct.unpack_from(self.endian + "I", rest, 4)[0]
            resume = past_the_end(source, offset, number, self.endian, blen, body.problems, body.path)
            if resume is not None:
                raise fast_reader.Resync(resume)


def if_tsresol(options: bytes, endian: str) -> int:
    """Timestamp units per second from the if_tsresol option (default microseconds)."""
    pos = 0
    while pos + 4 <= len(options):
        code, length = struct.unpack_from(endian + "HH", options, pos)
        if code == 0:
            break
        if code == IF_TSRESOL and length >= 1 and pos + 4 < len(options):
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
    interfaces: list[Interface],
    number: int,
    offset: int,
    problems: list[ReadProblem],
    path: str,
) -> Frame | None:
    """One EPB, SPB or obsolete Packet Block (its content without the 8-byte header and trailer)."""
    try:
        if btype == BlockType.ENHANCED_PACKET:
            iface, ts_hi, ts_lo, caplen, orig = struct.unpack_from(endian + "IIIII", content)
            data = content[20 : 20 + caplen]
        elif btype == BlockType.PACKET:
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


# block types a resynchronisation may land on
_KNOWN_BLOCK_TYPES = frozenset(BlockType)


def find_next_block(fh: BinaryIO, damaged_at: int, endian: str) -> int | None:
    """Offset of the next pcapng block whose type is known and whose leading and trailing
    lengths agree (pcapng repeats the length at the end of each block so readers can
    resynchronise), or None. Leaves the file position undefined."""
    header = struct.Struct(endian + "II")
    trailer = struct.Struct(endian + "I")
    pos = damaged_at + 4
    window = FIRST_RESYNC_WINDOW
    while True:
        fh.seek(pos)
        chunk = fh.read(window)
        window = min(2 * window, RESYNC_WINDOW)
        if len(chunk) < 12:
            return None
        for i in range(0, len(chunk) - 7, 4):
            btype, blen = header.unpack_from(chunk, i)
            if btype not in _KNOWN_BLOCK_TYPES or blen < 12 or blen % 4 or blen > MAX_BLOCK:
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


def past_the_end(
    fh: BinaryIO, offset: int, frame: int, endian: str, blen: int, problems: list[ReadProblem], path: str
) -> int | None:
    """A block whose length runs past the end of the file: the offset of the intact block after it,
    where `fh` is left, with one warning; None (the file was cut there, and that is the warning)."""
    if find_next_block(fh, offset, endian) is None:
        problems.append(ReadProblem(path, offset, frame, "block cut short (file truncated)"))
        return None
    what = f"block length {blen} runs past the end of the file"
    return resync_after_damage(fh, offset, frame, endian, what, problems, path)


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


# -- an annotated copy ----------------------------------------------------------


def _copy(fh: BinaryIO, copying: Copying) -> Iterator[bytes]:
    """Block by block: sections, interfaces, statistics and each packet's own options stay as they
    were; a packet block with notes (or left without its bytes) is rewritten with comment options."""
    problems, path = copying.problems, copying.path
    endian = "<"
    snaplens: list[int] = []
    offset = 0
    number = 0
    while True:
        bh = fh.read(8)
        if not bh:
            return
        if len(bh) < 8:
            problems.append(ReadProblem(path, offset, number + 1, "block header cut short (file truncated)"))
            return
        bom = b""
        if bh[:4] == b"\x0a\x0d\x0d\x0a":
            bom = fh.read(4)
            if len(bom) < 4:
                problems.append(ReadProblem(path, offset, number + 1, "section header cut short"))
                return
            endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
        blen = struct.unpack(endian + "I", bh[4:8])[0]
        body = b""
        if 12 <= blen <= MAX_BLOCK and not blen % 4:
            body = bom + fh.read(blen - 8 - len(bom))
            if len(body) < blen - 8:  # skipped as the reader skips it
                resume = past_the_end(fh, offset, number + 1, endian, blen, problems, path)
                if resume is None:
                    return
                offset = resume
                continue
        if not body or struct.unpack(endian + "I", body[-4:])[0] != blen:
            what = f"corrupt block length {blen}" if not body else f"block length {blen} disagrees with its trailer"
            resume = resync_after_damage(fh, offset, number + 1, endian, what, problems, path)
            if resume is None:
                return
            offset = resume
            continue
        btype = struct.unpack(endian + "I", bh[:4])[0]
        block = bh + body
        if bom:
            snaplens = []
        elif btype == 1 and len(body) >= 12:
            snaplens.append(struct.unpack_from(endian + "I", body, 4)[0])
        elif btype in (6, 2, 3):
            number += 1
            notes = copying.notes(number)
            if (notes or copying.blank(number)) and len(body) >= 24 - 4 * (btype == 3):
                snaplen = snaplens[0] if snaplens else 0
                content = _blanked(endian, btype, body[:-4]) if copying.blank(number) else body[:-4]
                block = _with_comments(endian, btype, content, notes, snaplen)
        offset += blen
        yield block


def _with_comments(endian: str, btype: int, content: bytes, notes: Sequence[str], snaplen: int) -> bytes:
    """A packet block (content without header and trailer) with comment options added."""
    if btype == 3:  # Simple Packet Block: no options allowed, so it becomes an EPB on interface 0
        (orig,) = struct.unpack_from(endian + "I", content)
        caplen = min(orig, snaplen) if snaplen else orig
        # an SPB has no timestamp; the EPB says 0, as Wireshark does when it saves one with a comment
        return pcapng_blocks.epb(endian, 0, 0, content[4 : 4 + caplen], orig, pcapng_blocks.comment_options(notes))
    caplen = struct.unpack_from(endian + "I", content, 12)[0]
    fixed = 20 + caplen + (-caplen % 4)
    existing = content[fixed:]
    kept = []
    pos = 0
    while pos + 4 <= len(existing):
        code, length = struct.unpack_from(endian + "HH", existing, pos)
        if code == pcapng_blocks.OPT_ENDOFOPT:
            break
        kept.append(existing[pos : pos + 4 + length + (-length % 4)])
        pos += 4 + length + (-length % 4)
    options = b"".join(kept) + b"".join(
        pcapng_blocks.option(endian, c, v) for c, v in pcapng_blocks.comment_options(notes)
    )
    body = content[:fixed] + (options + struct.pack(endian + "HH", pcapng_blocks.OPT_ENDOFOPT, 0) if options else b"")
    return pcapng_blocks.block(endian, btype, body)


def _blanked(endian: str, btype: int, content: bytes) -> bytes:
    """A packet block's content with its captured bytes dropped (lengths and options kept)."""
    if btype == 3:
        return content[:4]
    caplen = struct.unpack_from(endian + "I", content, 12)[0]
    head = bytearray(content[:20])
    struct.pack_into(endian + "I", head, 12, 0)
    return bytes(head) + content[20 + caplen + (-caplen % 4) :]


PCAPNG = Pcapng()
