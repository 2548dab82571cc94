"""Finds paths in the project's own files that lead out of the repository.

A fresh clone must run on its own, so code and tests may only name files inside the repository.
Scanned: files with a text suffix (`SCANNED_SUFFIXES`) under `SCANNED_FOLDERS`; data files (captures,
vectors) are not text and are not scanned. Three rules, each reported with file and line:

1. The sibling library: a parent step followed by `shared` (a `..` component, then `shared`).
2. Absolute paths where data lives on somebody's machine: a `/` followed by one of `DATA_ROOTS`
   (work, home, root, tmp, var/tmp, mnt, media, srv, opt, scratch, data, Users), or a path that
   starts at the home folder (a tilde and a slash), anywhere in the text, comments included; not
   when the slash continues a word, a URL, a variable or another path (`benchmarks/data`,
   `https://host/home`, `$HOME/x`). Paths of system interfaces (the null device, proc, sys,
   usr/bin/env, etc) are not data and are allowed.
3. Parent steps that climb above the repository root. Python files are read as syntax trees: each
   `..` component of a string, `.parent`, `.parents[N]` and `os.path.dirname` is followed from
   where the path starts: the file's own place for expressions built on `__file__` (also through a
   name assigned from one), the repository root for a bare relative string (tests and scripts run
   from the root). A `..` whose starting point cannot be told (a function argument, say) is
   reported too: nothing in the project needs one, paths are anchored at `tests.testdata.ROOT`.
   In shell scripts `$(dirname "$0")` starts at the script's folder and a bare relative path at the
   root; in other text files (Markdown links, C includes) relative paths start at the file's folder.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SCANNED_FOLDERS = ("tests", "icetrace", "dissectors", "benchmarks", "scripts")
SCANNED_SUFFIXES = frozenset(
    (".py", ".pyi", ".sh", ".bash", ".c", ".h", ".toml", ".cfg", ".ini", ".md", ".txt", ".json", ".yml", ".yaml")
)
DATA_ROOTS = ("work", "home", "root", "tmp", "var/tmp", "mnt", "media", "srv", "opt", "scratch", "data", "Users")
UP = os.pardir
# calls whose string arguments are path components, followed with the call
PATH_CALLS = frozenset(
    ("join", "joinpath", "Path", "PurePath", "PosixPath", "fspath", "abspath", "realpath", "normpath", "dirname")
)

SIBLING = re.compile(r"\.\.[/\\]+shared\b")
ABSOLUTE = re.compile(r"(?<![\w.~$}/\\-])(?:/(?:" + "|".join(DATA_ROOTS) + r")(?![\w.-])|~(?=/))")
# `$(dirname "$0")`, `$(dirname "${BASH_SOURCE[0]}")`: the script's own folder
SCRIPT_DIR = re.compile(r"\$\(\s*dirname\s+\"?\$(?:0|\{?BASH_SOURCE(?:\[0\])?\}?)\"?\s*\)")
SCRIPT_DIR_MARK = "\x00script-dir\x00"
TOKEN_BREAK = re.compile(r"[\s\"'`;()\[\]{}<>=|&,]+")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


def scanned_files(root: Path) -> Iterator[Path]:
    """The files the rules apply to, under the scanned folders of `root`."""
    for folder in SCANNED_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            inner = path.relative_to(root).parts
            if any(part.startswith(".") or part == "__pycache__" or part.endswith(".egg-info") for part in inner):
                continue
            if path.is_file() and path.suffix in SCANNED_SUFFIXES:
                yield path


def scan_tree(root: Path) -> list[Problem]:
    problems = []
    for path in scanned_files(root):
        text = path.read_text(encoding="utf-8", errors="replace")
        problems += problems_in_text(path.relative_to(root).as_posix(), text)
    return problems


def problems_in_text(relpath: str, text: str) -> list[Problem]:
    """Every rule on one file's text; `relpath` is where the file sits in the repository."""
    found: set[Problem] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if SIBLING.search(line):
            found.add(Problem(relpath, number, "refers to the shared library beside the repository"))
        match = ABSOLUTE.search(line)
        if match:
            found.add(Problem(relpath, number, f"absolute path outside the repository ({match.group(0)}...)"))
    suffix = Path(relpath).suffix
    if suffix in (".py", ".pyi"):
        found |= _python_climbs(relpath, text)
    else:
        found |= _text_climbs(relpath, text, shell=suffix in (".sh", ".bash"))
    return sorted(found, key=lambda p: (p.line, p.text))


def _walk(depth: int, components: str) -> tuple[int, int]:
    """Depth after following `components` from `depth`, and the lowest depth on the way."""
    lowest = depth
    for part in components.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        depth += -1 if part == UP else 1
        lowest = min(lowest, depth)
    return depth, lowest


def _has_up(text: str) -> bool:
    return UP in text.replace("\\", "/").split("/")


def _text_climbs(relpath: str, text: str, shell: bool) -> set[Problem]:
    own_folder = len(Path(relpath).parts) - 1
    found = set()
    for number, line in enumerate(text.splitlines(), 1):
        if shell:
            line = SCRIPT_DIR.sub(SCRIPT_DIR_MARK, line)
        for token in TOKEN_BREAK.split(line):
            if not _has_up(token) or token.startswith("/") or "://" in token:
                continue
            if token.startswith(SCRIPT_DIR_MARK):
                start, token = own_folder, token[len(SCRIPT_DIR_MARK) :]
            elif "$" in token.split(UP)[0]:
                found.add(Problem(relpath, number, "parent path from a starting point that cannot be told"))
                continue
            else:
                start = 0 if shell else own_folder
            if _walk(start, token)[1] < 0:
                found.add(Problem(relpath, number, f"{token!r} climbs out of the repository"))
    return found


class _PythonPaths:
    """Follows path expressions of one Python file, counting depth below the repository root."""

    def __init__(self, relpath: str, tree: ast.AST) -> None:
        self.relpath = relpath
        self.file_depth = len(Path(relpath).parts)  # tests/x.py: 2; its folder is at 1, the root at 0
        self.names: dict[str, int | None] = {}
        self.found: set[Problem] = set()
        self.quiet = False
        self.nodes = list(ast.walk(tree))  # breadth first: a join comes before its parts

    def report(self, node: ast.AST, text: str) -> None:
        if not self.quiet:
            self.found.add(Problem(self.relpath, getattr(node, "lineno", 0), text))

    def follow(self, base: int | None, part: ast.AST, node: ast.AST) -> int | None:
        """`base` joined with one more component `part` (a string, or anything else: one level down)."""
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            if base is None:
                if _has_up(part.value):
                    self.report(node, "parent path from a starting point that cannot be told")
                return None
            depth, lowest = _walk(base, part.value)
            if base >= 0 > lowest:
                self.report(node, f"{part.value!r} climbs out of the repository")
            return depth
        return None if base is None else base + 1

    def up(self, node: ast.AST, inner: int | None, steps: int, what: str) -> int | None:
        """`steps` levels above `inner`; reported where that crosses the root."""
        if inner is None:
            return None
        if inner >= 0 > inner - steps:
            self.report(node, f"{what} climbs out of the repository")
        return inner - steps

    def depth(self, node: ast.AST) -> int | None:
        """How far below the root the path `node` stands, or None when it cannot be told."""
        if isinstance(node, ast.Name):
            return self.file_depth if node.id == "__file__" else self.names.get(node.id)
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            return self.up(node, self.depth(node.value), 1, ".parent")
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "parents":
            index = node.slice
            if not (isinstance(index, ast.Constant) and isinstance(index.value, int)):
                return None
            return self.up(node, self.depth(node.value.value), index.value + 1, f".parents[{index.value}]")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return self.follow(self.depth(node.left), node.right, node)
        if isinstance(node, ast.Call):
            return self._call_depth(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and not node.value.startswith("/"):
            if "\n" in node.value or not _has_up(node.value):
                return None
            return self.follow(0, node, node)  # a bare relative path starts at the working directory
        return None

    def _call_depth(self, node: ast.Call) -> int | None:
        func, name, args = node.func, _call_name(node), node.args
        if name in ("resolve", "absolute", "expanduser", "with_name", "with_suffix") and isinstance(
            func, ast.Attribute
        ):
            return self.depth(func.value)
        if name in ("Path", "PurePath", "PosixPath", "fspath", "abspath", "realpath", "normpath") and len(args) == 1:
            return self.depth(args[0])
        if name == "dirname" and len(args) == 1:
            return self.up(node, self.depth(args[0]), 1, "dirname()")
        if name in ("join", "joinpath"):
            if name == "joinpath" and isinstance(func, ast.Attribute):
                base, parts = self.depth(func.value), args
            elif args:
                base, parts = self.depth(args[0]), args[1:]
            else:
                return None
            for part in parts:
                base = self.follow(base, part, node)
            return base
        return None

    def run(self) -> set[Problem]:
        self.quiet = True  # first the names bound to a path: `ROOT = Path(__file__).parents[1]`
        for node in self.nodes:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name, value = node.targets[0].id, self.depth(node.value)
                self.names[name] = value if self.names.get(name, value) == value else None
        self.quiet = False
        joined: set[int] = set()  # strings followed as part of the join they belong to
        for node in self.nodes:
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                joined.add(id(node.right))
            elif isinstance(node, ast.Call) and _call_name(node) in PATH_CALLS:
                joined.update(id(arg) for arg in node.args)
            elif isinstance(node, ast.Constant) and id(node) in joined:
                continue
            self.depth(node)
        return self.found


def _python_climbs(relpath: str, text: str) -> set[Problem]:
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        return {Problem(relpath, exc.lineno or 0, "not valid Python, paths not checked")}
    return _PythonPaths(relpath, tree).run()


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
