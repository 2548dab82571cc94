"""Relayed media counted, not kept: ChannelData and Send/Data indications that carried no STUN.

On a TURN server's or an A/V Edge's capture nearly every packet is media wrapped for the relay
(RFC 8656 §11-12; MS-TURN Send request 0x0004 and Data indication 0x0115). Kept one record each
they would make memory grow with the capture; counted per client-to-server leg, wrapping, channel,
peer and inner kind (RFC 7983) they cost one entry per flow. Relayed checks stay records.
"""

from __future__ import annotations

from dataclasses import dataclass

from dissectors.constants import MS_MULTIPLEXED_CHANNEL
from icetrace.records.endpoint import Endpoint
from icetrace.records.stun_record import StunRecord

WRAPPERS: dict[tuple[str, str], tuple[str, str, bool]] = {
    ("send", "indication"): ("send-indication", "XOR-PEER-ADDRESS", True),
    ("data", "indication"): ("data-indication", "XOR-PEER-ADDRESS", False),
    ("ms-send", "request"): ("ms-send-request", "DESTINATION-ADDRESS", True),
    ("ms-data", "indication"): ("ms-data-indication", "REMOTE-ADDRESS", False),
}
"""(method, class) -> (how the data travelled, the attribute naming the peer, sent by the client)."""


def is_relayed_media(r: StunRecord) -> bool:
    """ChannelData, or a Send/Data indication (MS-TURN Send request, Data indication), that
    carried something other than STUN (a relayed check inside stays a record of its own)."""
    carried = r.carried
    if not carried or carried == "stun":
        return False
    return r.kind == "channeldata" or (r.relay is None and (r.method, r.cls) in WRAPPERS)


@dataclass(slots=True, kw_only=True)
class RelayedCount:
    """Relayed data of one kind seen on the client-to-server leg from `src` to `dst`.

    `client`/`peer` are known from the message (indications) or its ChannelBind; for ChannelData
    whose binding is not in the capture they stay None and the correlator places them.
    """

    src: Endpoint
    dst: Endpoint
    transport: str
    via: str
    channel: int | None
    client: Endpoint | None
    peer: Endpoint | None
    kind: str
    first_frame: int
    first_time: float
    last_frame: int
    last_time: float
    packets: int = 0
    bytes: int = 0


class RelayedCounter:
    """Takes the records that are relayed media and counts them."""

    def __init__(self) -> None:
        self.flows: dict[tuple[object, ...], RelayedCount] = {}

    def add(self, r: StunRecord) -> bool:
        """Count `r` if it is relayed media (True), or leave it to be kept (False)."""
        if not is_relayed_media(r):
            return False
        if r.kind == "channeldata":
            via = "ms-multiplexed" if r.type == MS_MULTIPLEXED_CHANNEL else "channeldata"
            channel: int | None = r.type
            hop = r.relay
            client, peer = (hop.client, hop.peer) if hop is not None else (None, None)
        else:
            via, attribute, outbound = WRAPPERS[(r.method, r.cls)]
            channel = None
            client = r.src if outbound else r.dst
            peer = r.addresses.get(attribute)
        key = (r.src, r.dst, r.transport, via, channel, client, peer, r.carried)
        flow = self.flows.get(key)
        if flow is None:
            flow = self.flows[key] = RelayedCount(
                src=r.src,
                dst=r.dst,
                transport=r.transport,
                via=via,
                channel=channel,
                client=client,
                peer=peer,
                kind=r.carried,
                first_frame=r.frame,
                first_time=r.time,
                last_frame=r.frame,
                last_time=r.time,
            )
        elif r.frame < flow.first_frame:
            flow.first_frame, flow.first_time = r.frame, r.time
        if r.frame >= flow.last_frame:
            flow.last_frame, flow.last_time = r.frame, r.time
        flow.packets += 1
        flow.bytes += r.payload_length
        return True

    def include(self, count: RelayedCount) -> None:
        """Add a count made elsewhere in the same capture (the packet source's or the C skimmer's).

        First and last are by frame number, so counts of one flow made in several places add
        up to what counting every message here gives."""
        key = (count.src, count.dst, count.transport, count.via, count.channel, count.client, count.peer, count.kind)
        mine = self.flows.get(key)
        if mine is None:
            self.flows[key] = count
            return
        if count.first_frame < mine.first_frame:
            mine.first_frame, mine.first_time = count.first_frame, count.first_time
        if count.last_frame >= mine.last_frame:
            mine.last_frame, mine.last_time = count.last_frame, count.last_time
        mine.packets += count.packets
        mine.bytes += count.bytes

    def merge(self, other: RelayedCounter) -> int:
        """Add another capture's counts; returns how many of its messages were copies of ours.

        The same leg tapped twice (or the same file given twice) gives the same flow: kept once,
        with the larger count, as records seen twice are."""
        copies = 0
        for key, flow in other.flows.items():
            mine = self.flows.get(key)
            if mine is None:
                self.flows[key] = flow
                continue
            copies += min(mine.packets, flow.packets)
            if flow.first_time < mine.first_time:
                mine.first_frame, mine.first_time = flow.first_frame, flow.first_time
            if flow.last_time > mine.last_time:
                mine.last_frame, mine.last_time = flow.last_frame, flow.last_time
            mine.packets = max(mine.packets, flow.packets)
            mine.bytes = max(mine.bytes, flow.bytes)
        return copies

    def counts(self) -> list[RelayedCount]:
        return list(self.flows.values())
