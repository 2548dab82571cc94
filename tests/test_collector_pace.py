"""The collector's pace while icetrace works: the youngest generation collected far less often inside
the block, CPython's thresholds back after it, whatever ended the block."""

from __future__ import annotations

import gc
import io

import pytest

from icetrace.cli import main
from icetrace.collector_pace import YOUNGEST_EVERY, fewer_collections
from icetrace.commands import decode


def test_the_block_collects_less_often_and_restores_the_thresholds() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        inside = gc.get_threshold()
    assert inside == (max(before[0], YOUNGEST_EVERY), *before[1:]) and inside[0] >= YOUNGEST_EVERY
    assert gc.get_threshold() == before
    with pytest.raises(ValueError), fewer_collections():
        raise ValueError("an analysis that failed")
    assert gc.get_threshold() == before


def test_every_command_runs_at_that_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, ...]] = []

    def run(args, out, err) -> int:  # type: ignore[no-untyped-def]
        seen.append(gc.get_threshold())
        return 0

    before = gc.get_threshold()
    monkeypatch.setattr(decode, "run", run)
    assert main(["decode", "000100002112a442000000000000000000000000"], stdout=io.StringIO()) == 0
    assert seen and seen[0][0] >= YOUNGEST_EVERY and gc.get_threshold() == before
