"""What every capture format module shares: the frames it yields, the damage it records, the
protocols that join a format to `CaptureReader` without either importing the other, and what an
annotated copy (`icetrace annotate`) asks of a format."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

# A resynchronisation after damage reads a small window first, then doubling ones: its cost follows
# the distance to the next intact record, so many damaged records close together stay linear
FIRST_RESYNC_WINDOW = 4096
RESYNC_WINDOW = 1 << 20


@dataclass(slots=True)
class Frame:
    """One captured frame: Wireshark's frame number, epoch time, link type, bytes.

    Read-only by convention; not frozen, because a frozen __init__ is slow per frame."""

    number: int
    time: float
    linktype: int
    data: bytes
    orig_len: int


@dataclass(slots=True)
class ReadProblem:
    """Damage found while reading; analysis of the other frames goes on."""

    path: str
    offset: int  # in the file; -1 when the damage is not in the file's structure
    frame: int  # the frame number at which the damage starts; 0 when the damage is below the frames (gzip)
    message: str

    def __str__(self) -> str:
        # no offset: damage seen above the file's records (a TCP stream's lost bytes);
        # no frame: damage below them (a gzip stream's)
        where = ", ".join(
            ([f"offset {self.offset}"] if self.offset >= 0 else []) + ([f"frame {self.frame}"] if self.frame else [])
        )
        return f"{self.path}: {where}: {self.message}" if where else f"{self.path}: {self.message}"


# (src packed, sport, dst packed, dport, kind, first frame, first time, last frame, last time, packets, bytes)
MediaSink = Callable[[bytes, int, bytes, int, str, int, float, int, float, int, int], None]
# (relayed media counted: (via, src packed, sport, dst packed, dport, channel, peer packed or None, peer port,
#  kind, first frame, first time, last frame, last time, packets, bytes) each; the latest counted indication's time)
RelayedSink = Callable[[list[tuple[Any, ...]], float | None], None]
Progress = Callable[[int, int], None]


class RowSink(Protocol):
    """Where the C skimmer's rows of relayed media go (`icetrace messages`): their format, and each
    run of rows, handed over once every frame before them has been read."""

    format: str  # "csv", "jsonl" or "table"

    def write(self, text: str) -> None: ...


class SkimmedBody(Protocol):
    """A file body read through a media skimmer: frames, and what reading them found."""

    problems: list[ReadProblem]
    bytes_read: int
    end_time: float | None  # the latest frame walked and not handed back

    def __iter__(self) -> Iterator[Frame]: ...

    def ignore_tcp(self, src: bytes, sport: int, dst: bytes, dport: int, ignored: bool = True) -> None: ...

    def tcp_listed(self, frame: int) -> int: ...

    def report_counts(self) -> None:
        """Hand the media counted so far to the sinks now, and count afresh."""
        ...


class Reading(Protocol):
    """The reader as a format module sees it (`CaptureReader` is one): where damage goes, how far
    reading got, and where skimmed media is counted (no sink: every frame is built)."""

    path: Path
    problems: list[ReadProblem]
    bytes_read: int
    media_sink: MediaSink | None
    relayed_sink: RelayedSink | None  # with a media sink: UDP relayed media counted too
    relayed_rows: RowSink | None  # with a media sink: the rows of UDP relayed media written by the skimmer
    progress: Progress | None

    def problem(self, offset: int, frame: int, message: str) -> None: ...

    def follow(self, body: SkimmedBody) -> Iterator[Frame]:
        """The frames of a skimmed body, keeping `bytes_read` and `problems` up to date."""
        ...


@dataclass
class Copying:
    """An annotated copy as a format writes it: the notes for each frame number, the frames whose
    bytes are kept (None: all; the others stay numbered and timed, with no bytes), and where the
    damage skipped while copying goes. Frames are numbered as the format's reader numbers them."""

    path: str
    comments: Mapping[int, Sequence[str]]
    keep: Container[int] | None
    problems: list[ReadProblem]

    def notes(self, number: int) -> Sequence[str]:
        return self.comments.get(number, ())

    def blank(self, number: int) -> bool:
        """Whether frame `number` is copied without its bytes."""
        return self.keep is not None and number not in self.keep


class CaptureFormat(Protocol):
    """One capture file format: told by its first four bytes, read from the start of the file, and
    copied as pcapng with notes for `icetrace annotate`."""

    name: str  # as reported in CaptureReader.format
    title: str  # as named in messages
    magics: tuple[bytes, ...]  # the file's first four bytes

    def read(self, fh: BinaryIO, reading: Reading) -> Iterator[Frame]: ...

    def copy_as_pcapng(self, fh: BinaryIO, copying: Copying) -> Iterator[bytes]:
        """The file (`fh` at its start) as pcapng blocks, frames numbered and timed as `read` gives
        them, with `copying.notes(number)` as comments on each."""
        ...
