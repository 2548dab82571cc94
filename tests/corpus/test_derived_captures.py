"""Captures cut from the recordings (captures/derived/derive.py) regenerate byte for byte, and each
tells the story its cut leaves visible: a late start names no invented address, one direction of a
TCP connection is reported as such, and the files of a ring buffer read as one timeline."""

from __future__ import annotations

import json
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

import icetrace
from icetrace.analysis import Analysis
from tests.corpus.truth import CAPTURES, load_truth, schema_problems
from tests.testdata import script

DERIVED = CAPTURES / "derived"
REAL = CAPTURES / "real"
INVENTED = re.compile(r"(?<![\d.])0\.0\.0\.0|:0(?!\d)")  # 0.0.0.0 or a port 0


def _derive() -> ModuleType:
    return sys.modules.get("derived_captures") or script(DERIVED / "derive.py", "derived_captures")


@cache
def analysis(*captures: Path) -> Analysis:
    return icetrace.analyze(list(captures))


def addresses(a: Analysis) -> list[str]:
    """Every address the JSON document names: candidates, pairs, flows, allocations, mappings."""
    doc = a.to_dict()
    out = []
    for s in doc["streams"]:
        for agent in (s["controlling"], s["controlled"]):
            out += [c["address"] for c in agent["candidates"]] if agent else []
        for c in s["components"]:
            for p in c["pairs"]:
                out += [p["controlling"]["address"], p["controlled"]["address"]]
        out += [f[k] for f in s["media_flows"] for k in ("src", "dst")]
    out += [a[k] for a in doc["allocations"] for k in ("client", "server", "relayed", "mapped") if a[k]]
    return out


def test_every_folder_regenerates_byte_for_byte(tmp_path):
    _derive().write(tmp_path)
    for folder in sorted(p for p in DERIVED.iterdir() if p.is_dir()):
        committed = sorted(p.name for p in folder.iterdir() if not p.name.endswith(".expected.json"))
        assert sorted(p.name for p in (tmp_path / folder.name).iterdir()) == committed, folder.name
        for name in committed:
            assert (tmp_path / folder.name / name).read_bytes() == (folder / name).read_bytes(), (folder.name, name)
        assert schema_problems(load_truth(folder)) == []


@pytest.mark.parametrize("tap", ["left-lan", "public"])
def test_a_late_start_invents_no_address(tap):
    a = analysis(DERIVED / "chromium-relay-late" / f"{tap}.pcap")
    named = addresses(a)
    assert named and not [n for n in named if INVENTED.search(n)]
    (stream,) = a.reconstruction.streams
    selected = stream.components[0].selected
    assert selected is not None
    truth = load_truth(DERIVED / "chromium-relay-late")
    (component,) = truth["agents"]["left"]["streams"][0]["components"]
    # the caller's relayed address: its signaled relay candidate (its Allocate is before the cut too)
    assert str(selected.controlling.address) == component["selected"]["local"]
    if tap == "left-lan":
        # the peer behind the channel is unknown: its ChannelBind is before the cut, the other leg elsewhere
        assert "peer behind channel 0x4000" in str(selected.controlled.address)
        assert "(binding not in capture)" in str(selected.controlled.address)
        assert selected.controlled.type == "unknown"
    else:
        # both clients' legs: a check leaves by one channel and arrives by the other, so each channel
        # leads to the other client's relayed address, and the pair is one
        assert str(selected.controlled.address) == component["selected"]["remote"]
        assert [p.state for p in stream.components[0].pairs] == ["succeeded"]
    assert "D2" not in {v.code for v in a.verdict_list}  # its mapping came with the Allocate, before the cut


def test_the_client_to_server_half_says_the_other_direction_is_missing():
    a = analysis(DERIVED / "aioice-turn-tcp-halves" / "client-to-server.pcap")
    truth = load_truth(REAL / "aioice-turn-tcp")
    client = truth["agents"]["left"]["lan_address"]
    notes = [n for n in a.reconstruction.vantage if n.startswith("one direction only")]
    assert len(notes) == 1
    assert f"203.0.113.254:3478 -> {client}:" in notes[0] and "NONCE" in notes[0]
    assert not {"D1", "D2", "D8"} & {v.code for v in a.verdict_list}
    from icetrace.ice.allocations import allocation_attempts

    (attempt,) = allocation_attempts(a.reconstruction)
    assert "not in the capture" in attempt.text() and "never answered" not in attempt.text()
    assert not [n for n in addresses(a) if INVENTED.search(n)]


def test_the_server_to_client_half_says_so_too_and_invents_no_peer():
    a = analysis(DERIVED / "aioice-turn-tcp-halves" / "server-to-client.pcap")
    assert [n for n in a.reconstruction.vantage if n.startswith("one direction only")]
    named = addresses(a)
    assert not [n for n in named if INVENTED.search(n)]
    assert any("binding not in capture" in n for n in named)


def ring() -> list[Path]:
    return sorted((DERIVED / "chromium-relay-ring").glob("public_*.pcap"))


def counts(a: Analysis) -> dict[str, object]:
    """What a reading says of the call: every figure but the frame references and file names."""
    doc = a.to_dict()
    streams = []
    for s in doc["streams"]:
        pairs = [
            {k: v for k, v in p.items() if k not in ("first_frame", "capture")}
            for c in s["components"]
            for p in c["pairs"]
        ]
        flows = sorted((f["src"], f["dst"], f["kind"], f["packets"]) for f in s["media_flows"])
        streams.append((s["outcome"], s["connectivity"], s["nomination_style"], pairs, flows))
    allocations = sorted((x["client"], x["relayed"]) for x in doc["allocations"])
    return {
        "streams": streams,
        "allocations": allocations,
        "transactions": len(a.transactions),
        "checks": len(a.checks),
        "verdicts": sorted(v["code"] for v in doc["verdicts"]),
    }


def test_the_files_of_a_ring_buffer_are_one_timeline():
    pieces = ring()
    assert len(pieces) == 3
    together = analysis(*pieces)
    whole = analysis(REAL / "chromium-relay" / "public.pcap")
    assert together.reconstruction.captures.timeline
    assert together.reconstruction.vantage[0].startswith("read as one timeline: 3 consecutive files")
    assert counts(together) == counts(whole)
    assert together.duplicate_messages == 0
    # frame references name their file, numbered as in it
    flows = together.to_dict()["streams"][0]["media_flows"]
    assert all(re.fullmatch(r"public_0000[0-2]_\d{14}\.pcap#\d+", f["first_frame"]) for f in flows)


def test_the_taps_of_one_call_are_not_a_timeline():
    taps = [REAL / "chromium-relay" / f"{t}.pcap" for t in ("left-lan", "public", "right-lan")]
    a = analysis(*taps)
    assert not a.reconstruction.captures.timeline
    assert a.reconstruction.vantage[0].startswith("read as 3 taps of one call (their times overlap")


def test_a_piece_alone_is_read_as_it_is():
    later = analysis(ring()[1])
    assert not later.reconstruction.captures.several
    assert not [n for n in addresses(later) if INVENTED.search(n)]
    doc = later.to_dict()
    assert all(isinstance(f, int) for v in doc["verdicts"] for f in v["frames"])


def test_the_golden_files_are_the_derived_captures():
    for folder in (p for p in DERIVED.iterdir() if p.is_dir()):
        truth = load_truth(folder)
        captures = sorted(p.name for p in folder.glob("*.pcap"))
        assert sorted(truth["vantage_points"]) == captures
        for name in captures:
            golden = json.loads((folder / f"{name}.expected.json").read_text())
            assert golden["calls"], name


def test_checks_whose_answers_travel_the_missing_direction_are_no_d8(tmp_path):
    """The client-to-server half, running on 15 s (an ARP frame at the end): the relayed checks time
    out, but their answers would come back in the direction the capture lacks, so no D8."""
    import struct

    data = (DERIVED / "aioice-turn-tcp-halves" / "client-to-server.pcap").read_bytes()
    offset, last = 24, (0, 0, b"")
    while offset < len(data):
        sec, usec, caplen, _ = struct.unpack_from("<IIII", data, offset)
        last = (sec, usec, data[offset + 16 : offset + 16 + caplen])
        offset += 16 + caplen
    arp = b"\xff" * 6 + last[2][6:12] + b"\x08\x06" + bytes(28)
    longer = tmp_path / "client-to-server-runs-on.pcap"
    longer.write_bytes(data + struct.pack("<IIII", last[0] + 15, last[1], len(arp), len(arp)) + arp)
    a = icetrace.analyze([longer])
    outcomes = {c.transaction.outcome for c in a.reconstruction.checks}
    assert outcomes == {"timeout"}
    assert not {"D1", "D8"} & {v.code for v in a.verdict_list}
