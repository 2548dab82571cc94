"""Where the tests' data lives: the one module that knows those paths, all inside the repository.

Data-driven parametrisations take their cases from `cases()`; test bodies take files through
`require()` or `require_files()`. Missing data is a failing test, never a smaller one: a folder
that yields no file becomes one case holding a `Missing`, which `tests/conftest.py` fails before
the test runs, and `require*()` fail the test that asked.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = ROOT / "captures"  # the project's own recordings and scenarios (captures/README.md)
PUBLIC = CAPTURES / "public"  # captures published by other projects (captures/public/SOURCES.md)
DATA = ROOT / "tests" / "data"  # third-party test data (tests/data/SOURCES.md)
VECTORS = DATA / "vectors"  # single STUN/TURN messages and SDP
NETMON2_DERIVED = DATA / "derived" / "netmon2"  # public captures converted by editcap -F netmon2
NETMON_FORMAT_ONLY = DATA / "format-only"  # genuine Network Monitor files without STUN

CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")
SEED_CALL = CAPTURES / "lync" / "seed-call" / "capture.pcap"


@dataclass(frozen=True)
class Missing:
    """Stands in for the cases of a data source that is not there."""

    what: str

    def __str__(self) -> str:
        return f"missing test data: {self.what} (paths are in tests/testdata.py)"


def shown(path: Path) -> str:
    """The path as the repository names it."""
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def files(
    folder: Path,
    pattern: str = "**/*",
    *,
    suffixes: Iterable[str] | None = None,
    skip_suffixes: Iterable[str] = (),
    exclude: Iterable[Path] = (),
) -> list[Path]:
    """Matching files under `folder`, sorted (possibly none); hidden folders and `exclude` are left out."""
    wanted = None if suffixes is None else tuple(suffixes)
    skipped = tuple(skip_suffixes)
    left_out = tuple(exclude)
    found = []
    for path in folder.glob(pattern):
        inner = path.relative_to(folder).parts
        if not path.is_file() or any(part.startswith(".") or part == "__pycache__" for part in inner):
            continue
        if (wanted is not None and path.suffix not in wanted) or path.suffix in skipped:
            continue
        if any(path.is_relative_to(other) for other in left_out):
            continue
        found.append(path)
    return sorted(found)


def missing(what: str, arity: int = 1) -> Any:
    """One parametrisation case (of `arity` values) that fails, saying what is missing."""
    return pytest.param(Missing(what), *[None] * (arity - 1), id=f"MISSING:{what}")


def cases(folder: Path, pattern: str = "**/*", **select: Any) -> list[Any]:
    """`files()` as parametrisation cases; a folder that yields none gives one failing case."""
    found = files(folder, pattern, **select)
    return list(found) or [missing(f"no {pattern} files in {shown(folder)}")]


def require(path: Path) -> Path:
    """In a test body: the file, or the test fails naming it."""
    if not path.is_file():
        pytest.fail(str(Missing(shown(path))), pytrace=False)
    return path


def script(path: Path, name: str) -> ModuleType:
    """A script of the repository (a generator, a lab or benchmark module: no package) run as the
    module `name`, a fresh copy each call, registered in sys.modules (dataclasses look their module
    up there); the test fails naming the file when it is not there."""
    spec = importlib.util.spec_from_file_location(name, require(path))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def require_files(folder: Path, pattern: str = "**/*", **select: Any) -> list[Path]:
    """In a test body: `files()`, or the test fails when there are none."""
    found = files(folder, pattern, **select)
    if not found:
        pytest.fail(str(Missing(f"no {pattern} files in {shown(folder)}")), pytrace=False)
    return found


def fail_missing_cases(item: pytest.Item) -> None:
    """Fail a test whose parametrisation holds a `Missing` (called from tests/conftest.py)."""
    callspec = getattr(item, "callspec", None)
    for value in callspec.params.values() if callspec is not None else ():
        if isinstance(value, Missing):
            pytest.fail(str(value), pytrace=False)
