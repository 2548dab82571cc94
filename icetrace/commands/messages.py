"""`icetrace messages CAPTURE`: every STUN/TURN message and ChannelData frame, one row each."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TextIO

from icetrace.capture.packet_source import PacketSource
from icetrace.commands import message_pipeline
from icetrace.commands.progress import Progress
from icetrace.records.capture_set import display_names
from icetrace.records.extract import RecordExtractor
from icetrace.records.relayed import is_relayed_media
from icetrace.records.stun_record import StunRecord
from icetrace.tables.message_rows import LINE_COLUMNS, csv_field, csv_line, line_row


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
) -> Iterator[tuple[int, StunRecord]]:
    """Every record of the captures, in capture order, with the index of the capture that held it;
    warnings go to `err` at the end.

    `media=False` lets the reader count UDP relayed media instead of handing it on (some relayed
    media records may still come, to be left out by the caller). With `rows`, the C skimmer writes
    the rows of UDP relayed media there itself, when every record before them has come."""
    if engine == "tshark":
        from icetrace.capture.tshark_engine import converted

        for index, path in enumerate(paths):
            with converted(path) as copy:
                yield from ((index, r) for _, r in iter_records([str(copy)], err, media=media))
        return
    reading = _Reading(paths, err, media=media, rows=rows)
    extractor = RecordExtractor()
    source = reading.source
    for packet in source:
        for record in extractor.feed(packet):
            yield source.reading, record
    reading.finish()


def _nowhere(text: str) -> None:
    raise RuntimeError("relayed media rows were written before their place in the output was set")


class RelayedRows:
    """Where the C skimmer writes the rows of UDP relayed media (a capture.reader.RowSink): to
    `target`, which puts them into the output after the text of every frame before them. With
    several captures, each row is led by the capture being read, as `formatter` leads its lines."""

    def __init__(self, formatter: Formatter) -> None:
        self.format = formatter.fmt
        self.formatter = formatter
        self.target: Callable[[str], None] = _nowhere
        self.source: PacketSource | None = None  # the reading, which says which capture it is in

    def write(self, text: str) -> None:
        if self.formatter.captures and self.source is not None:
            text = self.formatter.led(text, self.source.reading)
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
        if rows is not None:
            rows.source = self.source

    def finish(self) -> None:
        if self.progress:
            self.progress.close()
        for problem in self.source.problems:
            self.err.write(f"icetrace: warning: {problem}\n")


class Formatter:
    """Turns records into the text of one output format, a batch at a time. With several captures
    (`captures`: their names) every line starts with the capture that held the record."""

    def __init__(self, fmt: str, media: bool = True, captures: Sequence[str] = ()) -> None:
        self.fmt = fmt
        self.media = media  # False: relayed media rows are left out
        self.captures = tuple(captures) if len(captures) > 1 else ()
        self._csv_prefixes = [csv_field(name) + "," for name in self.captures]
        width = max((len(name) for name in self.captures), default=0)
        self._table_prefixes = [f"{name:<{width}} " for name in self.captures]
        self._table_first = f"{'capture':<{width}} " if self.captures else ""

    def header(self) -> str:
        if self.fmt == "csv":
            return ",".join([*(["capture"] if self.captures else []), *LINE_COLUMNS]) + "\n"
        if self.fmt == "table":
            columns = f"{'frame':>7} {'time':>17} {'src':>22} {'dst':>22} {'tr':3} {'message':34} {'details'}"
            return f"{self._table_first}{columns}\n"
        return ""

    def format(self, records: Iterable[StunRecord], capture: int = 0) -> str:
        """The lines of records the `capture`-th capture held."""
        if not self.media:
            records = [r for r in records if not is_relayed_media(r)]
        if self.fmt == "jsonl":
            named = {"capture": self.captures[capture]} if self.captures else {}
            return "".join([json.dumps({**named, **line_row(record)}) + "\n" for record in records])
        lines = map(csv_line, records) if self.fmt == "csv" else map(_table_line, records)
        if not self.captures:
            return "".join(lines)
        prefix = (self._csv_prefixes if self.fmt == "csv" else self._table_prefixes)[capture]
        return "".join([prefix + line for line in lines])

    def led(self, text: str, capture: int) -> str:
        """Lines formatted elsewhere (the C skimmer's rows, one capture's) led by the `capture`-th
        capture's name as format() leads its own."""
        if not self.captures or not text:
            return text
        if self.fmt == "jsonl":  # {"capture": NAME, "frame": ...}
            lead = '{"capture": ' + json.dumps(self.captures[capture]) + ", "
            return "".join(lead + line[1:] + "\n" for line in text[:-1].split("\n"))
        prefix = (self._csv_prefixes if self.fmt == "csv" else self._table_prefixes)[capture]
        return "".join(prefix + line + "\n" for line in text[:-1].split("\n"))


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
    formatter = Formatter(args.format, media=media, captures=display_names(args.capture))
    out.write(formatter.header())
    # the C skimmer writes relayed media rows when it is built (the Python path writes the same)
    rows = RelayedRows(formatter) if media and args.engine == "native" else None
    if args.engine == "native" and args.jobs != 1 and message_pipeline.available():
        reading = _Reading(args.capture, err, media=media, rows=rows)
        message_pipeline.write_texts(reading.source, formatter, out.write, rows)
        reading.finish()
        return 0
    batch: list[StunRecord] = []
    held_by = 0

    def records_then(text: str) -> None:
        if batch:
            out.write(formatter.format(batch, held_by))
            batch.clear()
        out.write(text)

    if rows is not None:
        rows.target = records_then
    for capture, record in iter_records(args.capture, err, args.engine, media=media, rows=rows):
        if len(batch) >= _BATCH or capture != held_by:
            out.write(formatter.format(batch, held_by))
            batch.clear()
            held_by = capture
        batch.append(record)
    out.write(formatter.format(batch, held_by))
    return 0
