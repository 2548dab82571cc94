"""What an analysis keeps grows with calls, flows and STUN transactions, never with relayed media.

The TURN server's mid-call scenario is written twice, once with twice the ChannelData and Send/Data
indications carrying RTP; both analyses must hold the same number of Python objects.
"""

from __future__ import annotations

import gc
import types
from pathlib import Path

import icetrace
from tests.testdata import script

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "captures" / "synthetic" / "relayed_mid_call.py"


def _written(folder: Path, packets: int) -> Path:
    module = script(SCENARIO, f"relayed_mid_call_{packets}")
    module.PACKETS = packets  # per direction and client: the media, not the STUN
    return module.write(folder)


def _retained(root: object) -> int:
    """Objects reachable from `root`, less classes, modules and functions (shared by every analysis)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (type, types.ModuleType, types.FunctionType)):
            continue
        seen.add(id(obj))
        stack.extend(gc.get_referents(obj))
    return len(seen)


def test_twice_the_relayed_media_keeps_no_more_objects(tmp_path):
    small = icetrace.analyze([_written(tmp_path / "small", 40)])
    large = icetrace.analyze([_written(tmp_path / "large", 80)])
    # the media was there and was counted: 6 flows of 40, then of 80 packets each
    assert small.reconstruction.relayed_messages == 6 * 40
    assert large.reconstruction.relayed_messages == 6 * 80
    assert len(small.reconstruction.records) == len(large.reconstruction.records) == 6
    # 240 more relayed messages; a record, tuple or list entry kept for each would show by hundreds.
    # A few counters cross the small-integer cache (-5..256, shared objects) and frame numbers differ.
    assert abs(_retained(large) - _retained(small)) <= 12, (_retained(small), _retained(large))
