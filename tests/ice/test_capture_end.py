"""A capture ends at its last frame, whatever that frame holds: checks unanswered while the capture
ran on with other traffic were given up (RFC 8445 §14.3; here cancelled by the nomination, RFC 8445
§8.1.2), read through the C skimmer, numpy's pass or the plain Python reader alike."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

import icetrace
from icetrace.capture import fast_reader, packet_source
from icetrace.capture.reader import CaptureReader
from tests.corpus.truth import CAPTURES

LEFT = CAPTURES / "real" / "aioice-direct" / "left-lan.pcap"
QUIET = 15  # seconds of other traffic after the call: longer than any agent's check timeout


def _runs_on(tmp_path: Path) -> Path:
    """The left LAN tap with one ARP frame QUIET seconds after its last packet."""
    data = LEFT.read_bytes()
    offset, last = 24, (0, 0, b"")
    while offset < len(data):
        sec, usec, caplen, _ = struct.unpack_from("<IIII", data, offset)
        last = (sec, usec, data[offset + 16 : offset + 16 + caplen])
        offset += 16 + caplen
    sec, usec, frame = last
    arp = b"\xff" * 6 + frame[6:12] + b"\x08\x06" + bytes(28)
    out = tmp_path / "runs-on.pcap"
    out.write_bytes(data + struct.pack("<IIII", sec + QUIET, usec, len(arp), len(arp)) + arp)
    return out


def _host_pair(a: icetrace.Analysis):
    (stream,) = a.reconstruction.streams
    return next(p for c in stream.components for p in c.pairs if str(p.controlled.address).startswith("192.168.2."))


@pytest.mark.parametrize("path", ["skimmer", "numpy", "plain"])
def test_unanswered_checks_before_a_long_tail_are_given_up(tmp_path, monkeypatch, path):
    """With the tail the capture shows aioice stopped the host pair's check: it gave up on it, and
    as it stopped when the srflx pair was nominated (aioice checks nothing else after), the check was
    cancelled, no failure (RFC 8445 §8.1.2); the agent's own check list keeps the pair in progress."""
    capture = _runs_on(tmp_path)
    if path != "skimmer":
        monkeypatch.setattr(fast_reader, "Skimmer", None)
    if path == "plain":
        monkeypatch.setattr(packet_source, "CaptureReader", lambda p, **_: CaptureReader(p))
    a = icetrace.analyze([capture])
    assert a.reconstruction.capture_end >= max(r.time for r in a.reconstruction.records) + QUIET - 1
    pair = _host_pair(a)
    (check,) = [c.transaction for c in a.reconstruction.checks if c.pair is pair]
    assert check.gave_up and check.outcome == "cancelled"
    assert pair.state == "in-progress" and set(pair.outcomes) == {"cancelled"}
    assert not any(v.code == "D8" and "192.168.2.10" in v.message for v in a.verdict_list)


def test_without_the_tail_the_same_checks_are_still_in_progress():
    pair = _host_pair(icetrace.analyze([LEFT]))
    assert pair.state == "in-progress" and set(pair.outcomes) == {"unanswered"}
