"""MediaFlow: per 5-tuple and direction, the non-STUN traffic that followed ICE."""

from __future__ import annotations

from dataclasses import dataclass

from icetrace.records.endpoint import Endpoint


@dataclass(frozen=True, slots=True)
class MediaFlow:
    """Packets of one kind (rtp, rtcp, dtls, channeldata, ...) from `src` to `dst`."""

    src: Endpoint
    dst: Endpoint
    transport: str
    kind: str
    first_frame: int
    first_time: float
    last_frame: int
    last_time: float
    packets: int
    bytes: int
