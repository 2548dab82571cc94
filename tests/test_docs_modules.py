"""The docs name modules that exist: a file moved or split leaves no page pointing at its old place."""

from __future__ import annotations

import re

import pytest

from tests.testdata import ROOT

PAGES = sorted([*(ROOT / "docs").glob("*.md"), ROOT / "README.md", ROOT / "captures" / "README.md"])
SOURCES = {
    p.relative_to(ROOT).as_posix()
    for p in ROOT.rglob("*.py")
    if not {".venv", ".git", "build"} & set(p.relative_to(ROOT).parts)
}


def _resolves(name: str) -> bool:
    """A path as the docs write it: from the repository's root, or from a package's folder
    (`ice/pairs.py`, `formats/registry.py`, `correlator.py` in the page about it)."""
    return any(source == name or source.endswith("/" + name) for source in SOURCES)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_python_file_a_page_names_exists(page):
    named = set(re.findall(r"[\w/-]*\w\.py\b", page.read_text(encoding="utf-8")))
    assert sorted(n for n in named if not _resolves(n)) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_module_a_page_runs_exists(page):
    modules = set(re.findall(r"python -m (icetrace[\w.]*)", page.read_text(encoding="utf-8")))
    missing = [
        m
        for m in sorted(modules)
        if not (ROOT / f"{m.replace('.', '/')}.py").is_file()
        and not (ROOT / m.replace(".", "/") / "__main__.py").is_file()
    ]
    assert missing == []


def test_a_moved_module_is_seen(tmp_path):
    assert _resolves("ice/pairs.py") and _resolves("formats/registry.py")
    assert not _resolves("ice/verdict_rules.py")
