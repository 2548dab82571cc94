"""The second engine: let tshark read what the native readers cannot, and decrypt TLS.

`tshark -r IN -w OUT -F pcapng` rewrites any format Wireshark reads (snoop, ERF, nettl,
...) as pcapng with the same frames in the same order, so frame numbers stay Wireshark's;
the native pipeline then reads that. For SIP over TLS, tshark decrypts with the user's key
log (or RSA key) and `-z follow,tls,raw` gives each stream's plaintext per direction; the signaling
readers take it from there as they take plain TCP.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from icetrace.errors import InputError

TIMEOUT = 600


def _tshark() -> str:
    tshark = shutil.which("tshark")
    if tshark is None:
        raise InputError("--engine tshark needs tshark (Debian package tshark)")
    return tshark


@contextmanager
def converted(path: str | Path) -> Iterator[Path]:
    """A temporary pcapng copy of `path` written by tshark, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="icetrace-") as tmp:
        out = Path(tmp) / "converted.pcapng"
        proc = subprocess.run(
            [_tshark(), "-n", "-r", str(path), "-F", "pcapng", "-w", str(out)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        if proc.returncode != 0 or not out.exists():
            message = (proc.stderr.strip().splitlines() or ["tshark could not read it"])[-1]
            raise InputError(f"{path}: {message}")
        yield out


def _tls_options(keylog: str | Path | None, rsa_key: str | Path | None) -> list[str]:
    options = []
    if keylog is not None:
        options += ["-o", f"tls.keylog_file:{keylog}"]
    if rsa_key is not None:
        options += ["-o", f'uat:rsa_keys:"{rsa_key}",""']
    return options


def tls_plaintext(
    path: str | Path, keylog: str | Path | None = None, rsa_key: str | Path | None = None
) -> list[tuple[str, int, float, list[tuple[bool, bytes]]]]:
    """Every decryptable TLS stream of a capture: (stream, first frame, its time, [(from server?, bytes)])."""
    tshark = _tshark()
    options = _tls_options(keylog, rsa_key)
    listing = subprocess.run(
        [
            tshark,
            "-n",
            *options,
            "-r",
            str(path),
            "-Y",
            "tls",
            "-T",
            "fields",
            "-e",
            "tcp.stream",
            "-e",
            "frame.number",
            "-e",
            "frame.time_epoch",
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    first: dict[str, tuple[int, float]] = {}
    for line in listing.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0] and parts[0] not in first:
            first[parts[0]] = (int(parts[1]), float(parts[2]))
    streams = []
    for stream, (frame, time) in first.items():
        follow = subprocess.run(
            [tshark, "-n", *options, "-r", str(path), "-q", "-z", f"follow,tls,raw,{stream}"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        chunks: list[tuple[bool, bytes]] = []
        for line in follow.stdout.splitlines():
            reverse = line.startswith("\t")
            text = line.strip()
            if not text or not all(c in "0123456789abcdef" for c in text) or len(text) % 2:
                continue
            chunks.append((reverse, bytes.fromhex(text)))
        streams.append((stream, frame, time, chunks))
    return streams
