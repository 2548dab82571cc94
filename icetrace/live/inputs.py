"""Where a live capture comes from: a pcap/pcapng stream on standard input (`tcpdump -w - |`,
`dumpcap -w -`), or a folder where dumpcap's ring buffer writes one file after another."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from icetrace.capture.input_file import STDIN
from icetrace.errors import InputError

CAPTURE_NAME_PARTS = (".pcap", ".pcapng", ".cap")
POLL_SECONDS = 0.5


def ring_files(
    folder: Path, *, follow: bool, poll: float = POLL_SECONDS, sleep: Callable[[float], None] = time.sleep
) -> Iterator[Path]:
    """The folder's capture files in name order (dumpcap numbers them), each once it is complete:
    once a later file exists, since the ring buffer writes one at a time. Without `follow` every
    file there now, the newest included, and then the end."""
    last: str | None = None  # files are read in name order: only names after this one are new
    while True:
        try:
            names = sorted(p.name for p in folder.iterdir() if p.is_file() and _capture_name(p.name))
        except OSError as exc:
            raise InputError(f"{folder}: cannot list: {exc.strerror}") from None
        fresh = [n for n in names if last is None or n > last]
        ready = fresh if not follow else fresh[:-1]
        for name in ready:
            last = name
            path = folder / name
            if path.exists():  # the ring buffer may have deleted it already
                yield path
        if not follow:
            return
        sleep(poll)


def _capture_name(name: str) -> bool:
    return any(part in name for part in CAPTURE_NAME_PARTS)


def live_paths(target: str, *, follow: bool) -> Iterator[Path]:
    """The capture files to read in turn: standard input, one file, or a ring-buffer folder."""
    if target == STDIN:
        return iter([Path(STDIN)])
    path = Path(target)
    if path.is_dir():
        return ring_files(path, follow=follow)
    if not path.exists():
        raise InputError(f"{target}: no such file or folder")
    return iter([path])
