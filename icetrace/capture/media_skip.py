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
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from dissectors.demux import COUNTED
from icetrace.capture.reader import MAX_PCAP_RECORD as MAX_RECORD
from icetrace.capture.reader import Frame

WINDOW = 8 << 20  # bytes of file examined per vectorised pass
KIND_NAMES = ("rtp", "rtcp", "dtls", "zrtp")
# index into KIND_NAMES per first byte (dissectors.demux), -1: not counted here
_KIND_OF_FIRST_BYTE = np.array(
    [KIND_NAMES.index(COUNTED[b]) if b in COUNTED else -1 for b in range(256)], dtype=np.int64
)

# (src packed, sport, dst packed, dport, kind, first frame, first time, last frame, last time, packets, bytes)
MediaSink = Callable[[bytes, int, bytes, int, str, int, float, int, float, int, int], None]


def skim_pcap(
    fh: BinaryIO,
    endian: str,
    divisor: int,
    linktype: int,
    sink: MediaSink,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Frame]:
    """Frames of an Ethernet pcap body (after the global header), minus counted media frames.

    Damage (a cut record) ends the walk; the caller's slow reader reports it.
    """
    length_at = struct.Struct(endian + "I").unpack_from
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
        offsets = np.asarray(_python_walk(window, length_at), dtype=np.int64)
        pos = int(offsets[-1]) + 16 + length_at(window, int(offsets[-1]) + 8)[0] if len(offsets) else 0
        if not len(offsets):
            if not got:
                # a cut record at the end of the file: let the caller's reader report it
                raise _cut(window, length_at, file_offset, number + 1)
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
                raise _cut(view[:kept], length_at, file_offset, number + 1)
            return


def _cut(
    rest: memoryview, length_at: Callable[[memoryview, int], tuple[int, ...]], offset: int, frame: int
) -> Truncated:
    """The file ends inside this record: cut short, or (a length no record has) damaged."""
    if len(rest) >= 16 and length_at(rest, 8)[0] > MAX_RECORD:
        return Truncated(offset, frame, "record length is implausible", implausible=True)
    return Truncated(offset, frame)


def _python_walk(buf: memoryview, length_at: Callable[[memoryview, int], tuple[int, ...]]) -> list[int]:
    offsets: list[int] = []
    append = offsets.append
    pos = 0
    n = len(buf)
    while pos + 16 <= n:
        end = pos + 16 + length_at(buf, pos + 8)[0]
        if end > n:
            break
        append(pos)
        pos = end
    return offsets


class Truncated(Exception):
    def __init__(
        self, offset: int, frame: int, message: str = "record cut short (file truncated)", implausible: bool = False
    ) -> None:
        super().__init__(offset, frame, message)
        self.offset = offset
        self.frame = frame
        self.message = message
        self.implausible = implausible  # a damaged length, not the end of the file: the caller resynchronises


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
    off = offsets
    hdr_idx = off[:, None] + np.arange(16, dtype=np.int64)[None, :]
    raw_headers = arr[hdr_idx].copy().view(u32).reshape(-1, 4)
    sec = raw_headers[:, 0].astype(np.int64)
    frac = raw_headers[:, 1].astype(np.int64)
    incl = raw_headers[:, 2].astype(np.int64)
    orig = raw_headers[:, 3].astype(np.int64)
    data = off + 16
    size = len(buf)

    def at(index: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return arr[np.minimum(index, size - 1)].astype(np.int64)

    media = incl >= 14 + 20 + 8 + 2
    if linktype == 1:
        media &= (at(data + 12) == 0x08) & (at(data + 13) == 0x00)
        ip = data + 14
    else:
        media &= np.zeros(len(off), dtype=bool)
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

    keep = np.flatnonzero(~media)
    for i in keep.tolist():
        start = int(offsets[i]) + 16
        yield Frame(
            first_number + i + 1,
            (int(sec[i]) * divisor + int(frac[i])) / divisor,
            linktype,
            bytes(buf[start : start + int(incl[i])]),
            int(orig[i]),
        )

    idx = np.flatnonzero(media)
    if not len(idx):
        return
    src = (at(ip[idx] + 12) << 24) | (at(ip[idx] + 13) << 16) | (at(ip[idx] + 14) << 8) | at(ip[idx] + 15)
    dst = (at(ip[idx] + 16) << 24) | (at(ip[idx] + 17) << 16) | (at(ip[idx] + 18) << 8) | at(ip[idx] + 19)
    sport = (at(udp[idx]) << 8) | at(udp[idx] + 1)
    dport = (at(udp[idx] + 2) << 8) | at(udp[idx] + 3)
    # group by 5-tuple and kind with one stable sort on two 64-bit keys
    hi = (src.astype(np.uint64) << np.uint64(32)) | dst.astype(np.uint64)
    lo = (sport << 18) | (dport << 2) | kind[idx]
    order = np.lexsort((lo, hi))
    hi_s, lo_s = hi[order], lo[order]
    starts = np.flatnonzero(np.r_[True, (hi_s[1:] != hi_s[:-1]) | (lo_s[1:] != lo_s[:-1])])
    ends = np.r_[starts[1:], len(order)]
    counts = ends - starts
    first = np.minimum.reduceat(order, starts)
    last = np.maximum.reduceat(order, starts)
    payload_bytes = np.add.reduceat((udp_len[idx] - 8)[order], starts)
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
            (int(sec[fi]) * divisor + int(frac[fi])) / divisor,
            first_number + li + 1,
            (int(sec[li]) * divisor + int(frac[li])) / divisor,
            int(counts[g]),
            int(payload_bytes[g]),
        )
