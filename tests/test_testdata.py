"""Missing test data fails a test; the redistributed data is all there and all attributed."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests import testdata

INNER_CONFTEST = "from tests.conftest import pytest_runtest_call  # noqa: F401\n"


def test_an_empty_folder_gives_one_case_that_names_it(tmp_path):
    (case,) = testdata.cases(tmp_path / "nothing-here", suffixes=testdata.CAPTURE_SUFFIXES)
    (value,) = case.values
    assert isinstance(value, testdata.Missing)
    assert "nothing-here" in str(value) and case.id.startswith("MISSING:")


def test_cases_select_by_suffix_and_leave_out_hidden_and_excluded_folders(tmp_path):
    for name in ("b.pcap", "a.pcapng", "notes.md", ".cache/c.pcap", "other/d.pcap", "keep/e.cap"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    found = testdata.cases(tmp_path, suffixes=testdata.CAPTURE_SUFFIXES, exclude=[tmp_path / "other"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.pcapng", "b.pcap", "keep/e.cap"]
    assert [p.name for p in testdata.files(tmp_path, "*", skip_suffixes=(".md",))] == ["a.pcapng", "b.pcap"]


def test_require_fails_naming_the_file(tmp_path):
    with pytest.raises(pytest.fail.Exception, match="missing test data: .*absent.pcap"):
        testdata.require(tmp_path / "absent.pcap")
    with pytest.raises(pytest.fail.Exception, match="no \\*\\*/\\*.bin files"):
        testdata.require_files(tmp_path, "**/*.bin")
    present = tmp_path / "present.bin"
    present.write_bytes(b"\x00")
    assert testdata.require(present) == present
    assert testdata.require_files(tmp_path, "**/*.bin") == [present]


def test_a_suite_over_an_empty_folder_fails_instead_of_shrinking(pytester, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # the inner suite needs no plugin
    full, empty = tmp_path / "full", tmp_path / "empty"
    full.mkdir()
    empty.mkdir()
    for name in ("1.bin", "2.bin"):
        (full / name).write_bytes(b"\x01")
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(
        f"""
        from pathlib import Path

        import pytest

        from tests import testdata

        @pytest.mark.parametrize("path", testdata.cases(Path({str(full)!r})))
        def test_full(path):
            assert path.read_bytes()

        @pytest.mark.parametrize("path", testdata.cases(Path({str(empty)!r})))
        def test_empty(path):
            assert path.read_bytes()

        def test_named():
            testdata.require(Path({str(empty)!r}) / "gone.pcap")

        @pytest.mark.parametrize("folder, tap", [testdata.missing("no views", arity=2)])
        def test_views(folder, tap):
            pass
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=3)
    result.stdout.fnmatch_lines(["*test_empty?MISSING:no **/* files in*", "*missing test data:*gone.pcap*"])
    result.stdout.fnmatch_lines(["*test_views?MISSING:no views*"])
    assert "skipped" not in result.stdout.str()


DATA_FOLDERS = [testdata.PUBLIC, testdata.VECTORS, testdata.NETMON2_DERIVED, testdata.NETMON_FORMAT_ONLY]


@pytest.mark.parametrize("folder", DATA_FOLDERS, ids=testdata.shown)
def test_every_data_folder_is_in_the_repository(folder):
    assert testdata.files(folder, skip_suffixes=(".md",)), testdata.shown(folder)


def test_every_public_capture_is_attributed_and_unchanged():
    """captures/public/SOURCES.md lists each file once, with the start of its SHA-256."""
    text = testdata.require(testdata.PUBLIC / "SOURCES.md").read_text()
    rows = dict(re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{16})` \|$", text, re.MULTILINE))
    # the project's own golden files (`<capture>.expected.json`, docs/corpus.md) sit beside them
    present = testdata.require_files(testdata.PUBLIC, skip_suffixes=(".md", ".json"))
    assert sorted(rows) == [p.relative_to(testdata.PUBLIC).as_posix() for p in present]
    for path in present:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        assert rows[path.relative_to(testdata.PUBLIC).as_posix()] == digest, path


def test_every_file_in_tests_data_is_attributed():
    """tests/data/SOURCES.md names each file, or the folder it came in."""
    text = testdata.require(testdata.DATA / "SOURCES.md").read_text()
    for path in testdata.require_files(testdata.DATA, skip_suffixes=(".md",)):
        inner = path.relative_to(testdata.DATA).parts
        assert any(f"`{part}" in text for part in (path.name, *inner[1:-1])), path


SKIPPING_SUITE = """
import pytest

pytest.importorskip("a_module_that_is_not_installed")
"""

SKIPPING_TESTS = """
import pytest

@pytest.mark.skipif(True, reason="tshark is not installed")
def test_marked():
    pass

def test_inside():
    pytest.skip("the C skimmer is not compiled")

@pytest.mark.xfail(reason="expected to fail", strict=True)
def test_expected_failure():
    assert False

def test_runs():
    pass
"""


@pytest.mark.parametrize("ci", ["1", ""])
def test_in_ci_a_skip_fails_naming_what_was_missing(pytester, monkeypatch, ci):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("CI", ci)
    pytester.makeconftest("from tests.conftest import *  # noqa: F401,F403\n")
    pytester.makepyfile(test_tools=SKIPPING_TESTS, test_module_skip=SKIPPING_SUITE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rA")
    if ci:
        result.assert_outcomes(passed=1, failed=1, errors=1, skipped=1, xfailed=1)  # a skipif fails at setup
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        result.stdout.fnmatch_lines(["*skipped in CI, where nothing may be missing: tshark is not installed*"])
        result.stdout.fnmatch_lines(["*skipped in CI, where nothing may be missing: the C skimmer is not compiled*"])
        result.stdout.fnmatch_lines(["*skipped in CI*test_module_skip.py*a_module_that_is_not_installed*"])
    else:
        result.assert_outcomes(passed=1, skipped=3, xfailed=1)
        assert result.ret == pytest.ExitCode.OK
