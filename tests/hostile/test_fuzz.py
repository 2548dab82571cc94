"""A short fuzz budget per untrusted-bytes entry point (the long run: `python -m fuzz.run`)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from fuzz.targets import TARGETS, check, inputs, mutate


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_target_never_crashes(name):
    target = TARGETS[name]
    for seed in target.seeds:
        check(target, seed)

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(inputs(target))
    def one(data: bytes) -> None:
        check(target, data)

    one()


def test_mutate_edits_then_cuts():
    assert mutate(b"abcdef", [(1, 2, b"XYZ")], None) == b"aXYZdef"
    assert mutate(b"abcdef", [], 3) == b"abc"
