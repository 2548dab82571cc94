"""`icetrace watch -|FILE|FOLDER`: tell each call's story and cause as the call ends, reading a
capture that is still being written (`tcpdump -U -w - | icetrace watch -`, or a folder where
`dumpcap -b filesize:...` rotates its ring buffer)."""

from __future__ import annotations

import argparse
import time
from typing import Any, TextIO

from icetrace.errors import InputError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "watch", help="tell each call's story as it ends, from a capture still being written"
    )
    parser.add_argument(
        "source",
        help="'-' (a pcap/pcapng stream on standard input), a capture file, or a ring-buffer folder",
    )
    parser.add_argument(
        "--idle",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="a session without checks, media or signaling for this long has ended (default 30: RFC 7675)",
    )
    parser.add_argument(
        "--no-follow",
        action="store_true",
        help="a folder: read the files there now, the newest too, and stop (default: wait for more)",
    )
    parser.add_argument("--json-lines", action="store_true", help="one JSON object per session instead of its story")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from icetrace.capture.packet_source import PacketSource
    from icetrace.live.inputs import live_paths
    from icetrace.live.tracker import CallTracker, Ended, WatchOptions
    from icetrace.report.json_lines import write_session as write_object
    from icetrace.report.text import Told, write_session

    if not args.idle > 0:
        raise InputError("--idle needs a positive number of seconds")
    paths = live_paths(args.source, follow=not args.no_follow)
    source = PacketSource([], count_relayed=True, live=True)
    sources = [args.source]

    def emit(ended: Ended) -> None:
        names = tracker.captures()
        if args.json_lines:
            reason = {"reason": ended.reason, "at": ended.at}
            write_object(ended.line, sources, out, ended=reason, ref=names.frame_json, files=names)
        else:
            stream = ended.line.story
            cause = ended.line.cause or "-"
            out.write(
                f"\n== {ended.line.label} ended ({ended.reason}, {_clock(ended.at)}): "
                f"{ended.line.outcome.upper()}, cause {cause}\n"
            )
            write_session(stream, ended.line.verdicts, out, told=Told(names, tracker.start or 0.0))
        out.flush()

    tracker = CallTracker(source, args.source, emit, WatchOptions(idle=args.idle))
    try:
        for packet in source.read_each(paths):
            tracker.feed(packet)
    except KeyboardInterrupt:
        pass
    tracker.finish()
    for problem in source.problems:
        err.write(f"icetrace: {problem}\n")
    return 0


def _clock(epoch: float) -> str:
    """The capture time as UTC, to the millisecond."""
    try:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))
    except (OverflowError, OSError, ValueError):
        return f"{epoch:.3f} s"
    return f"{stamp}.{int(epoch % 1 * 1000):03d} UTC"
