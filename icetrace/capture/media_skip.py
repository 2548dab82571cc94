"""Vectorised skipping of RTP/RTCP/DTLS in Ethernet pcaps, for when the C skimmer is not built.

On a busy media capture ~97% of frames are media. Deciding per frame in Python is
slow; here the record offsets of a window are collected, the Ethernet/IPv4/UDP
fields and the payload's first byte (RFC 7983) are gathered with numpy, and plain
media frames are only counted per 5-tuple. Everything else (TCP, IPv6, fragments,
VLAN, STUN, SIP...) is handed back as ordinary Frames for the full decoder.
`fast_reader` (C) does the same for every link type and pcapng, several times faster.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import BinaryIO, NamedTuple

import numpy as np
import numpy.typing as npt

from dissectors.demux import COUNTED
from icetrace.capture.formats.base import Frame, MediaSink, Progress

WINDOW = 8 << 20  # bytes of file examined per vectorised pass
KIND_NAMES = ("rtp", "rtcp", "dtls", "zrtp")
# index into KIND_NAMES per first byte (dissectors.demux), -1: not counted here
_KIND_OF_FIRST_BYTE = np.array(
    [KIND_NAMES.index(COUNTED[b]) if b in COUNTED else -1 for b in range(256)], dtype=np.int64
)


def skim_pcap(
    fh: BinaryIO,
    endian: str,
    divisor: int,
    linktype: int,
    max_record: int,
    sink: MediaSink,
    progress: Progress | None = None,
) -> Iterator[Frame]:
    """Frames of an Ethernet pcap body (after the global header), minus counted media frames and
    frames too short to hold IP. Damage (a cut record, or one pcap.record_damage names) ends the
    walk at that record; the caller's plain reader reads on from there and reports it."""
    length_at = struct.Struct(endian + "I").unpack_from
    lengths_at = struct.Struct(endian + "II").unpack_from
    number = 0
    file_offset = 24
    u32 = np.dtype(endian + "u4")
    # One buffer, refilled in place (readinto): the unfinished record of the last window
    # moves to its front, the file's next bytes follow. No per-window copy of the data.
    buffer = bytearray(2 * WINDOW)
    view = memoryview(buffer)
    kept = 0  # bytes of an unfinished record carried over at the front
    while True:
        if kept + WINDOW > len(buffer):
            if kept > 2 * WINDOW:
                raise Truncated(file_offset, number + 1, "record length is implausible", implausible=True)
            buffer = bytearray(kept + WINDOW)
            buffer[:kept] = view[:kept]
            view = memoryview(buffer)
        got = fh.readinto(view[kept : kept + WINDOW])  # type: ignore[attr-defined]
        if not got and not kept:
            return
        filled = kept + (got or 0)
        window = view[:filled]
        walked, damaged = _python_walk(window, lengths_at, max_record)
        offsets = np.asarray(walked, dtype=np.int64)
        pos = int(offsets[-1]) + 16 + length_at(window, int(offsets[-1]) + 8)[0] if len(offsets) else 0
        if damaged:
            if len(offsets):
                yield from _window(window, offsets, number, endian, u32, divisor, linktype, sink)
            raise Truncated(file_offset + pos, number + len(offsets) + 1, implausible=True)
        if not len(offsets):
            if not got:
                # a cut record at the end of the file: let the caller's reader report it
                raise _cut(window, length_at, max_record, file_offset, number + 1)
            kept = filled
            continue
        yield from _window(window, offsets, number, endian, u32, divisor, linktype, sink)
        number += len(offsets)
        file_offset += pos
        if progress is not None:
            progress(file_offset, number)
        rest = filled - pos
        view[:rest] = view[pos:filled]
        kept = rest
        if not got:
            if kept:
                raise _cut(view[:kept], length_at, max_record, file_offset, number + 1)
            return


def _cut(
    rest: memoryview,
    length_at: Callable[[memoryview, int], tuple[int, ...]],
    max_record: int,
    offset: int,
    frame: int,
) -> Truncated:
    """The file ends inside this record: cut short, or (a length no record has) damaged."""
    if len(rest) >= 16 and length_at(rest, 8)[0] > max_record:
        return Truncated(offset, frame, "record length is implausible", implausible=True)
    return Truncated(offset, frame)


def _python_walk(
    buf: memoryview, lengths_at: Callable[[memoryview, int], tuple[int, ...]], max_record: int
) -> tuple[list[int], bool]:
    """The offsets of the whole records at the front of `buf`, and whether the walk stopped at a
    damaged record header (pcap.record_damage's rule: over `max_record`, or over its original length)."""
    offsets: list[int] = []
    append = offsets.append
    pos = 0
    n = len(buf)
    while pos + 16 <= n:
        incl, orig = lengths_at(buf, pos + 8)
        if incl > max_record or incl > orig:
            return offsets, True
        end = pos + 16 + incl
        if end > n:
            break
        append(pos)
        pos = end
    return offsets, False


class Truncated(Exception):
    def __init__(
        self, offset: int, frame: int, message: str = "record cut short (file truncated)", implausible: bool = False
    ) -> None:
        super().__init__(offset, frame, message)
        self.offset = offset
        self.frame = frame
        self.message = message
        self.implausible = implausible  # a damaged length, not the end of the file: the caller resynchronises


class _Records(NamedTuple):
    """The record headers of one window, a column each (int64), and each record's data offset."""

    sec: npt.NDArray[np.int64]
    frac: npt.NDArray[np.int64]
    incl: npt.NDArray[np.int64]
    orig: npt.NDArray[np.int64]
    data: npt.NDArray[np.int64]

    def time(self, i: int, divisor: int) -> float:
        return (int(self.sec[i]) * divisor + int(self.frac[i])) / divisor


class _Media(NamedTuple):
    """Which records are plain media over Ethernet/IPv4/UDP, and where their headers are."""

    mask: npt.NDArray[np.bool_]
    ip: npt.NDArray[np.int64]
    udp: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int64]
    udp_len: npt.NDArray[np.int64]


def _window(
    buf: memoryview,
    offsets: npt.NDArray[np.int64],
    first_number: int,
    endian: str,
    u32: np.dtype[np.uint32],
    divisor: int,
    linktype: int,
    sink: MediaSink,
) -> Iterator[Frame]:
    arr = np.frombuffer(buf, dtype=np.uint8)
    hdr_idx = offsets[:, None] + np.arange(16, dtype=np.int64)[None, :]
    raw_headers = arr[hdr_idx].copy().view(u32).reshape(-1, 4)
    sec, frac, incl, orig = (raw_headers[:, column].astype(np.int64) for column in range(4))
    records = _Records(sec, frac, incl, orig, offsets + 16)

    def at(index: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return arr[np.minimum(index, len(buf) - 1)].astype(np.int64)

    media = _media(records, linktype, at)
    # a frame shorter than Ethernet and an IPv4 header carries no IP: IpDecoder.decode gives None;
    # the window's last record is handed on all the same, so the capture ends at its last frame
    handed = ~media.mask & (records.incl >= 34)
    handed[-1:] |= ~media.mask[-1:]
    for i in np.flatnonzero(handed).tolist():
        start = int(offsets[i]) + 16
        data = bytes(buf[start : start + int(records.incl[i])])
        yield Frame(first_number + i + 1, records.time(i, divisor), linktype, data, int(records.orig[i]))
    _count(records, media, at, first_number, divisor, sink)


def _media(records: _Records, linktype: int, at: Callable[[npt.NDArray[np.int64]], npt.NDArray[np.int64]]) -> _Media:
    data, incl = records.data, records.incl
    media = incl >= 14 + 20 + 8 + 2
    if linktype == 1:
        media &= (at(data + 12) == 0x08) & (at(data + 13) == 0x00)
        ip = data + 14
    else:
        media &= np.zeros(len(data), dtype=bool)
        ip = data
    media &= at(ip) == 0x45  # IPv4 without options; anything else takes the slow path
    media &= at(ip + 9) == 17
    media &= ((at(ip + 6) & 0x3F) == 0) & (at(ip + 7) == 0)  # not a fragment
    udp = ip + 20
    b0 = at(udp + 8)
    b1 = at(udp + 9)
    kind = _KIND_OF_FIRST_BYTE[b0]
    kind[(kind == 0) & (b1 >= 192) & (b1 <= 223)] = 1  # RTCP (RFC 5761)
    media &= kind >= 0
    udp_len = (at(udp + 4) << 8) | at(udp + 5)
    media &= udp_len >= 10
    media &= (udp + udp_len) <= (data + incl)
    return _Media(media, ip, udp, kind, udp_len)


def _count(
    records: _Records,
    media: _Media,
    at: Callable[[npt.NDArray[np.int64]], npt.NDArray[np.int64]],
    first_number: int,
    divisor: int,
    sink: MediaSink,
) -> None:
    """Media records counted per 5-tuple and kind, one call of `sink` per group."""
    idx = np.flatnonzero(media.mask)
    if not len(idx):
        return
    ip, udp = media.ip[idx], media.udp[idx]
    src = (at(ip + 12) << 24) | (at(ip + 13) << 16) | (at(ip + 14) << 8) | at(ip + 15)
    dst = (at(ip + 16) << 24) | (at(ip + 17) << 16) | (at(ip + 18) << 8) | at(ip + 19)
    sport = (at(udp) << 8) | at(udp + 1)
    dport = (at(udp + 2) << 8) | at(udp + 3)
    # group by 5-tuple and kind with one stable sort on two 64-bit keys
    hi = (src.astype(np.uint64) << np.uint64(32)) | dst.astype(np.uint64)
    lo = (sport << 18) | (dport << 2) | media.kind[idx]
    order = np.lexsort((lo, hi))
    hi_s, lo_s = hi[order], lo[order]
    starts = np.flatnonzero(np.r_[True, (hi_s[1:] != hi_s[:-1]) | (lo_s[1:] != lo_s[:-1])])
    ends = np.r_[starts[1:], len(order)]
    counts = ends - starts
    first = np.minimum.reduceat(order, starts)
    last = np.maximum.reduceat(order, starts)
    payload_bytes = np.add.reduceat((media.udp_len[idx] - 8)[order], starts)
    group_hi = hi_s[starts].tolist()
    group_lo = lo_s[starts].tolist()
    for g in range(len(starts)):
        fi = int(idx[first[g]])
        li = int(idx[last[g]])
        s, d = group_hi[g] >> 32, group_hi[g] & 0xFFFFFFFF
        sp, dp, k = group_lo[g] >> 18, (group_lo[g] >> 2) & 0xFFFF, group_lo[g] & 3
        sink(
            struct.pack("!I", s),
            sp,
            struct.pack("!I", d),
            dp,
            KIND_NAMES[k],
            first_number + fi + 1,
            records.time(fi, divisor),
            first_number + li + 1,
            records.time(li, divisor),
            int(counts[g]),
            int(payload_bytes[g]),
        )
