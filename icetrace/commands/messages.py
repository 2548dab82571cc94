"""`icetrace messages CAPTURE`: every STUN/TURN message and ChannelData frame, one row each."""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterator
from typing import Any, TextIO

from icetrace.capture.packet_source import PacketSource
from icetrace.commands.progress import Progress
from icetrace.records.extract import RecordExtractor
from icetrace.records.stun_record import StunRecord

COLUMNS = (
    "frame",
    "time",
    "src",
    "dst",
    "transport",
    "kind",
    "dialect",
    "method",
    "class",
    "type",
    "transaction_id",
    "error_code",
    "addresses",
    "fingerprint",
    "attributes",
    "relay",
    "anomalies",
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("messages", help="list every STUN/TURN message and ChannelData frame")
    parser.add_argument("capture", nargs="+", help="pcap, pcapng or Network Monitor file (gzip allowed)")
    parser.add_argument("--format", choices=("table", "csv", "jsonl"), default="table")
    parser.add_argument(
        "--engine",
        choices=("native", "tshark"),
        default="native",
        help="tshark: let tshark read the file (any format Wireshark reads)",
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


def csv_cells(record: StunRecord) -> tuple[Any, ...]:
    """The row of `record_row` flattened for CSV, built straight from the record (the hot path)."""
    relay = record.relay
    return (
        record.frame,
        round(record.time, 9),
        str(record.src),
        str(record.dst),
        record.transport,
        record.kind,
        record.dialect,
        record.method,
        record.cls,
        record.type,
        record.transaction_id,
        record.error_code,
        " ".join([f"{name}={ep}" for name, ep in record.addresses.items()]),
        record.fingerprint,
        ",".join(record.attributes),
        f"{relay.via} peer={relay.peer}" if relay else "",
        ",".join(record.anomalies),
    )


def iter_records(paths: list[str], err: TextIO, engine: str = "native") -> Iterator[StunRecord]:
    if engine == "tshark":
        from icetrace.capture.tshark_engine import converted

        for path in paths:
            with converted(path) as copy:
                yield from iter_records([str(copy)], err)
        return
    progress = Progress(err) if err.isatty() else None
    source = PacketSource(paths, progress=progress.update if progress else None)
    extractor = RecordExtractor()
    for packet in source:
        yield from extractor.feed(packet)
    if progress:
        progress.close()
    for problem in source.problems:
        err.write(f"icetrace: warning: {problem}\n")


class _Batched:
    """Collects lines and writes them in blocks: with PYTHONUNBUFFERED set, or a pipe
    as stdout, one write per row would be one system call per row."""

    def __init__(self, out: TextIO, lines: int = 1024) -> None:
        self.out = out
        self.lines = lines
        self.pending: list[str] = []

    def write(self, text: str) -> None:
        self.pending.append(text)
        if len(self.pending) >= self.lines:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.out.write("".join(self.pending))
            self.pending.clear()


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    batched = _Batched(out)
    try:
        _write_rows(args, batched, err)
    finally:
        batched.flush()
    return 0


def _write_rows(args: argparse.Namespace, out: Any, err: TextIO) -> None:
    records = iter_records(args.capture, err, args.engine)
    if args.format == "jsonl":
        for record in records:
            out.write(json.dumps(record_row(record)) + "\n")
    elif args.format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for record in records:
            writer.writerow(csv_cells(record))  # csv writes None as an empty cell
    else:
        out.write(f"{'frame':>7} {'time':>17} {'src':>22} {'dst':>22} {'tr':3} {'message':34} {'details'}\n")
        for row in map(record_row, records):
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
            out.write(
                f"{row['frame']:>7} {row['time']:>17.6f} {row['src']:>22} {row['dst']:>22} "
                f"{row['transport']:3} {what:34} {' '.join(details)}\n"
            )
