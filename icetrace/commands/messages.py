"""`icetrace messages CAPTURE`: every STUN/TURN message and ChannelData frame, one row each."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO

from icetrace.capture.packet_source import PacketSource
from icetrace.commands import message_pipeline
from icetrace.commands.progress import Progress
from icetrace.records.extract import RecordExtractor
from icetrace.records.relayed import is_relayed_media
from icetrace.records.stun_record import StunRecord
from icetrace.tables.message_rows import LINE_COLUMNS, csv_line, line_row


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


def iter_records(
    paths: list[str], err: TextIO, engine: str = "native", *, media: bool = True, rows: RelayedRows | None = None
) -> Iterator[StunRecord]:
    """Every record of the captures, in capture order; warnings go to `err` at the end.

    `media=False` lets the reader count UDP relayed media instead of handing it on (some relayed
    media records may still come, to be left out by the caller). With `rows`, the C skimmer writes
    the rows of UDP relayed media there itself, when every record before them has come."""
    if engine == "tshark":
        from icetrace.capture.tshark_engine import converted

        for path in paths:
            with converted(path) as copy:
                yield from iter_records([str(copy)], err, media=media)
        return
    reading = _Reading(paths, err, media=media, rows=rows)
    extractor = RecordExtractor()
    for packet in reading.source:
        yield from extractor.feed(packet)
    reading.finish()


def _nowhere(text: str) -> None:
    raise RuntimeError("relayed media rows were written before their place in the output was set")


class RelayedRows:
    """Where the C skimmer writes the rows of UDP relayed media (a capture.reader.RowSink): to
    `target`, which puts them into the output after the text of every frame before them."""

    def __init__(self, fmt: str) -> None:
        self.format = fmt
        self.target: Callable[[str], None] = _nowhere

    def write(self, text: str) -> None:
        self.target(text)


class _Reading:
    """The captures' packet source, with the progress line on a terminal and the warnings at the end."""

    def __init__(self, paths: list[str], err: TextIO, *, media: bool = True, rows: RelayedRows | None = None) -> None:
        self.err = err
        self.progress = Progress(err) if err.isatty() else None
        # without media rows, UDP relayed media is counted by the reader, never decoded
        self.source = PacketSource(
            paths,
            progress=self.progress.update if self.progress else None,
            count_relayed=not media,
            relayed_rows=rows,
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
            return ",".join(LINE_COLUMNS) + "\n"
        if self.fmt == "table":
            return f"{'frame':>7} {'time':>17} {'src':>22} {'dst':>22} {'tr':3} {'message':34} {'details'}\n"
        return ""

    def format(self, records: Iterable[StunRecord]) -> str:
        if not self.media:
            records = [r for r in records if not is_relayed_media(r)]
        if self.fmt == "jsonl":
            return "".join([json.dumps(line_row(record)) + "\n" for record in records])
        if self.fmt == "csv":
            return "".join(map(csv_line, records))
        return "".join(map(_table_line, records))


def _table_line(record: StunRecord) -> str:
    row = line_row(record)
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
    media = not args.no_media
    formatter = Formatter(args.format, media=media)
    out.write(formatter.header())
    # the C skimmer writes relayed media rows when it is built (the Python path writes the same)
    rows = RelayedRows(args.format) if media and args.engine == "native" else None
    if args.engine == "native" and args.jobs != 1 and message_pipeline.available():
        reading = _Reading(args.capture, err, media=media, rows=rows)
        message_pipeline.write_texts(reading.source, formatter, out.write, rows)
        reading.finish()
        return 0
    batch: list[StunRecord] = []

    def records_then(text: str) -> None:
        if batch:
            out.write(formatter.format(batch))
            batch.clear()
        out.write(text)

    if rows is not None:
        rows.target = records_then
    for record in iter_records(args.capture, err, args.engine, media=media, rows=rows):
        batch.append(record)
        if len(batch) >= _BATCH:
            out.write(formatter.format(batch))
            batch.clear()
    out.write(formatter.format(batch))
    return 0
