"""Imports run downward only, by the layer order of README.md's Layout.

Lowest first; a module may import its own package and the packages of lower layers. Packages on
one layer are peers that must not import each other: the capture layer hands signaling packets
and bytes, it does not parse SIP, and signaling does not open captures.
"""

from __future__ import annotations

import ast

from tests.testdata import ROOT

LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"errors", "protocol_number", "exit_status", "version", "collector_pace"}),
    frozenset({"output", "crash"}),
    frozenset({"records"}),
    frozenset({"capture", "signaling"}),
    frozenset({"reading"}),
    frozenset({"ice"}),
    frozenset({"tables"}),
    frozenset({"plots"}),
    frozenset({"analysis"}),
    frozenset({"report"}),
    frozenset({"corpus", "live"}),
    frozenset({"commands"}),
    frozenset({"cli"}),
    frozenset({"__main__", "__init__"}),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}

# Upward arrows that are a door, not a dependency: `Analysis.to_dict()` hands the reconstruction to
# report/json_document.py, which never imports the analysis back.
DOORS = {("icetrace/analysis.py", "report")}


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


# -- inside the capture layer: formats behind the registry ---------------------------------------

CAPTURE = ROOT / "icetrace" / "capture"
FORMATS = CAPTURE / "formats"
# what a format module may import from icetrace: the shared base, the skimmer driver, link types, errors
FORMAT_MAY_IMPORT = {
    "icetrace.capture.formats.base",
    "icetrace.capture.fast_reader",
    "icetrace.capture.linktypes",
    "icetrace.capture.media_skip",
    "icetrace.capture.pcapng_blocks",
    "icetrace.errors",
}


def _module_name(path, root=ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _targets(path, root=ROOT):
    """Every icetrace module `path` imports, at any depth of the file (a function-level import too):
    `from icetrace.capture import fast_reader` names the module fast_reader."""
    modules = {_module_name(p, root) for p in (root / "icetrace").rglob("*.py")}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                yield name if name in modules else node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name


def _capture_graph(root=ROOT) -> dict[str, set[str]]:
    return {
        _module_name(path, root): {t for t in _targets(path, root) if t.startswith("icetrace.capture")}
        for path in sorted((root / "icetrace" / "capture").rglob("*.py"))
    }


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of `graph` (modules in order, the first repeated at the end), or []."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> list[str]:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state:
                found = visit(target, [*path, target])
                if found:
                    return found
        state[module] = 2
        return []

    for module in sorted(graph):
        if module not in state:
            found = visit(module, [module])
            if found:
                return found
    return []


def test_capture_modules_import_each_other_without_cycles():
    """Function-level imports count: an import moved into a function to dodge a cycle is still one."""
    assert _cycle(_capture_graph()) == []


def test_format_modules_import_only_the_shared_base():
    """A format module never imports reader.py, the registry or another format: a new format is one new module."""
    wrong = []
    for path in sorted(FORMATS.glob("*.py")):
        if path.stem in ("__init__", "base", "registry"):
            continue
        for target in _targets(path):
            if target.startswith("icetrace") and target not in FORMAT_MAY_IMPORT:
                wrong.append(f"{path.relative_to(ROOT).as_posix()} imports {target}")
    assert wrong == []


def test_reader_finds_formats_only_through_the_registry():
    formats = {t for t in _targets(CAPTURE / "reader.py") if t.startswith("icetrace.capture.formats.")}
    assert formats <= {"icetrace.capture.formats.registry", "icetrace.capture.formats.base"}
    assert not {"icetrace.capture.fast_reader", "icetrace.capture.media_skip"} & set(_targets(CAPTURE / "reader.py"))


def test_a_hidden_import_cycle_is_seen(tmp_path):
    package = tmp_path / "icetrace" / "capture"
    package.mkdir(parents=True)
    (package / "a.py").write_text("from icetrace.capture import b\n", encoding="utf-8")
    (package / "b.py").write_text("def f():\n    from icetrace.capture.a import g\n", encoding="utf-8")
    assert _cycle(_capture_graph(tmp_path)) == ["icetrace.capture.a", "icetrace.capture.b", "icetrace.capture.a"]


MAX_FUNCTION_LINES = 60


def _long_functions() -> dict[str, int]:
    found = {}
    for root in ("icetrace", "dissectors"):
        for path in sorted((ROOT / root).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    lines = node.end_lineno - node.lineno + 1
                    if lines > MAX_FUNCTION_LINES:
                        found[f"{path.relative_to(ROOT).as_posix()}:{node.name}"] = lines
    return found


def test_no_function_is_longer_than_sixty_lines():
    long = _long_functions()
    assert long == {}, f"split these (lines counted from def to the last line): {long}"


# -- the whole package: no circle of imports, no oversized module ----------------------------------


def _icetrace_graph(root=ROOT) -> dict[str, set[str]]:
    """Every icetrace module and the icetrace modules it imports, at any depth of the file: an import
    under `if TYPE_CHECKING:` or inside a function ties two modules as much as one at the top."""
    modules = {_module_name(p, root) for p in (root / "icetrace").rglob("*.py")}
    return {
        _module_name(path, root): {t for t in _targets(path, root) if t in modules}
        for path in sorted((root / "icetrace").rglob("*.py"))
    }


def test_icetrace_modules_import_each_other_without_cycles():
    """A type lives below the modules that use it, so no two modules need each other."""
    assert _cycle(_icetrace_graph()) == []


def test_icetrace_imports_are_absolute():
    """The graph above reads absolute imports; a relative one would hide an arrow from it."""
    relative = [
        f"{path.relative_to(ROOT).as_posix()}:{node.lineno}"
        for path in sorted((ROOT / "icetrace").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]
    assert relative == []


def test_a_cycle_through_a_type_checking_import_is_seen(tmp_path):
    package = tmp_path / "icetrace" / "ice"
    package.mkdir(parents=True)
    (package / "model.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from icetrace.ice.result import Result\n",
        encoding="utf-8",
    )
    (package / "result.py").write_text("from icetrace.ice.model import Pair\n", encoding="utf-8")
    assert _cycle(_icetrace_graph(tmp_path)) == ["icetrace.ice.model", "icetrace.ice.result", "icetrace.ice.model"]


MAX_MODULE_LINES = 600


def test_no_module_is_longer_than_six_hundred_lines():
    long = {
        path.relative_to(ROOT).as_posix(): lines
        for path in sorted((ROOT / "icetrace").rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}, f"split these by concept: {long}"
