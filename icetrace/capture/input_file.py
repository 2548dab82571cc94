"""Opening a capture: pipes are read once into a spool file, gzip is decompressed tolerantly.

A FIFO or `<(process substitution)` cannot seek, and the readers seek (Network Monitor's frame
table sits at the end; damaged pcap and pcapng are resynchronised by looking ahead). Such input
is copied once into an unnamed temporary file (in TMPDIR; as large as the input) and read from there.

gzip is read as Wireshark reads it, from the first bytes. A damaged stream (truncated download, bad
CRC, trailing garbage) ends where the damage is: what decompressed before it is analysed and the
damage is reported once.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import sys
import tempfile
import zlib
from pathlib import Path
from typing import BinaryIO, cast

from icetrace.errors import InputError

READ_CHUNK = 1 << 20


class TolerantGzip(io.RawIOBase):
    """The decompressed bytes of a gzip file up to the first damage; `damage` then says what it was."""

    def __init__(self, compressed: BinaryIO) -> None:
        self._compressed = compressed
        self._gzip = gzip.GzipFile(fileobj=compressed, mode="rb")
        self._end: int | None = None  # decompressed size up to the damage, once met
        self.damage: str | None = None
        self.damage_offset = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        position = self._gzip.tell()
        if self._end is not None and position >= self._end:
            return 0
        try:
            # read1: one decompression step, so the bytes before the damage are handed on
            data = self._gzip.read1(len(buffer))
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            self._damaged(exc)
            return 0
        if self._end is not None and position + len(data) > self._end:
            data = data[: self._end - position]
        buffer[: len(data)] = data
        return len(data)

    def _damaged(self, exc: BaseException) -> None:
        if self._end is None:
            self._end = self._gzip.tell()
            what = str(exc) or type(exc).__name__
            if isinstance(exc, EOFError):
                what = "compressed data cut short (truncated download?)"
            self.damage = (
                f"gzip stream damaged after {self._end} decompressed bytes ({what}); analysed what came before"
            )
            self.damage_offset = self._end

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:
            while self.readinto(bytearray(READ_CHUNK)):
                pass
            offset += self._gzip.tell()
            whence = io.SEEK_SET
        elif whence == io.SEEK_CUR:
            offset += self._gzip.tell()
            whence = io.SEEK_SET
        if self._end is not None:
            offset = min(offset, self._end)
        try:
            return self._gzip.seek(offset)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            self._damaged(exc)
            return self._gzip.seek(min(offset, self._end or 0))

    def tell(self) -> int:
        return self._gzip.tell()

    def close(self) -> None:
        try:
            self._gzip.close()
            self._compressed.close()
        finally:
            super().close()


def _spooled(fh: io.RawIOBase, path: Path) -> io.RawIOBase:
    """A seekable copy of non-seekable input (a pipe): read once, kept in an unnamed temporary file."""
    spool = tempfile.TemporaryFile(prefix="icetrace-", buffering=0)  # noqa: SIM115 - returned to the caller
    try:
        shutil.copyfileobj(fh, spool, READ_CHUNK)
    except OSError as exc:
        spool.close()
        raise InputError(f"{path}: cannot copy the pipe to a temporary file: {exc.strerror or exc}") from None
    finally:
        fh.close()
    spool.seek(0)
    return spool


STDIN = "-"
"""The capture name that means standard input (`tcpdump -w - | icetrace analyze -`)."""


def _open_raw(path: Path) -> io.RawIOBase:
    """The file, or for `-` a duplicate of standard input's descriptor (closing it leaves stdin open)."""
    if str(path) == STDIN:
        return io.FileIO(os.dup(sys.stdin.fileno()), "rb")
    return open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the caller


def open_capture(path: Path, *, live: bool = False) -> tuple[BinaryIO, TolerantGzip | None]:
    """A buffered reader of the capture's bytes (gunzipped), and the gzip layer if any: seekable
    (a pipe copied into a spool file first) unless `live`, where a pipe is read as it is written."""
    try:
        fh: io.RawIOBase = _open_raw(path)
    except (OSError, ValueError) as exc:  # ValueError: no standard input to read
        raise InputError(f"{path}: cannot open: {getattr(exc, 'strerror', None) or exc}") from None
    if not fh.seekable() and not live:
        fh = _spooled(fh, path)
    buffered = io.BufferedReader(fh, buffer_size=READ_CHUNK)
    try:
        magic = buffered.peek(2)[:2]
    except OSError as exc:
        buffered.close()
        raise InputError(f"{path}: read error: {exc.strerror or exc}") from None
    if magic != b"\x1f\x8b":
        return cast(BinaryIO, buffered), None
    layer = TolerantGzip(buffered)
    return cast(BinaryIO, io.BufferedReader(layer, buffer_size=READ_CHUNK)), layer
