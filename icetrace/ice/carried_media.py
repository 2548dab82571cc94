"""The media a selected pair carried: one count per direction and kind, however many places saw it.

The same packets can be counted several times over: at each tap of a merged reading (a LAN, the
public segment), on both legs of a TURN relay (from one client in ChannelData, to the other in a Data
indication), and under both names a NAT gives one socket. Each such place is a view of one flow, so
the flow's count is that of the view that saw the most. Within one view a flow may still come in
parts that add up: a relayed flow that starts in Send indications and goes on in ChannelData, or
the files of one capture's timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from icetrace.ice.model import Pair
from icetrace.records.endpoint import Endpoint
from icetrace.records.media_flow import MediaFlow


def _view(f: MediaFlow, tap: int) -> tuple[object, ...]:
    """Where a flow was counted: its tap, and on it the relay leg (towards or from the server) or the
    5-tuple (each name a NAT gives the socket is a copy of the same packets)."""
    if f.relay_server is not None:
        return (tap, f.relay_server, "to-peer" if f.relay_peer == f.dst else "from-peer")
    return (tap, f.src, f.dst)


def carried_by(pair: Pair, flows: Iterable[MediaFlow], tap_of: Callable[[int], int]) -> list[MediaFlow]:
    """One flow per direction and kind on `pair`, named by the pair's two candidates: the count of
    the view that saw the most, its parts added up."""
    ends = (pair.controlling.address, pair.controlled.address)
    views: dict[tuple[Endpoint, Endpoint, str], dict[tuple[object, ...], list[MediaFlow]]] = {}
    for f in flows:
        src, dst = ends if f.src in pair.controlling.wire_addresses else ends[::-1]
        views.setdefault((src, dst, f.kind), {}).setdefault(_view(f, tap_of(f.first_frame)), []).append(f)
    out = [_one((src, dst, kind), parts) for (src, dst, kind), parts in views.items()]
    return sorted(out, key=lambda f: (f.first_time, f.first_frame, str(f.src), f.kind))


def _one(key: tuple[Endpoint, Endpoint, str], views: dict[tuple[object, ...], list[MediaFlow]]) -> MediaFlow:
    parts = max(views.values(), key=lambda fs: (sum(f.packets for f in fs), -min(f.first_time for f in fs)))
    first = min(parts, key=lambda f: (f.first_time, f.first_frame))
    last = max(parts, key=lambda f: (f.last_time, f.last_frame))
    largest = max(parts, key=lambda f: f.packets)
    src, dst, kind = key
    return MediaFlow(
        src=src,
        dst=dst,
        transport=largest.transport,
        kind=kind,
        first_frame=first.first_frame,
        first_time=first.first_time,
        last_frame=last.last_frame,
        last_time=last.last_time,
        packets=sum(f.packets for f in parts),
        bytes=sum(f.bytes for f in parts),
        relay_via=largest.relay_via,
        relay_server=largest.relay_server,
        relay_peer=largest.relay_peer,
        channel=largest.channel,
    )


def one_copy_per_flow(
    flows: Iterable[MediaFlow], joined: Iterable[tuple[Endpoint, Endpoint]], tap_of: Callable[[int], int]
) -> list[MediaFlow]:
    """The flows as one tap saw them: where several taps saw one flow (the same kind between the same
    sockets, named alike or joined by a NAT mapping: `joined` pairs inside and outside addresses),
    only the tap that counted the most packets keeps it."""
    same = _Aliases(joined)
    by_flow: dict[tuple[Endpoint, Endpoint, str], dict[int, list[MediaFlow]]] = {}
    for f in flows:
        key = (same.name(f.src), same.name(f.dst), f.kind)
        by_flow.setdefault(key, {}).setdefault(tap_of(f.first_frame), []).append(f)
    kept = []
    for taps in by_flow.values():
        kept += max(taps.values(), key=lambda fs: (sum(f.packets for f in fs), -min(f.first_time for f in fs)))
    return sorted(kept, key=lambda f: (f.first_time, f.first_frame))


class _Aliases:
    """Addresses joined by NAT mappings, each group named by one of its members."""

    def __init__(self, joined: Iterable[tuple[Endpoint, Endpoint]]) -> None:
        self.parent: dict[Endpoint, Endpoint] = {}
        for a, b in joined:
            ra, rb = self.name(a), self.name(b)
            if ra != rb:
                self.parent[max(ra, rb)] = min(ra, rb)

    def name(self, address: Endpoint) -> Endpoint:
        while address in self.parent:
            address = self.parent[address]
        return address
