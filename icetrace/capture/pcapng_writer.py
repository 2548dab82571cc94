"""Copy a capture as pcapng with packet comments (opt_comment) on chosen frames.

The frames keep their numbers, bytes and timestamps, so Wireshark shows the copy exactly as
it shows the original plus the comments. Each capture format writes its own copy
(`CaptureFormat.copy_as_pcapng`, with the blocks of pcapng_blocks.py): pcapng input block by
block, pcap and Network Monitor input in one section written for them. Frame numbers are
counted as the reader counts them, damaged records skipped as the reader skips them.
"""

from __future__ import annotations

import io
from collections.abc import Container, Mapping, Sequence
from pathlib import Path
from typing import cast

from icetrace.capture.formats import registry
from icetrace.capture.formats.base import Copying, ReadProblem
from icetrace.capture.input_file import open_capture
from icetrace.errors import InputError

Comments = Mapping[int, Sequence[str]]


def write_annotated(
    source: str | Path, out: str | Path, comments: Comments, keep: Container[int] | None = None
) -> list[ReadProblem]:
    """Write `source` to `out` as pcapng, with `comments[frame]` added to each frame; returns
    the damage skipped while copying. Frames not in `keep` (when given) stay, numbered and
    timed, with no bytes captured: a display-filtered copy whose frame numbers are the original's."""
    problems: list[ReadProblem] = []
    fh, _gz = open_capture(Path(source))
    with fh:
        fmt = registry.format_of(cast(io.BufferedReader, fh).peek(4)[:4])
        if fmt is None:
            raise InputError(f"{source}: not a capture file icetrace can copy ({registry.names()})")
        blocks = fmt.copy_as_pcapng(fh, Copying(str(source), comments, keep, problems))
        try:
            with open(out, "wb") as sink:
                for block in blocks:
                    sink.write(block)
        except OSError as exc:
            raise InputError(f"{out}: cannot write: {exc.strerror or exc}") from None
    return problems
