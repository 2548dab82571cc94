"""Suite-wide hooks: a parametrisation case standing for missing data fails instead of running, and
in CI (the `CI` environment variable set, as `.ci/run` does) a skipped test fails, naming what was
missing: CI's set-up installs every tool the tests use, so a skip there means something broke."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Generator
from typing import Any

import pytest

from tests.testdata import fail_missing_cases

pytest_plugins = ["pytester"]  # tests/test_testdata.py runs small suites of its own


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _skip_reason(longrepr: Any) -> str:
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    fail_missing_cases(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may be missing: {_skip_reason(report.longrepr)}"


_SKIPPED_MODULES: list[str] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    _SKIPPED_MODULES.clear()


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """A module skipped as a whole (importorskip, a module-level skip) is not a test report: it is
    remembered here and fails the run at the end, after every other test has run."""
    if in_ci() and report.skipped:
        _SKIPPED_MODULES.append(f"{report.nodeid}: {_skip_reason(report.longrepr)}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _SKIPPED_MODULES and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in _SKIPPED_MODULES:
        terminalreporter.write_line(f"FAILED (skipped in CI, where nothing may be missing) {line}", red=True)


@pytest.fixture(autouse=True)
def _no_event_loop_signal_handlers() -> Generator[None, None, None]:
    """An asyncio loop some library ran in this process (Dask, a notebook kernel's client) can leave
    its SIGCHLD handler and wakeup socket behind; once that socket is full, every child process the
    next tests fork makes Python report an error it cannot raise, which the CLI prints as a warning
    and the tests of its exact stderr would read. Each test starts without them."""
    if threading.current_thread() is threading.main_thread():
        left = [s for s in signal.valid_signals() if _is_asyncio_noop(signal.getsignal(s))]
        for number in left:
            signal.signal(number, signal.SIG_DFL)
        if left:
            signal.set_wakeup_fd(-1)
    yield


def _is_asyncio_noop(handler: Any) -> bool:
    return getattr(handler, "__name__", "") == "_sighandler_noop"
