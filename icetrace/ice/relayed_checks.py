"""The TURN wrappers that carried checks, not media: counted per client-to-server leg.

A TURN client sends its checks to a relayed peer, and gets the peer's, inside the same wrappers as
its media: ChannelData (RFC 8656 §12; MS multiplexed TURN's 0xFF10), Send/Data indications (§11;
MS-TURN's Send request and Data indication). RFC 7983's first byte of what a wrapper carried tells
the two apart (0-3: STUN). A wrapper that carried STUN is a relayed check or its answer, a record of
its own; it is no media, and a leg's media counts leave it out (packet_source.py, relayed.py). Here
they are counted apart, so the tables can say how many of a leg's packets were checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from dissectors.constants import MS_MULTIPLEXED_CHANNEL
from icetrace.records.endpoint import Endpoint
from icetrace.records.media_flow import MediaFlow
from icetrace.records.relayed import WRAPPERS, RelayedCount
from icetrace.records.stun_record import StunRecord

CHANNEL_VIAS = {"channeldata": 4, "ms-multiplexed": 12}  # each wrapping's header: before the data
INDICATION_VIAS = frozenset(via for via, _peer_attribute, _outbound in WRAPPERS.values())
LEG_KINDS = frozenset(("channeldata", *INDICATION_VIAS))
"""The kinds of a client-to-server leg's row: channeldata, or the indication that carried the data."""


def leg_kind(via: str) -> str:
    """The kind of the leg row a wrapper is counted on: ChannelData's (MS 0xFF10 too), or the indication's."""
    return "channeldata" if via in CHANNEL_VIAS else via


@dataclass(kw_only=True)
class RelayedChecks:
    """The wrappers from `src` to `dst` on a client-to-server leg that carried STUN."""

    src: Endpoint
    dst: Endpoint
    transport: str
    via: str  # channeldata, ms-multiplexed, send-indication, data-indication, ms-send-request, ms-data-indication
    first_frame: int
    first_time: float
    last_frame: int
    last_time: float
    tap: int = 0  # the capture that saw them, among several taps of one call
    packets: int = field(default=0)


def relayed_checks(
    records: Iterable[StunRecord], tap_of: Callable[[int], int] = lambda frame: 0
) -> list[RelayedChecks]:
    """Per leg, direction, wrapping and tap: the wrappers that carried a check or its answer."""
    out: dict[tuple[Endpoint, Endpoint, str, str, int], RelayedChecks] = {}
    for r in records:
        if r.carried != "stun":
            continue
        if r.kind == "channeldata":  # its hop, when the capture names the channel's peer
            via = "ms-multiplexed" if r.type == MS_MULTIPLEXED_CHANNEL else "channeldata"
        elif r.relay is None and (r.method, r.cls) in WRAPPERS:
            via = WRAPPERS[(r.method, r.cls)][0]
        else:
            continue
        key = (r.src, r.dst, r.transport, via, tap_of(r.frame))
        leg = out.get(key)
        if leg is None:
            leg = out[key] = RelayedChecks(
                src=r.src,
                dst=r.dst,
                transport=r.transport,
                via=via,
                first_frame=r.frame,
                first_time=r.time,
                last_frame=r.frame,
                last_time=r.time,
                tap=key[4],
            )
        if (r.time, r.frame) < (leg.first_time, leg.first_frame):
            leg.first_frame, leg.first_time = r.frame, r.time
        if (r.time, r.frame) > (leg.last_time, leg.last_frame):
            leg.last_frame, leg.last_time = r.frame, r.time
        leg.packets += 1
    return sorted(out.values(), key=lambda c: (c.first_time, c.first_frame))


def stream_legs(counts: Iterable[RelayedCount]) -> list[MediaFlow]:
    """ChannelData legs over TCP or TLS as media flows (kind channeldata), as the packet source counts
    the UDP ones: the relayed media counted from the records of a TCP stream, summed per direction,
    its bytes with each frame's header (padding aside) as a datagram's payload holds it."""
    return _summed([c for c in counts if c.transport != "udp" and c.via in CHANNEL_VIAS])


def indication_legs(counts: Iterable[RelayedCount]) -> list[MediaFlow]:
    """The legs that carried media in Send/Data indications (MS-TURN Send requests, Data indications),
    one flow per direction and wrapper, of the wrapper's kind: as ChannelData's legs are counted, but
    their bytes are what the DATA attributes carried."""
    return _summed([c for c in counts if c.via in INDICATION_VIAS])


def _summed(counts: list[RelayedCount]) -> list[MediaFlow]:
    """The counts summed per leg, direction and leg kind; ChannelData's bytes with each frame's header."""
    legs: dict[tuple[Endpoint, Endpoint, str, str], MediaFlow] = {}
    for c in counts:
        kind = leg_kind(c.via)
        size = c.bytes + CHANNEL_VIAS.get(c.via, 0) * c.packets
        key = (c.src, c.dst, c.transport, kind)
        leg = legs.get(key)
        if leg is None:
            legs[key] = MediaFlow(
                src=c.src,
                dst=c.dst,
                transport=c.transport,
                kind=kind,
                first_frame=c.first_frame,
                first_time=c.first_time,
                last_frame=c.last_frame,
                last_time=c.last_time,
                packets=c.packets,
                bytes=size,
            )
            continue
        first = min((leg.first_time, leg.first_frame), (c.first_time, c.first_frame))
        last = max((leg.last_time, leg.last_frame), (c.last_time, c.last_frame))
        legs[key] = replace(
            leg,
            first_time=first[0],
            first_frame=first[1],
            last_time=last[0],
            last_frame=last[1],
            packets=leg.packets + c.packets,
            bytes=leg.bytes + size,
        )
    return sorted(legs.values(), key=lambda f: (f.first_time, f.first_frame))


def with_leg_checks(
    flows: Iterable[MediaFlow], checks: Iterable[RelayedChecks], tap_of: Callable[[int], int]
) -> list[tuple[MediaFlow, int | None]]:
    """Each flow with the checks its leg carried besides its media, in ChannelData or in the same
    indications (None: no such leg); a leg that carried checks only comes as a flow of no packets
    that spans its checks."""
    by_leg: dict[tuple[Endpoint, Endpoint, str, int, str], list[RelayedChecks]] = {}
    for c in checks:
        by_leg.setdefault((c.src, c.dst, c.transport, c.tap, leg_kind(c.via)), []).append(c)
    out: list[tuple[MediaFlow, int | None]] = []
    for f in flows:
        if f.kind not in LEG_KINDS or f.relay_via:
            out.append((f, None))
            continue
        carried = by_leg.pop((f.src, f.dst, f.transport, tap_of(f.first_frame), f.kind), [])
        out.append((f, sum(c.packets for c in carried)))  # a leg counted in parts: its first part says them
    for (src, dst, transport, _tap, kind), carried in by_leg.items():
        first = min(carried, key=lambda c: (c.first_time, c.first_frame))
        last = max(carried, key=lambda c: (c.last_time, c.last_frame))
        only_checks = MediaFlow(
            src=src,
            dst=dst,
            transport=transport,
            kind=kind,
            first_frame=first.first_frame,
            first_time=first.first_time,
            last_frame=last.last_frame,
            last_time=last.last_time,
            packets=0,
            bytes=0,
        )
        out.append((only_checks, sum(c.packets for c in carried)))
    return out


def relayed_summary(media_messages: int, checks: Iterable[RelayedChecks]) -> str | None:
    """What went through TURN relays in words: the media wrappers and, apart, the checks' (None: nothing)."""
    carried = sum(c.packets for c in checks)
    if not media_messages and not carried:
        return None
    return (
        f"relayed through TURN: {media_messages} media packets, {carried} checks and answers "
        "(in ChannelData and Send/Data indications)"
    )
