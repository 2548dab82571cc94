"""`icetrace messages` on two cores: reading here, most decoding and formatting in a forked child.

On a gigabyte capture, reading (the C skimmer and the packet source) and decoding
(the dissectors' codec, one record per message, then the output format) each take
about half the time. This process sends the packet source's transport payloads in
batches through a pipe to a child that runs the record extractor and the formatter
and returns, per packet, the text of its records; a thread here receives it, so
neither side can block the other on a full pipe.

Reading alone leaves this process idle part of the time, so it decodes a share of
the packets itself: only plain UDP STUN messages, which need no state from earlier
packets and leave none (TCP streams, ChannelData and ChannelBind, which teaches the
extractor a channel, all go to the child). Text leaves in packet order, the same
bytes the one-process path writes (tests compare them).

The child is forked once the first packets have been decoded here, and goes on from the
extractor's state at that moment; a capture with fewer packets than that (a relay's, whose
rows the C skimmer writes itself) never starts it.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from icetrace.capture.packet_source import PacketSource
from icetrace.records.endpoint import Endpoint
from icetrace.records.extract import RecordExtractor
from icetrace.records.stun_record import StunRecord
from icetrace.records.transport_packet import TransportPacket, new_packet

_PACKETS_PER_BATCH = 512
_DECODED_HERE = 2048  # packets decoded here before the child starts
_LOCAL_EVERY = 4  # this process decodes every 4th plain UDP STUN message: about its idle time
_CHANNEL_BIND = 0x0009
_CLASS_BITS = 0x0110
_FAILED = "\0"  # first character of the child's report of an exception


def available() -> bool:
    """Two cores and fork (the child inherits the loaded modules instead of importing them again)."""
    return (os.cpu_count() or 1) > 1 and "fork" in multiprocessing.get_all_start_methods()


def _stateless(packet: TransportPacket) -> bool:
    """A UDP STUN message other than ChannelBind: its records depend on nothing else."""
    payload = packet.payload
    if packet.transport != "udp" or len(payload) < 20 or payload[0] >= 4:
        return False
    # ChannelBind in any class: the type without its two class bits (RFC 5389 §6)
    return ((payload[0] << 8) | payload[1]) & ~_CLASS_BITS != _CHANNEL_BIND


def write_texts(source: PacketSource, formatter: Any, write: Callable[[str], object], rows: Any = None) -> None:
    """Write the formatted text of every record of `source`, in packet order; with `rows` (messages'
    RelayedRows), the rows the C skimmer writes too, in their place."""
    out = _Output(write)
    if rows is not None:
        rows.target = out.rows
    finished = False
    try:
        out.run(source, formatter)
        finished = True
    finally:
        out.close(finished)


class _Child:
    """The decoding process and the pipes and thread that talk to it."""

    def __init__(self, formatter: Any, extractor: RecordExtractor) -> None:
        context = multiprocessing.get_context("fork")
        packets_in, self.packets_out = context.Pipe(duplex=False)  # (receiving end, sending end)
        self.text_in, text_out = context.Pipe(duplex=False)
        ends = (self.packets_out, self.text_in)
        self.process = context.Process(
            target=_decode, args=(packets_in, text_out, formatter, extractor, ends), daemon=True
        )
        self.process.start()
        packets_in.close()
        text_out.close()
        self.received: queue.SimpleQueue[list[str] | None] = queue.SimpleQueue()
        self.receiver = threading.Thread(target=_receive, args=(self.text_in, self.received), daemon=True)
        self.receiver.start()

    def close(self, finished: bool) -> None:
        self.packets_out.close()  # an unfinished child sees the end of its input and stops
        self.process.join(timeout=None if finished else 5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()
        self.receiver.join(timeout=5)
        self.text_in.close()


_MAX_WAITING = 4 << 20  # characters of text held back behind packets the child has not answered yet


class _Output:
    """The text of each packet in packet order: decoded here, or by the child in batches; and the
    skimmer's rows, which follow the text of every packet read before them. The child is started
    once _DECODED_HERE packets came: a capture with fewer (a relay's, whose rows the skimmer
    writes) is decoded here, without a second process."""

    def __init__(self, write: Any) -> None:
        self.write = write
        self.child: _Child | None = None
        # per packet, in order: its text when known, None when the child's text is due
        self.order: deque[str | None] = deque()
        self.remote: deque[str] = deque()
        self.batch: list[tuple[Any, ...]] = []
        self.waiting = 0  # characters of text in `order`

    def run(self, source: PacketSource, formatter: Any) -> None:
        local = RecordExtractor()
        plain = decoded = 0
        order, batch = self.order, self.batch
        for p in source:
            if self.child is None:
                if decoded < _DECODED_HERE:
                    decoded += 1
                    self.text(formatter.format(list(local.feed(p)), source.reading))
                    continue
                self.child = _Child(formatter, local)  # it goes on from the state learned here
            if _stateless(p):
                plain += 1
                if plain % _LOCAL_EVERY == 0:
                    self.text(formatter.format(list(local.feed(p)), source.reading))
                    continue
            order.append(None)
            batch.append(_packed(p, source.reading))
            if len(batch) >= _PACKETS_PER_BATCH:
                self.send()
                self.drain(0 if self.waiting > _MAX_WAITING else None)
        if self.child is not None:
            self.send()
            self.child.packets_out.send(None)
            self.drain(0)

    def close(self, finished: bool) -> None:
        if self.child is not None:
            self.child.close(finished)

    def text(self, text: str) -> None:
        """Text known here, written once the text of every packet before it is."""
        if not self.order:
            self.write(text)
            return
        self.order.append(text)
        self.waiting += len(text)

    def rows(self, text: str) -> None:
        """Rows the skimmer wrote; when much text waits for the child, wait for its answers."""
        self.text(text)
        if self.waiting > _MAX_WAITING:
            self.send()
            self.drain(_MAX_WAITING // 2)

    def send(self) -> None:
        if self.batch and self.child is not None:
            self.child.packets_out.send(self.batch)  # pickled here: the list can be reused
            self.batch.clear()

    def drain(self, until: int | None) -> None:
        """Write the text that is ready; with `until`, wait for the child's answers until at most that
        much text waits (0: until every packet's text is written)."""
        received = self.child.received if self.child is not None else None
        while True:
            while received is not None and not received.empty():
                self.take(received.get())
            text, self.waiting = _ready(self.order, self.remote, self.waiting)
            if text:
                self.write(text)
            if until is None or not self.order or (until and self.waiting <= until) or received is None:
                return
            self.take(received.get())

    def take(self, chunk: list[str] | None) -> None:
        """One batch of the child's texts; None when it ended (an error if texts are still due)."""
        if chunk is not None:
            self.remote.extend(_checked(chunk))
        elif self.order.count(None) > len(self.remote):
            _checked(chunk)


def _packed(p: TransportPacket, capture: int) -> tuple[Any, ...]:
    """A packet as the child reads it (plain values pickle fast), with the index of its capture."""
    src, dst = p.src, p.dst
    return (
        p.frame,
        p.time,
        src.ip,
        src.port,
        dst.ip,
        dst.port,
        p.transport,
        p.payload,
        p.gap_before,
        p.closes,
        capture,
    )


def _ready(order: deque[str | None], remote: deque[str], waiting: int) -> tuple[str, int]:
    """The text of the packets at the head of `order` whose text is known, taken off both queues,
    and how much of the text in `order` still waits."""
    parts = []
    while order:
        head = order[0]
        if head is None:
            if not remote:
                break
            head = remote.popleft()
        else:
            waiting -= len(head)
        order.popleft()
        parts.append(head)
    return "".join(parts), waiting


def _checked(chunk: list[str] | None) -> list[str]:
    if chunk is None:
        raise RuntimeError("the decoding process ended without finishing its output")
    if len(chunk) == 1 and chunk[0][:1] == _FAILED:
        raise RuntimeError(f"the decoding process failed:\n{chunk[0][1:]}")
    return chunk


def _receive(text_in: Connection, received: queue.SimpleQueue[list[str] | None]) -> None:
    """Runs in a thread: the child's texts, in order; None when it ends or dies."""
    try:
        while True:
            chunk = text_in.recv()
            if chunk is None:
                break
            received.put(chunk)
            if len(chunk) == 1 and chunk[0][:1] == _FAILED:
                break
    except (EOFError, OSError):
        pass
    received.put(None)


def _decode(
    packets_in: Connection,
    text_out: Connection,
    formatter: Any,
    extractor: RecordExtractor,
    parent_ends: tuple[Connection, ...],
) -> None:
    """The child: batches of packets in; per batch, the text of each packet's records out. Its
    extractor is the parent's as it was at the fork (TCP streams and channels learned so far)."""
    for end in parent_ends:  # else the input pipe would never report its end to this process
        end.close()
    try:
        endpoints: dict[tuple[str, int], Endpoint] = {}
        while True:
            try:
                batch = packets_in.recv()
            except EOFError:
                return  # the reader stopped early (an error, or the output was closed)
            if batch is None:
                break
            texts: list[str] = []
            for frame, time, src_ip, src_port, dst_ip, dst_port, transport, payload, gap, closes, capture in batch:
                if len(endpoints) > 65536:  # the same few recur; a scan of many ports need not be kept
                    endpoints.clear()
                src = endpoints.get((src_ip, src_port))
                if src is None:
                    src = endpoints[(src_ip, src_port)] = Endpoint(src_ip, src_port)
                dst = endpoints.get((dst_ip, dst_port))
                if dst is None:
                    dst = endpoints[(dst_ip, dst_port)] = Endpoint(dst_ip, dst_port)
                records: list[StunRecord] = list(
                    extractor.feed(
                        new_packet(
                            frame=frame,
                            time=time,
                            src=src,
                            dst=dst,
                            transport=transport,
                            payload=payload,
                            gap_before=gap,
                            closes=closes,
                        )
                    )
                )
                texts.append(formatter.format(records, capture) if records else "")
            text_out.send(texts)
        text_out.send(None)
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it
        import traceback

        try:
            text_out.send([_FAILED + traceback.format_exc()])
        except OSError:
            pass
    finally:
        text_out.close()
