"""pyshark users hand icetrace what they have: a FileCapture, or a path and a display filter.
The frames tshark shows with those settings are analysed, under the original frame numbers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import icetrace
from icetrace.capture.pyshark_input import matching_frames, tshark_arguments, with_filter

pyshark = pytest.importorskip("pyshark")
needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
pytestmark = [pytest.mark.tshark, needs_tshark]

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "captures/lync/seed-call/capture.pcap"
CALLEE_HOST = "ip.addr == 10.0.0.20"


def tshark_frames(path: Path, display_filter: str) -> list[int]:
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", display_filter, "-T", "fields", "-e", "frame.number"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return [int(n) for n in out.split()]


@pytest.fixture(scope="module")
def whole():
    return icetrace.analyze([SEED])


def test_file_capture_with_a_display_filter_keeps_the_original_frame_numbers(whole):
    capture = pyshark.FileCapture(str(SEED), display_filter=CALLEE_HOST, keep_packets=False)
    try:
        analysis = icetrace.analyze([capture])
    finally:
        capture.close()
    shown = set(tshark_frames(SEED, CALLEE_HOST))
    frames = set(analysis.messages.frame)
    assert frames and frames <= shown
    # the same messages, at the same frame numbers, as the whole capture has for those frames
    expected = whole.messages[whole.messages.frame.isin(shown)].reset_index(drop=True)
    assert analysis.messages.reset_index(drop=True).equals(expected)
    # only the direct host pairs were checked in those frames, and they were never answered
    assert set(analysis.pairs.controlled) == {"10.0.0.20:6000", "10.0.0.20:6001"}
    assert "D8" in set(analysis.verdicts.code)
    assert [s.outcome for s in analysis.reconstruction.streams] == ["failed"]
    assert analysis.sources == [str(SEED)]


def test_path_and_display_filter_match_the_file_capture():
    capture = pyshark.FileCapture(str(SEED), display_filter="stun.type == 0x0001")
    try:
        through_pyshark = icetrace.analyze([capture]).to_dict()
    finally:
        capture.close()
    by_path = icetrace.analyze([SEED], display_filter="stun.type == 0x0001").to_dict()
    assert through_pyshark == by_path
    assert by_path["streams"] and all(
        p["answers_to_controlling"] == p["answers_to_controlled"] == 0
        for s in by_path["streams"]
        for c in s["components"]
        for p in c["pairs"]
    )


def test_file_capture_without_a_filter_is_the_whole_capture(whole):
    capture = pyshark.FileCapture(str(SEED))
    try:
        assert icetrace.analyze([capture]).to_dict() == whole.to_dict()
    finally:
        capture.close()


def test_filters_combine():
    capture = pyshark.FileCapture(str(SEED), display_filter="stun")
    try:
        arguments = with_filter(tshark_arguments(capture), "frame.number < 20")
    finally:
        capture.close()
    assert sorted(matching_frames(SEED, arguments)) == tshark_frames(SEED, "stun && frame.number < 20")


def test_tshark_field_listing_equals_pyshark_iteration():
    """The module asks tshark for frame numbers instead of iterating pyshark's packets (faster)."""
    capture = pyshark.FileCapture(str(SEED), display_filter="stun", keep_packets=False)
    try:
        iterated = [int(p.number) for p in capture]
        listed = matching_frames(SEED, tshark_arguments(capture))
    finally:
        capture.close()
    assert iterated and sorted(listed) == iterated


def test_a_live_capture_is_refused_by_name():
    from icetrace.errors import InputError

    live = pyshark.LiveCapture(interface="lo")
    with pytest.raises(InputError, match="only a pyshark FileCapture"):
        icetrace.analyze([live])
