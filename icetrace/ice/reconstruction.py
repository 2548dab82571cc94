"""What the correlator worked out: the checks placed on their pairs, and the whole reconstruction.

The result types live below the algorithm that fills them, so the rules that read a reconstruction
(diagnosis, mid-call, far ends, directions) and the outputs import it without importing the
correlator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from icetrace.ice.integrity import Integrity
from icetrace.ice.model import Allocation, Mapping, NatMapping, Pair, Stream
from icetrace.ice.relayed_checks import RelayedChecks
from icetrace.ice.transactions import Transaction
from icetrace.records.capture_set import CaptureSet
from icetrace.records.media_flow import MediaFlow
from icetrace.records.stun_record import StunRecord
from icetrace.signaling.model import SignalingModel


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """An ICE connectivity check: its transaction, the stream and pair it belongs to when known,
    and the name of the agent that sent it (None when the USERNAME names no agent we know)."""

    transaction: Transaction
    stream: Stream | None
    pair: Pair | None
    sender: str | None


ChecksByPair = dict[int, list[tuple[Transaction, str | None]]]  # by id(pair): (check, sender)


@dataclass
class Reconstruction:
    """Everything the correlator worked out, for tables, report and diagnosis."""

    records: list[StunRecord]
    transactions: list[Transaction]
    allocations: list[Allocation]
    mappings: list[Mapping]
    streams: list[Stream]
    checks: list[Check]
    media: list[MediaFlow]
    vantage: list[str] = field(default_factory=list)
    signaling: SignalingModel | None = None
    capture_end: float = 0.0
    nat_mappings: list[NatMapping] = field(default_factory=list)  # revealed by checks seen at two taps
    orphans: list[StunRecord] = field(default_factory=list)  # responses to requests not captured
    relayed_media: list[MediaFlow] = field(default_factory=list)  # TURN-relayed data, by relayed address and peer
    relayed_messages: int = 0  # the ChannelData and indications counted into relayed_media, not kept as records
    relayed_checks: list[RelayedChecks] = field(default_factory=list)  # the wrappers that carried STUN, per leg
    # the client-to-server legs that carried media in Send/Data indications (ChannelData's are in media)
    indication_legs: list[MediaFlow] = field(default_factory=list)
    # by transaction_key: the results integrity.without_key would not give
    integrity: dict[tuple[str, int], Integrity] = field(default_factory=dict)
    captures: CaptureSet = field(default_factory=CaptureSet)  # the captures read, and how frame ids read

    @property
    def start(self) -> float:
        """The time of the first STUN/TURN message: the causes and selection changes count from it."""
        return self.records[0].time if self.records else 0.0
