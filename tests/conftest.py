"""Suite-wide hooks: a parametrisation case standing for missing data fails instead of running."""

from __future__ import annotations

import pytest

from tests.testdata import fail_missing_cases

pytest_plugins = ["pytester"]  # tests/test_testdata.py runs small suites of its own


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    fail_missing_cases(item)
