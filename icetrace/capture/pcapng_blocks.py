"""pcapng blocks as an annotated copy writes them: the section and interface headers, Enhanced
Packet Blocks, and the comment options (opt_comment) that carry icetrace's notes.

Each capture format copies its own files with these (`CaptureFormat.copy_as_pcapng`):
pcapng_writer.py only finds the format and writes what it yields.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from icetrace.version import __version__

OPT_ENDOFOPT = 0
OPT_COMMENT = 1
SHB_USERAPPL = 4
IF_NAME = 2
IF_TSRESOL = 9


def option(endian: str, code: int, value: bytes) -> bytes:
    return struct.pack(endian + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def options(endian: str, pairs: Sequence[tuple[int, bytes]]) -> bytes:
    if not pairs:
        return b""
    return b"".join(option(endian, c, v) for c, v in pairs) + struct.pack(endian + "HH", OPT_ENDOFOPT, 0)


def block(endian: str, btype: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack(endian + "II", btype, length) + body + struct.pack(endian + "I", length)


def comment_options(notes: Sequence[str]) -> list[tuple[int, bytes]]:
    return [(OPT_COMMENT, note.encode("utf-8")) for note in notes]


def padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def epb(endian: str, iface: int, ticks: int, data: bytes, orig: int, pairs: Sequence[tuple[int, bytes]]) -> bytes:
    """An Enhanced Packet Block: interface, timestamp in the interface's units, bytes, options."""
    head = struct.pack(endian + "IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF, len(data), orig)
    return block(endian, 6, head + padded(data) + options(endian, pairs))


def shb(endian: str = "<") -> bytes:
    """A Section Header Block naming icetrace as the application that wrote the copy."""
    body = struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1)
    return block(endian, 0x0A0D0D0A, body + options(endian, [(SHB_USERAPPL, f"icetrace {__version__}".encode())]))


def idb(endian: str, linktype: int, snaplen: int, tsresol: int, name: str | None = None) -> bytes:
    """An Interface Description Block; `tsresol` is the power of ten its timestamps divide a second by."""
    pairs = [(IF_TSRESOL, bytes([tsresol]))]
    if name:
        pairs.insert(0, (IF_NAME, name.encode()))
    return block(endian, 1, struct.pack(endian + "HHI", linktype, 0, snaplen) + options(endian, pairs))
