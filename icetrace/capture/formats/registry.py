"""The capture formats icetrace reads, by the magic number in a file's first four bytes."""

from __future__ import annotations

from icetrace.capture.formats import netmon, pcap, pcapng
from icetrace.capture.formats.base import CaptureFormat

FORMATS: tuple[CaptureFormat, ...] = (pcap.PCAP, pcapng.PCAPNG, netmon.NETMON)
BY_MAGIC: dict[bytes, CaptureFormat] = {magic: fmt for fmt in FORMATS for magic in fmt.magics}
# formats recognised only to say why they are not read
UNSUPPORTED: dict[bytes, str] = {**netmon.UNSUPPORTED}


def names() -> str:
    """The formats as a file that is none of them is told: "pcap, pcapng or Network Monitor"."""
    titles = [fmt.title for fmt in FORMATS]
    return ", ".join(titles[:-1]) + " or " + titles[-1]


def format_of(head: bytes) -> CaptureFormat | None:
    """The format whose magic number `head` (a file's first bytes) starts with."""
    return BY_MAGIC.get(head[:4])
