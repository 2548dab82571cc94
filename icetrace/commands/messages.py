"""`icetrace messages CAPTURE`: every STUN/TURN message and ChannelData frame, one row each."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from icetrace.capture.packet_source import PacketSource
from icetrace.commands import message_pipeline
from icetrace.commands.progress import Progress
from icetrace.records.extract import RecordExtractor
from icetrace.records.relayed import is_relayed_media
from icetrace.records.stun_record import StunRecord
from icetrace.tables.schema import MESSAGE_LINE

COLUMNS = tuple(c.name for c in MESSAGE_LINE)  # the CSV header; JSONL keys are record_row's


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("messages", help="list every STUN/TURN message and ChannelData frame")
    parser.add_argument("capture", nargs="+", help="pcap, pcapng or Network Monitor file (gzip allowed)")
    parser.add_argument("--format", choices=("table", "csv", "jsonl"), default="table")
    parser.add_argument(
        "--no-media",
        action="store_true",
        help="leave out relayed media: ChannelData and Send/Data indications that carried no STUN",
    )
    parser.add_argument(
        "--engine",
        choices=("native", "tshark"),
        default="native",
        help="tshark: let tshark read the file (any format Wireshark reads)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        choices=(1, 2),
        default=2,
        help="2 (default): read in one process, decode and format in a second one; 1: one process",
    )
    parser.set_defaults(run=run)


def record_row(record: StunRecord) -> dict[str, Any]:
    """The documented row shape shared by every output format."""
    relay = None
    if record.relay is not None:
        relay = {
            "via": record.relay.via,
            "client": str(record.relay.client),
            "server": str(record.relay.server),
            "peer": str(record.relay.peer) if record.relay.peer else None,
            "channel": record.relay.channel,
        }
    return {
        "frame": record.frame,
        "time": round(record.time, 9),
        "src": str(record.src),
        "dst": str(record.dst),
        "transport": record.transport,
        "kind": record.kind,
        "dialect": record.dialect,
        "method": record.method,
        "class": record.cls,
        "type": record.type,
        "transaction_id": record.transaction_id,
        "error_code": record.error_code,
        "addresses": {name: str(ep) for name, ep in record.addresses.items()},
        "fingerprint": record.fingerprint,
        "attributes": list(record.attributes),
        "relay": relay,
        "anomalies": list(record.anomalies),
    }


def _quoted(text: str) -> str:
    """A CSV field as csv.writer's QUOTE_MINIMAL writes it."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_line(record: StunRecord) -> str:
    """The CSV line of `record_row`, written directly: csv.writer costs more than the decoding.

    Only the address list, attribute list, relay and anomalies can hold a delimiter or a
    quote; a test holds this to csv.writer's output on every record of the corpus."""
    relay = record.relay
    error_code = record.error_code
    return (
        f"{record.frame},{round(record.time, 9)!r},{record.src},{record.dst},{record.transport},{record.kind},"
        f"{record.dialect},{record.method},{record.cls},{record.type},{record.transaction_id},"
        f"{'' if error_code is None else error_code},"
        f"{_quoted(' '.join([f'{name}={ep}' for name, ep in record.addresses.items()]))},"
        f"{record.fingerprint},{_quoted(','.join(record.attributes))},"
        f"{_quoted(f'{relay.via} peer={relay.peer}') if relay else ''},{_quoted(','.join(record.anomalies))}\n"
    )


def iter_records(paths: list[str], err: TextIO, engine: str = "native", *, media: bool = True) -> Iterator[StunRecord]:
    """Every record of the captures, in capture order; warnings go to `err` at the end.

    `media=False` lets the reader count UDP relayed media instead of handing it on (some relayed
    media records may still come, to be left out by the caller)."""
    if engine == "tshark":
        from icetrace.capture.tshark_engine import converted

        for path in paths:
            with converted(path) as copy:
                yield from iter_records([str(copy)], err, media=media)
        return
    reading = _Reading(paths, err, media=media)
    extractor = RecordExtractor()
    for packet in reading.source:
        yield from extractor.feed(packet)
    reading.finish()


class _Reading:
    """The captures' packet source, with the progress line on a terminal and the warnings at the end."""

    def __init__(self, paths: list[str], err: TextIO, *, media: bool = True) -> None:
        self.err = err
        self.progress = Progress(err) if err.isatty() else None
        # without media rows, UDP relayed media is counted by the reader, never decoded
        self.source = PacketSource(
            paths, progress=self.progress.update if self.progress else None, count_relayed=not media
        )

    def finish(self) -> None:
        if self.progress:
            self.progress.close()
        for problem in self.source.problems:
            self.err.write(f"icetrace: warning: {problem}\n")


class Formatter:
    """Turns records into the text of one output format, a batch at a time."""

    def __init__(self, fmt: str, media: bool = True) -> None:
        self.fmt = fmt
        self.media = media  # False: relayed media rows are left out

    def header(self) -> str:
        if self.fmt == "csv":
            return ",".join(COLUMNS) + "\n"
        if self.fmt == "table":
            return f"{'frame':>7} {'time':>17} {'src':>22} {'dst':>22} {'tr':3} {'message':34} {'details'}\n"
        return ""

    def format(self, records: Iterable[StunRecord]) -> str:
        if not self.media:
            records = [r for r in records if not is_relayed_media(r)]
        if self.fmt == "jsonl":
            return "".join([json.dumps(record_row(record)) + "\n" for record in records])
        if self.fmt == "csv":
            return "".join(map(csv_line, records))
        return "".join(map(_table_line, records))


def _table_line(record: StunRecord) -> str:
    row = record_row(record)
    what = row["kind"] if row["kind"] == "channeldata" else f"{row['method']} {row['class']}"
    details = []
    if row["error_code"] is not None:
        details.append(f"error={row['error_code']}")
    details += [f"{k}={v}" for k, v in row["addresses"].items()]
    if row["relay"]:
        details.append(f"via {row['relay']['via']} peer={row['relay']['peer']}")
    if row["kind"] == "channeldata":
        details.append(f"channel=0x{row['type']:04x}")
    if row["fingerprint"] in ("bad", "ok-legacy"):
        details.append(f"fingerprint={row['fingerprint']}")
    return (
        f"{row['frame']:>7} {row['time']:>17.6f} {row['src']:>22} {row['dst']:>22} "
        f"{row['transport']:3} {what:34} {' '.join(details)}\n"
    )


_BATCH = 1024  # records per write: one system call per row is slow on a pipe or unbuffered stdout


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    formatter = Formatter(args.format, media=not args.no_media)
    out.write(formatter.header())
    if args.engine == "native" and args.jobs != 1 and message_pipeline.available():
        reading = _Reading(args.capture, err, media=not args.no_media)
        for text in message_pipeline.texts(reading.source, formatter):
            out.write(text)
        reading.finish()
        return 0
    batch: list[StunRecord] = []
    for record in iter_records(args.capture, err, args.engine, media=not args.no_media):
        batch.append(record)
        if len(batch) >= _BATCH:
            out.write(formatter.format(batch))
            batch.clear()
    out.write(formatter.format(batch))
    return 0
