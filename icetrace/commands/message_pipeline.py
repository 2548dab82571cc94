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
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
from collections import deque
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

from icetrace.capture.packet_source import PacketSource
from icetrace.records.endpoint import Endpoint
from icetrace.records.extract import RecordExtractor
from icetrace.records.stun_record import StunRecord
from icetrace.records.transport_packet import TransportPacket, new_packet

_PACKETS_PER_BATCH = 512
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


def texts(source: PacketSource, formatter: Any) -> Iterator[str]:
    """The formatted text of every record of `source`, in packet order."""
    context = multiprocessing.get_context("fork")
    packets_in, packets_out = context.Pipe(duplex=False)  # (receiving end, sending end)
    text_in, text_out = context.Pipe(duplex=False)
    child = context.Process(target=_decode, args=(packets_in, text_out, formatter, (packets_out, text_in)), daemon=True)
    child.start()
    packets_in.close()
    text_out.close()
    received: queue.SimpleQueue[list[str] | None] = queue.SimpleQueue()
    receiver = threading.Thread(target=_receive, args=(text_in, received), daemon=True)
    receiver.start()
    # per packet, in order: its text when decoded here, None when the child's text is due
    order: deque[str | None] = deque()
    remote: deque[str] = deque()
    local = RecordExtractor()
    finished = False
    try:
        batch: list[tuple[Any, ...]] = []
        plain = 0
        for p in source:
            if _stateless(p):
                plain += 1
                if plain % _LOCAL_EVERY == 0:
                    order.append(formatter.format(list(local.feed(p)), source.reading))
                    continue
            order.append(None)
            batch.append(_packed(p, source.reading))
            if len(batch) >= _PACKETS_PER_BATCH:
                packets_out.send(batch)
                batch = []
                while not received.empty():
                    remote.extend(_checked(received.get()))
                text = _ready(order, remote)
                if text:
                    yield text
        if batch:
            packets_out.send(batch)
        packets_out.send(None)
        while True:
            text = _ready(order, remote)
            if text:
                yield text
            if not order:
                break
            remote.extend(_checked(received.get()))
        finished = True
    finally:
        packets_out.close()  # an unfinished child sees the end of its input and stops
        child.join(timeout=None if finished else 5)
        if child.is_alive():
            child.terminate()
            child.join()
        receiver.join(timeout=5)
        text_in.close()


def _packed(p: TransportPacket, capture: int) -> tuple[Any, ...]:
    """A packet as the child reads it (plain values pickle fast), with the index of its capture."""
    return (p.frame, p.time, p.src.ip, p.src.port, p.dst.ip, p.dst.port, p.transport, p.payload, p.gap_before, capture)


def _ready(order: deque[str | None], remote: deque[str]) -> str:
    """The text of the packets at the head of `order` whose text is known, taken off both queues."""
    parts = []
    while order:
        head = order[0]
        if head is None:
            if not remote:
                break
            head = remote.popleft()
        order.popleft()
        parts.append(head)
    return "".join(parts)


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


def _decode(packets_in: Connection, text_out: Connection, formatter: Any, parent_ends: tuple[Connection, ...]) -> None:
    """The child: batches of packets in; per batch, the text of each packet's records out."""
    for end in parent_ends:  # else the input pipe would never report its end to this process
        end.close()
    try:
        extractor = RecordExtractor()
        endpoints: dict[tuple[str, int], Endpoint] = {}
        while True:
            try:
                batch = packets_in.recv()
            except EOFError:
                return  # the reader stopped early (an error, or the output was closed)
            if batch is None:
                break
            texts: list[str] = []
            for frame, time, src_ip, src_port, dst_ip, dst_port, transport, payload, gap, capture in batch:
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
