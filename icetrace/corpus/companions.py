"""Which files of a corpus folder are captures, and which companions (SDP, client logs, TLS key
logs, webrtc-internals dumps) go with each, so that a folder describes itself.

The convention (README "Corpus regression"):

- A capture is a `.pcap`, `.pcapng`, `.cap` or `.gz` file. Where `<stem>.pcap` exists, `<stem>.pcapng`
  and `<stem>.cap` are the same recording in other formats and are not checked again.
- `<capture>.companions.json` (e.g. `left-lan.pcap.companions.json`), when present, lists the
  companions and nothing is guessed: `{"sdp": [...], "logs": [...], "tls_keylog": "..."}`, paths
  relative to the capture's folder.
- Otherwise a folder is one call seen from one or more taps, and these files in it go with every
  capture in it: `*.sdp` (names with "offer" first, "answer" last, the rest by name), `*.uccapilog`,
  `*.webrtc-internals.json`, `*.keylog`; and, for one capture only, `<stem>.log` and `<stem>.*.sdp`
  (`<stem>` = the capture's name without its suffix). Other files (`coturn.log`, `truth.json`...)
  are not companions.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from icetrace.errors import InputError

CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".gz")
OTHER_FORMATS = (".pcapng", ".cap")  # skipped beside a .pcap of the same stem
GOLDEN_SUFFIX = ".expected.json"
COMPANIONS_SUFFIX = ".companions.json"
MAX_COMPANIONS_BYTES = 1 << 20


@dataclass(frozen=True)
class CaptureTask:
    """One capture and its companions, as paths or URLs a worker can open."""

    capture: str
    sdp: tuple[str, ...] = ()
    logs: tuple[str, ...] = ()
    tls_keylog: str | None = None
    extras: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def golden(self) -> str:
        return self.capture + GOLDEN_SUFFIX


def is_url(name: str) -> bool:
    return "://" in name and not name.startswith("file://")


def _strip_file_scheme(name: str) -> str:
    return name[len("file://") :] if name.startswith("file://") else name


def _is_capture(name: str) -> bool:
    return name.endswith(CAPTURE_SUFFIXES) and not name.endswith(GOLDEN_SUFFIX)


def _stem(name: str) -> str:
    base = name[:-3] if name.endswith(".gz") else name
    return base.rsplit(".", 1)[0] if "." in base else base


def _sdp_order(name: str) -> tuple[int, str]:
    lowered = name.lower()
    return (0 if "offer" in lowered else 2 if "answer" in lowered else 1, name)


def folder_tasks(folder: str, names: list[str], read: Any) -> list[CaptureTask]:
    """The captures in one folder (file names only, no sub-folders) with their companions.

    `read(path) -> bytes` reads a `.companions.json`; `folder` is joined with '/' (a local path or URL).
    """
    present = set(names)
    captures = sorted(n for n in names if _is_capture(n))
    captures = [
        n
        for n in captures
        if not (n.endswith(OTHER_FORMATS) and f"{_stem(n)}.pcap" in present and f"{_stem(n)}.pcap" != n)
    ]
    stems = {_stem(n) for n in captures}

    def join(name: str) -> str:
        return posixpath.join(folder, name) if is_url(folder) else str(Path(folder) / name)

    shared_sdp = sorted(
        (n for n in names if n.endswith(".sdp") and not any(n.startswith(s + ".") for s in stems)), key=_sdp_order
    )
    shared_logs = sorted(n for n in names if n.endswith((".uccapilog", ".webrtc-internals.json")))
    keylogs = sorted(n for n in names if n.endswith(".keylog"))
    tasks = []
    for name in captures:
        listing = name + COMPANIONS_SUFFIX
        if listing in present:
            tasks.append(_listed(join(name), join(listing), read, join))
            continue
        stem = _stem(name)
        own_sdp = sorted((n for n in names if n.startswith(stem + ".") and n.endswith(".sdp")), key=_sdp_order)
        own_logs = [f"{stem}.log"] if f"{stem}.log" in present else []
        own_key = [n for n in keylogs if n == f"{stem}.keylog"]
        key = own_key[0] if own_key else keylogs[0] if len(keylogs) == 1 else None
        tasks.append(
            CaptureTask(
                join(name),
                sdp=tuple(join(n) for n in [*shared_sdp, *own_sdp]),
                logs=tuple(join(n) for n in [*shared_logs, *own_logs]),
                tls_keylog=join(key) if key else None,
            )
        )
    return tasks


def _listed(capture: str, listing: str, read: Any, join: Any) -> CaptureTask:
    try:
        data = read(listing)
        if len(data) > MAX_COMPANIONS_BYTES:
            raise ValueError("larger than 1 MB")
        doc = json.loads(data)
        if not isinstance(doc, dict) or set(doc) - {"sdp", "logs", "tls_keylog"}:
            raise ValueError('expected {"sdp": [...], "logs": [...], "tls_keylog": "..."}')
        sdp, logs, key = doc.get("sdp", []), doc.get("logs", []), doc.get("tls_keylog")
        if not all(isinstance(x, list) and all(isinstance(n, str) for n in x) for x in (sdp, logs)):
            raise ValueError("sdp and logs must be lists of file names")
        if key is not None and not isinstance(key, str):
            raise ValueError("tls_keylog must be a file name")
    except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return CaptureTask(capture, extras={"setup_error": f"{listing}: {exc}"})
    return CaptureTask(
        capture,
        sdp=tuple(join(n) for n in sdp),
        logs=tuple(join(n) for n in logs),
        tls_keylog=join(key) if key else None,
    )


def discover(roots: list[str]) -> list[CaptureTask]:
    """Every capture under the roots (local directories, `file://` or fsspec URLs), in name order."""
    tasks: list[CaptureTask] = []
    for root in roots:
        if is_url(root):
            tasks += _discover_url(root)
            continue
        path = Path(_strip_file_scheme(root))
        if path.is_file():  # one capture: itself with the companions beside it
            names = sorted(p.name for p in path.parent.iterdir() if p.is_file())
            found = folder_tasks(str(path.parent), names, lambda n: Path(n).read_bytes())
            tasks += [t for t in found if Path(t.capture).name == path.name]
            if not any(Path(t.capture).name == path.name for t in found):
                raise InputError(f"{root}: not a capture (a folder of captures, or a .pcap, .pcapng or .cap file)")
            continue
        if not path.is_dir():
            raise InputError(f"{root}: no such file or directory")
        folders: dict[Path, list[str]] = {}
        for p in sorted(path.rglob("*")):
            if p.is_file():
                folders.setdefault(p.parent, []).append(p.name)
        for folder in sorted(folders):
            tasks += folder_tasks(str(folder), folders[folder], lambda n: Path(n).read_bytes())
    return tasks


def _discover_url(root: str) -> list[CaptureTask]:
    try:
        import fsspec
    except ImportError:
        raise InputError(f"{root}: reading a URL needs fsspec (pip install 'icetrace[dask]')") from None
    try:
        fs, base = fsspec.core.url_to_fs(root)
        found = sorted(fs.find(base))
    except (OSError, ValueError, ImportError) as exc:
        raise InputError(f"{root}: cannot list: {exc}") from None
    if not found:
        raise InputError(f"{root}: no such directory")
    protocol = root.split("://", 1)[0]
    folders: dict[str, list[str]] = {}
    for name in found:
        folder, _, leaf = name.rpartition("/")
        folders.setdefault(folder, []).append(leaf)

    def read(url: str) -> bytes:
        with fsspec.open(url, "rb") as fh:
            data: bytes = fh.read(MAX_COMPANIONS_BYTES + 1)
            return data

    tasks = []
    for folder in sorted(folders):
        tasks += folder_tasks(f"{protocol}://{folder}", folders[folder], read)
    return tasks
