"""`icetrace messages` on two cores: reading here, decoding and formatting in a forked child.

On a gigabyte capture, reading (the C skimmer and the packet source) and decoding
(the dissectors' codec, one record per message, then the output format) each take
about half the time. This process sends the packet source's transport payloads in
batches through a pipe to a child that runs the record extractor and the formatter
and sends text back; a thread here receives that text, so neither side can block the
other on a full pipe. Records keep capture order, and the output is the same bytes
the one-process path writes (a test compares them).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

from icetrace.capture.packet_source import PacketSource
from icetrace.records.endpoint import Endpoint
from icetrace.records.extract import RecordExtractor
from icetrace.records.stun_record import StunRecord
from icetrace.records.transport_packet import TransportPacket

_PACKETS_PER_BATCH = 512
_FAILED = b"\0"  # first byte of the child's report of an exception


def available() -> bool:
    """Two cores and fork (the child inherits the loaded modules instead of importing them again)."""
    return (os.cpu_count() or 1) > 1 and "fork" in multiprocessing.get_all_start_methods()


def texts(source: PacketSource, formatter: Any) -> Iterator[str]:
    """The formatted text of every record of `source`, in order, decoded in a child process."""
    context = multiprocessing.get_context("fork")
    packets_in, packets_out = context.Pipe(duplex=False)  # (receiving end, sending end)
    text_in, text_out = context.Pipe(duplex=False)
    child = context.Process(target=_decode, args=(packets_in, text_out, formatter, (packets_out, text_in)), daemon=True)
    child.start()
    packets_in.close()
    text_out.close()
    received: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    receiver = threading.Thread(target=_receive, args=(text_in, received), daemon=True)
    receiver.start()
    finished = False
    try:
        batch: list[tuple[Any, ...]] = []
        for p in source:
            batch.append((p.frame, p.time, p.src.ip, p.src.port, p.dst.ip, p.dst.port, p.transport, p.payload))
            if len(batch) >= _PACKETS_PER_BATCH:
                packets_out.send(batch)
                batch = []
                while not received.empty():
                    yield _text(received.get())
        if batch:
            packets_out.send(batch)
        packets_out.send(None)
        while True:
            chunk = received.get()
            if chunk is None:
                break
            yield _text(chunk)
        finished = True
    finally:
        packets_out.close()  # an unfinished child sees the end of its input and stops
        child.join(timeout=None if finished else 5)
        if child.is_alive():
            child.terminate()
            child.join()
        receiver.join(timeout=5)
        text_in.close()


def _text(chunk: bytes | None) -> str:
    if chunk is None:
        raise RuntimeError("the decoding process ended without finishing its output")
    if chunk[:1] == _FAILED:
        raise RuntimeError(f"the decoding process failed:\n{chunk[1:].decode()}")
    return chunk.decode()


def _receive(text_in: Connection, received: queue.SimpleQueue[bytes | None]) -> None:
    """Runs in a thread: text from the child, in order; None at the end (or if the child dies)."""
    try:
        while True:
            chunk = text_in.recv_bytes()
            if not chunk:
                break
            received.put(chunk)
            if chunk[:1] == _FAILED:
                break
    except (EOFError, OSError):
        pass
    received.put(None)


def _decode(packets_in: Connection, text_out: Connection, formatter: Any, parent_ends: tuple[Connection, ...]) -> None:
    """The child: packets in, formatted text out (an empty message marks the end)."""
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
            records: list[StunRecord] = []
            for frame, time, src_ip, src_port, dst_ip, dst_port, transport, payload in batch:
                src = endpoints.get((src_ip, src_port))
                if src is None:
                    src = endpoints[(src_ip, src_port)] = Endpoint(src_ip, src_port)
                dst = endpoints.get((dst_ip, dst_port))
                if dst is None:
                    dst = endpoints[(dst_ip, dst_port)] = Endpoint(dst_ip, dst_port)
                records.extend(extractor.feed(TransportPacket(frame, time, src, dst, transport, payload)))
            if records:
                text_out.send_bytes(formatter.format(records).encode())
        text_out.send_bytes(b"")
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it
        import traceback

        try:
            text_out.send_bytes(_FAILED + traceback.format_exc().encode())
        except OSError:
            pass
    finally:
        text_out.close()
