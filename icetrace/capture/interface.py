"""Which interface a capture file was written from, as far as its header says: the link type and
snapshot length of a pcap file, or of a pcapng file's first interface (with its name, when given).

Consecutive files of one capture (a ring buffer, `editcap -c` pieces) repeat the same header; taps
at other places of a network often differ in it. It is one clue, never the only one
(`records/capture_set.py`)."""

from __future__ import annotations

import struct
from pathlib import Path

from icetrace.capture.input_file import open_capture
from icetrace.errors import InputError

PCAP_MAGICS = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
HEAD = 4096
IF_NAME = 2  # pcapng option code of an interface's name


def interface_of(path: str | Path) -> tuple[object, ...] | None:
    """(format, link type, snapshot length[, interface name]) from the file's header; None when the
    file cannot be read or its format has no such header (Network Monitor)."""
    try:
        fh, _gz = open_capture(Path(path))
        with fh:
            head = fh.read(HEAD)
    except (InputError, OSError):
        return None
    if head[:4] in PCAP_MAGICS and len(head) >= 24:
        endian = PCAP_MAGICS[head[:4]]
        snaplen, linktype = struct.unpack_from(endian + "II", head, 16)
        return ("pcap", linktype & 0x0FFFFFFF, snaplen)
    if head[:4] == PCAPNG_SHB and len(head) >= 12:
        return _pcapng_interface(head)
    return None


def _pcapng_interface(head: bytes) -> tuple[object, ...] | None:
    endian = "<" if head[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    shb_length = struct.unpack_from(endian + "I", head, 4)[0]
    if shb_length + 16 > len(head):
        return None
    block_type, length = struct.unpack_from(endian + "II", head, shb_length)
    if block_type != 1 or length < 20 or shb_length + length > len(head):
        return None
    linktype, _, snaplen = struct.unpack_from(endian + "HHI", head, shb_length + 8)
    return ("pcapng", linktype, snaplen, _option(head[shb_length + 16 : shb_length + length - 4], endian, IF_NAME))


def _option(options: bytes, endian: str, wanted: int) -> str:
    """A pcapng option's value as text ('' when absent)."""
    pos = 0
    while pos + 4 <= len(options):
        code, size = struct.unpack_from(endian + "HH", options, pos)
        if code == 0:
            break
        if code == wanted:
            return options[pos + 4 : pos + 4 + size].decode("utf-8", "replace")
        pos += 4 + (size + 3) // 4 * 4
    return ""
