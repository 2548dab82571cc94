"""One UDP datagram or one reassembled TCP chunk, with the frame that carried it."""

from __future__ import annotations

from dataclasses import dataclass

from icetrace.records.endpoint import Endpoint


@dataclass(slots=True, kw_only=True)
class TransportPacket:
    """What the packet source hands on: a transport payload and where it came from.

    Read-only by convention (not frozen: built once per interesting frame, and a
    frozen dataclass's __init__ costs several times more).

    `frame` is Wireshark's 1-based frame number (for TCP, the frame holding the
    payload's last byte); `time` is epoch seconds as a float.
    """

    frame: int
    time: float
    src: Endpoint
    dst: Endpoint
    transport: str  # "udp" | "tcp"
    payload: bytes
    gap_before: int = 0  # TCP: bytes lost (never captured) just before this payload; framing resynchronises
    # TCP: the sender's direction ends after this payload (its FIN, or an RST from either side):
    # whatever a reader keeps for the direction can go. Such a packet may carry no payload.
    closes: bool = False


_new = object.__new__
_init = TransportPacket.__init__


def new_packet(
    *,
    frame: int,
    time: float,
    src: Endpoint,
    dst: Endpoint,
    transport: str,
    payload: bytes,
    gap_before: int = 0,
    closes: bool = False,
) -> TransportPacket:
    """`TransportPacket(...)` for the per-frame loops. Calling a class with keywords builds a dict
    per call (measured: 3 times the positional call); calling `__init__` on a new instance does not."""
    packet: TransportPacket = _new(TransportPacket)
    _init(
        packet,
        frame=frame,
        time=time,
        src=src,
        dst=dst,
        transport=transport,
        payload=payload,
        gap_before=gap_before,
        closes=closes,
    )
    return packet
