"""A short fuzz budget per untrusted-bytes entry point (the long run: `python -m fuzz.run`)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from fuzz.targets import TARGETS, check, inputs, mutate


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_seeds_yield_what_they_hold(name):
    """Each seed read whole: an entry point that returned nothing would pass the fuzzing below."""
    target = TARGETS[name]
    assert len(target.intact) == len(target.seeds)
    for seed, intact in zip(target.seeds, target.intact):
        assert target.run(seed) == intact


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


def test_random_engine_is_seeded_and_keeps_crashing_inputs(tmp_path):
    import random

    from fuzz.run import fuzz_random
    from fuzz.targets import Target, random_input

    target = TARGETS["stun-codec"]
    draw = [random_input(target, random.Random(7)) for _ in range(3)]
    assert draw == [random_input(target, random.Random(7)) for _ in range(3)]

    def fragile(data: bytes) -> None:
        if len(data) > 40:
            raise ValueError("too long")

    count, _, crash = fuzz_random(Target("fragile", fragile, target.seeds, target.intact), 200, 1, tmp_path)
    assert count == 200
    assert crash is not None and "ValueError" in crash
    saved = sorted(tmp_path.iterdir())
    assert saved and all(len(p.read_bytes()) > 40 for p in saved)
