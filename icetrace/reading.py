"""Reading captures: each capture read once, every packet handed to the STUN record extractor and
to the signaling collectors, and the reads of several captures of one call put together.

A capture gives its STUN/TURN records (relayed media counted, not kept), its media flows and ICMP
errors, its problems and the time of its last packet; its SIP and application signaling go into
the signaling model as it is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from icetrace.capture.interface import interface_of
from icetrace.capture.packet_source import PacketSource
from icetrace.records.capture_set import CaptureSet, CaptureSpan, display_names, frame_id, messages_in_two, reading
from icetrace.records.extract import RecordExtractor, iter_stun_records
from icetrace.records.icmp_error import IcmpError
from icetrace.records.media_flow import MediaFlow
from icetrace.records.relayed import RelayedCount, RelayedCounter
from icetrace.records.stun_record import StunRecord
from icetrace.signaling.collect import SignalingCollector
from icetrace.signaling.model import SignalingModel


@dataclass(frozen=True)
class ReadOptions:
    engine: str = "native"
    tls_keylog: str | Path | None = None
    rsa_key: str | Path | None = None
    progress: Callable[[int, int], None] | None = None
    app_signaling: bool = True
    display_filter: str | None = None


@dataclass
class CaptureRead:
    """What one capture gave: its STUN records (relayed media counted, not kept), media flows,
    ICMP errors, problems, and the time of its last packet."""

    source: str
    records: list[StunRecord]
    relayed: RelayedCounter
    flows: list[MediaFlow]
    icmp: list[IcmpError]
    problems: list[str]
    end: float | None  # its last frame's time (handed on, counted or walked past); None: it held none
    first: float | None = None  # the first packet it handed on or counted
    interface: tuple[object, ...] | None = None  # what its header says of the interface

    def renumber(self, index: int) -> None:
        """Give every frame reference the id that names this capture (the `index`-th given)."""
        for r in self.records:
            r.frame = frame_id(index, r.frame)
        for c in self.relayed.counts():
            c.first_frame, c.last_frame = frame_id(index, c.first_frame), frame_id(index, c.last_frame)
        self.flows = [
            replace(f, first_frame=frame_id(index, f.first_frame), last_frame=frame_id(index, f.last_frame))
            for f in self.flows
        ]
        self.icmp = [replace(e, frame=frame_id(index, e.frame)) for e in self.icmp]


def capture_name(capture: str | Path | Any) -> str:
    """A capture argument as the user gave it: its path (a pyshark FileCapture's input file)."""
    from icetrace.capture import pyshark_input

    return str(pyshark_input.capture_path(capture)) if pyshark_input.is_pyshark_capture(capture) else str(capture)


def read_capture(
    capture: str | Path | Any, options: ReadOptions, model: SignalingModel, display: str | None = None
) -> CaptureRead:
    """Read one capture once; its SIP and application signaling go into `model`, named `display`
    (the name the outputs give this capture among the others: records/capture_set.py), else its file name."""
    from icetrace.capture import pyshark_input

    path = pyshark_input.capture_path(capture)
    pyshark = pyshark_input.is_pyshark_capture(capture)
    arguments = pyshark_input.with_filter(
        pyshark_input.tshark_arguments(capture) if pyshark else [], options.display_filter
    )
    keylog = options.tls_keylog if options.tls_keylog is not None else pyshark_input.tls_keylog(arguments)
    with _readable(path, options.engine) as whole, pyshark_input.readable(whole, arguments) as readable:
        source = PacketSource([readable], progress=options.progress, count_relayed=True)
        extractor = RecordExtractor(all_bytes=False)
        signaling = SignalingCollector(display or path.name, app_signaling=options.app_signaling)
        records: list[StunRecord] = []
        relayed = RelayedCounter()
        for packet in source:
            for record in extractor.feed(packet):
                if not relayed.add(record):  # relayed media is counted, not kept
                    records.append(record)
            signaling.feed(packet)
        signaling.finish()
    summary = source.summary()
    problems: list[str] = []
    if keylog is not None or options.rsa_key is not None:
        from icetrace.capture.tshark_engine import tls_plaintext
        from icetrace.signaling.collect import decrypted_signaling

        tls = decrypted_signaling(display or path.name, tls_plaintext(path, keylog, options.rsa_key))
        signaling.add_decrypted(tls)
        problems += tls.problems
    signaling.build(model)
    problems += [str(p) for p in source.problems] + signaling.problems
    for count in summary.relayed:  # what the packet source counted of the same capture
        relayed.include(count)
    name = capture_name(capture)
    flows = summary.media_flows
    starts = [*(r.time for r in records[:1]), *(f.first_time for f in flows), *(c.first_time for c in relayed.counts())]
    interface = interface_of(path) if path.is_file() else None  # a pipe is read once, its header with it
    first = min(starts) if starts else None
    return CaptureRead(name, records, relayed, flows, summary.icmp_errors, problems, summary.end, first, interface)


@dataclass
class Reads:
    """Several captures of one call (and records or media given as they are), as one."""

    records: list[StunRecord]
    media: list[MediaFlow]
    icmp: list[IcmpError]
    relayed: list[RelayedCount]
    problems: list[str]
    sources: list[str]
    end: float  # when the capture ended: its last packet, or the last record handed in
    copies: int  # messages another capture of the same traffic also held, kept once
    captures: CaptureSet  # how the captures were read together, and how their frame ids read


def combine(
    reads: Sequence[CaptureRead], records: Iterable[StunRecord] | None, media: Iterable[MediaFlow] | None
) -> Reads:
    """The captures' reads together: the frame ids of each name its file, and they are read as one
    timeline (their counts add up) or as taps of one call (a message seen in two captures, same
    transaction, type and time, is kept once, a relayed flow seen twice counted once)."""
    for index, read in enumerate(reads):
        if index:
            read.renumber(index)  # frame ids that name their file (records/capture_set.py)
    together = _together(reads)
    given = RelayedCounter()  # records handed in are held to the captures' rule: relayed media is counted
    per_capture: list[list[StunRecord]] = [
        [r for r in records or () if not given.add(r)],
        *(read.records for read in reads),
    ]
    merged = RelayedCounter()
    relayed_copies = 0
    for read in reads:
        if together.timeline:  # the files of one capture: what each counted adds up
            for count in read.relayed.counts():
                merged.include(count)
        else:
            relayed_copies += merged.merge(read.relayed)
    all_records = _dedupe(per_capture)
    copies = sum(len(r) for r in per_capture) - len(all_records) + relayed_copies
    ends = [read.end for read in reads if read.end is not None]
    return Reads(
        records=all_records,
        media=[*(media or []), *(f for read in reads for f in read.flows)],
        icmp=[e for read in reads for e in read.icmp],
        relayed=[*merged.counts(), *given.counts()],
        problems=[p for read in reads for p in read.problems],
        sources=[read.source for read in reads],
        end=max([*ends, *(r.time for r in all_records)], default=0.0),
        copies=copies,
        captures=together,
    )


def _together(reads: Sequence[CaptureRead]) -> CaptureSet:
    """How the captures are read together: one timeline, or taps of one call (records/capture_set.py)."""
    if len(reads) < 2:
        return CaptureSet(display_names([read.source for read in reads]))
    stamps = [[(r.transaction_id, r.type, r.time) for r in read.records if r.kind == "stun"] for read in reads]
    spans = [CaptureSpan(read.source, read.first, read.end, read.interface) for read in reads]
    return reading(spans, messages_in_two(stamps))


def capture_records(capture: str | Path) -> Iterator[StunRecord]:
    """Every STUN/TURN message and ChannelData frame of one capture file."""
    return iter_stun_records(PacketSource([capture]))


@contextmanager
def _readable(capture: str | Path, engine: str) -> Iterator[str | Path]:
    """The capture itself (native engine) or a pcapng copy tshark wrote (tshark engine)."""
    if engine == "tshark":
        from icetrace.capture.tshark_engine import converted

        with converted(capture) as copy:
            yield copy
    else:
        yield capture


def _dedupe(per_capture: list[list[StunRecord]]) -> list[StunRecord]:
    """Every record, less those another capture already holds (the same call tapped twice).

    Within one capture identical messages stay: an agent may send one message several times in
    one TCP segment, and `icetrace messages` lists each."""
    sources = [records for records in per_capture if records]
    if len(sources) <= 1:
        return sources[0] if sources else []  # one source: no keys to remember
    seen: set[tuple[object, ...]] = set()
    out = []
    for records in sources:
        mine: set[tuple[object, ...]] = set()
        for r in records:
            # ChannelData has no transaction id: its channel, addresses, time and size name it
            key = (r.kind, r.transaction_id, r.type, r.src, r.dst, round(r.time, 3), r.raw, r.payload_length)
            if key in seen:
                continue
            mine.add(key)
            out.append(r)
        seen |= mine
    return out
