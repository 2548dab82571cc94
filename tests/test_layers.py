"""Imports run downward only, by the layer order of README.md's Layout.

Lowest first; a module may import its own package and the packages of lower layers. Packages on
one layer are peers that must not import each other: the capture layer hands signaling packets
and bytes, it does not parse SIP, and signaling does not open captures.
"""

from __future__ import annotations

import ast

from tests.testdata import ROOT

LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"errors", "protocol_number", "exit_status"}),
    frozenset({"output", "crash"}),
    frozenset({"records"}),
    frozenset({"capture", "signaling"}),
    frozenset({"ice"}),
    frozenset({"tables"}),
    frozenset({"analysis"}),
    frozenset({"plots"}),
    frozenset({"report"}),
    frozenset({"corpus"}),
    frozenset({"commands"}),
    frozenset({"cli"}),
    frozenset({"__main__", "__init__"}),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}

# Upward arrows that are a door, not a dependency: `Analysis.plot_timeline()`/`plot_ladder()` give
# notebooks the plots of an analysis, importing matplotlib only when called.
DOORS = {("icetrace/analysis.py", "plots")}


def _imports(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def _package(path) -> str:
    parts = path.relative_to(ROOT / "icetrace").with_suffix("").parts
    return parts[0]


def test_every_icetrace_package_has_a_layer():
    found = {_package(p) for p in (ROOT / "icetrace").rglob("*.py")}
    assert found <= RANK.keys(), f"give these a layer in {__name__}.LAYERS: {sorted(found - RANK.keys())}"


def test_icetrace_imports_run_downward():
    upward = []
    for path in sorted((ROOT / "icetrace").rglob("*.py")):
        own = _package(path)
        shown = path.relative_to(ROOT).as_posix()
        for line, module in _imports(path):
            parts = module.split(".")
            if parts[0] != "icetrace" or len(parts) < 2 or parts[1] == own:
                continue
            target = parts[1]
            if (shown, target) in DOORS:
                continue
            if RANK.get(target, len(LAYERS)) >= RANK[own]:
                upward.append(f"{shown}:{line} imports {module}")
    assert upward == []


def test_dissectors_import_nothing_from_icetrace():
    wrong = [
        f"{path.relative_to(ROOT).as_posix()}:{line} imports {module}"
        for path in sorted((ROOT / "dissectors").rglob("*.py"))
        for line, module in _imports(path)
        if module.split(".")[0] == "icetrace"
    ]
    assert wrong == []


def test_an_upward_arrow_is_seen(tmp_path):
    wrong = tmp_path / "probe.py"
    wrong.write_text("def f():\n    from icetrace.signaling.sip import parse_sip\n", encoding="utf-8")
    assert [m for _, m in _imports(wrong)] == ["icetrace.signaling.sip"]
    assert RANK["signaling"] >= RANK["capture"]
