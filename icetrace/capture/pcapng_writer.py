"""Copy a capture as pcapng with packet comments (opt_comment) on chosen frames.

The frames keep their numbers, bytes and timestamps, so Wireshark shows the copy exactly as
it shows the original plus the comments. pcapng input is copied block by block (sections,
interfaces, statistics, name resolution and each packet's own options stay as they were);
pcap and Network Monitor input get one section written for them. Frame numbers are
counted as the reader counts them, damaged pcapng blocks skipped as the reader skips them.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Container, Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, cast

from icetrace.capture.formats.base import ReadProblem
from icetrace.capture.formats.netmon import FILETIME_UNIX_EPOCH, NetmonRecord, netmon_linktype, read_layout
from icetrace.capture.formats.pcap import MAX_PCAP_RECORD, pcap_resync
from icetrace.capture.formats.pcapng import MAX_BLOCK, resync_after_damage
from icetrace.capture.input_file import open_capture
from icetrace.capture.linktypes import LINKTYPE_IEEE802_11, LINKTYPE_NETMON_802_11, LINKTYPE_NETMON_UNSUPPORTED
from icetrace.errors import InputError
from icetrace.version import __version__

OPT_ENDOFOPT = 0
OPT_COMMENT = 1
SHB_USERAPPL = 4
IF_NAME = 2
IF_TSRESOL = 9
LINKTYPE_USER0 = 147  # Network Monitor frames of a media type no pcap link type stands for
# Network Monitor records that are not packets (events, network information, DNS cache, the
# capture filter): Wireshark skips them without giving them a frame number, and so does the copy
NETMON_NOT_PACKETS = frozenset(NetmonRecord)

Comments = Mapping[int, Sequence[str]]


def _option(endian: str, code: int, value: bytes) -> bytes:
    return struct.pack(endian + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _options(endian: str, options: Sequence[tuple[int, bytes]]) -> bytes:
    if not options:
        return b""
    return b"".join(_option(endian, c, v) for c, v in options) + struct.pack(endian + "HH", OPT_ENDOFOPT, 0)


def _block(endian: str, btype: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack(endian + "II", btype, length) + body + struct.pack(endian + "I", length)


def _comment_options(endian: str, notes: Sequence[str]) -> list[tuple[int, bytes]]:
    return [(OPT_COMMENT, note.encode("utf-8")) for note in notes]


def _padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _epb(endian: str, iface: int, ticks: int, data: bytes, orig: int, options: Sequence[tuple[int, bytes]]) -> bytes:
    head = struct.pack(endian + "IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF, len(data), orig)
    return _block(endian, 6, head + _padded(data) + _options(endian, options))


def _shb(endian: str = "<") -> bytes:
    body = struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1)
    return _block(endian, 0x0A0D0D0A, body + _options(endian, [(SHB_USERAPPL, f"icetrace {__version__}".encode())]))


def _idb(endian: str, linktype: int, snaplen: int, tsresol: int, name: str | None = None) -> bytes:
    options = [(IF_TSRESOL, bytes([tsresol]))]
    if name:
        options.insert(0, (IF_NAME, name.encode()))
    return _block(endian, 1, struct.pack(endian + "HHI", linktype, 0, snaplen) + _options(endian, options))


def write_annotated(
    source: str | Path, out: str | Path, comments: Comments, keep: Container[int] | None = None
) -> list[ReadProblem]:
    """Write `source` to `out` as pcapng, with `comments[frame]` added to each frame; returns
    the damage skipped while copying. Frames not in `keep` (when given) stay, numbered and
    timed, with no bytes captured: a display-filtered copy whose frame numbers are the original's."""
    problems: list[ReadProblem] = []
    fh, _gz = open_capture(Path(source))
    with fh:
        magic = cast(io.BufferedReader, fh).peek(4)[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
            blocks = _from_pcap(fh, comments, problems, str(source), keep)
        elif magic == b"\x0a\x0d\x0d\x0a":
            blocks = _from_pcapng(fh, comments, problems, str(source), keep)
        elif magic == b"GMBU":
            blocks = _from_netmon(fh, comments, problems, str(source), keep)
        else:
            raise InputError(f"{source}: not a capture file icetrace can copy (pcap, pcapng or Network Monitor 2.x)")
        try:
            with open(out, "wb") as sink:
                for block in blocks:
                    sink.write(block)
        except OSError as exc:
            raise InputError(f"{out}: cannot write: {exc.strerror or exc}") from None
    return problems


def _blank(keep: Container[int] | None, number: int) -> bool:
    return keep is not None and number not in keep


# -- pcap -----------------------------------------------------------------------


def _from_pcap(
    fh: BinaryIO, comments: Comments, problems: list[ReadProblem], path: str, keep: Container[int] | None
) -> Iterator[bytes]:
    header = fh.read(24)
    if len(header) < 24:
        raise InputError(f"{path}: pcap header is cut short ({len(header)} of 24 bytes)")
    magic = header[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nanos = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    snaplen, linktype = struct.unpack(endian + "II", header[16:24])
    divisor = 1_000_000_000 if nanos else 1_000_000
    yield _shb()
    yield _idb("<", linktype & 0xFFFF, snaplen, 9 if nanos else 6)
    number, offset = 0, 24
    rec = struct.Struct(endian + "IIII")
    while True:
        rh = fh.read(16)
        if not rh:
            return
        number += 1
        if len(rh) < 16:
            problems.append(ReadProblem(path, offset, number, "record header cut short (file truncated)"))
            return
        sec, frac, incl, orig = rec.unpack(rh)
        if incl > MAX_PCAP_RECORD:  # skipped to the next plausible record, as the reader does
            resume = pcap_resync(
                fh, offset, number, endian, divisor, f"record length {incl} is implausible", problems, path
            )
            if resume is None:
                return
            offset, number = resume, number - 1
            continue
        data = fh.read(incl)
        if len(data) < incl:
            problems.append(ReadProblem(path, offset, number, "frame cut short (file truncated)"))
            return
        offset += 16 + incl
        if _blank(keep, number):
            data = b""
        yield _epb("<", 0, sec * divisor + frac, data, orig, _comment_options("<", comments.get(number, ())))


# -- pcapng ---------------------------------------------------------------------


def _with_comments(endian: str, btype: int, content: bytes, notes: Sequence[str], snaplen: int) -> bytes:
    """A packet block (content without header and trailer) with comment options added."""
    if btype == 3:  # Simple Packet Block: no options allowed, so it becomes an EPB on interface 0
        (orig,) = struct.unpack_from(endian + "I", content)
        caplen = min(orig, snaplen) if snaplen else orig
        # an SPB has no timestamp; the EPB says 0, as Wireshark does when it saves one with a comment
        return _epb(endian, 0, 0, content[4 : 4 + caplen], orig, _comment_options(endian, notes))
    caplen = struct.unpack_from(endian + "I", content, 12)[0]
    fixed = 20 + caplen + (-caplen % 4)
    existing = content[fixed:]
    kept = []
    pos = 0
    while pos + 4 <= len(existing):
        code, length = struct.unpack_from(endian + "HH", existing, pos)
        if code == OPT_ENDOFOPT:
            break
        kept.append(existing[pos : pos + 4 + length + (-length % 4)])
        pos += 4 + length + (-length % 4)
    options = b"".join(kept) + b"".join(_option(endian, c, v) for c, v in _comment_options(endian, notes))
    body = content[:fixed] + (options + struct.pack(endian + "HH", OPT_ENDOFOPT, 0) if options else b"")
    return _block(endian, btype, body)


def _blanked(endian: str, btype: int, content: bytes) -> bytes:
    """A packet block's content with its captured bytes dropped (lengths and options kept)."""
    if btype == 3:
        return content[:4]
    caplen = struct.unpack_from(endian + "I", content, 12)[0]
    head = bytearray(content[:20])
    struct.pack_into(endian + "I", head, 12, 0)
    return bytes(head) + content[20 + caplen + (-caplen % 4) :]


def _from_pcapng(
    fh: BinaryIO, comments: Comments, problems: list[ReadProblem], path: str, keep: Container[int] | None
) -> Iterator[bytes]:
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
            if len(body) < blen - 8:
                problems.append(ReadProblem(path, offset, number + 1, "block cut short (file truncated)"))
                return
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
            notes = comments.get(number, ())
            if (notes or _blank(keep, number)) and len(body) >= 24 - 4 * (btype == 3):
                snaplen = snaplens[0] if snaplens else 0
                content = _blanked(endian, btype, body[:-4]) if _blank(keep, number) else body[:-4]
                block = _with_comments(endian, btype, content, notes, snaplen)
        offset += blen
        yield block


# -- Network Monitor 2.x --------------------------------------------------------


def _from_netmon(
    fh: BinaryIO, comments: Comments, problems: list[ReadProblem], path: str, keep: Container[int] | None
) -> Iterator[bytes]:
    """One pcapng interface per link type the frames use, times in 100 ns units (2.3 files stamp
    each frame with a FILETIME, older ones with microseconds since the capture start)."""
    layout = read_layout(fh, path, [])
    yield _shb()
    interfaces: dict[int, int] = {}
    for index in range(layout.frames):
        frame_offset = layout.offset(index)
        rh = b""
        if frame_offset + 16 <= layout.file_size:
            fh.seek(frame_offset)
            rh = fh.read(16)
        delta_us, orig, incl = struct.unpack("<QII", rh) if len(rh) == 16 else (0, 0, -1)
        data = fh.read(incl) if 0 <= incl <= layout.file_size - frame_offset - 16 else b""
        notes = list(comments.get(index + 1, ()))
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
        if media in NETMON_NOT_PACKETS:
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
            yield _idb("<", linktype, 0, 7, name)
        if _blank(keep, index + 1):
            data = b""
        yield _epb("<", interfaces[key], max(0, ticks), data, orig, _comment_options("<", notes))
