"""What a new signaling transport needs (docs/architecture.md, "A signaling transport"): a start test
in `SIGNALING_STREAM_STARTS` makes the packet source follow its TCP streams, and a collector fed by
`SignalingCollector` reaches every place signaling is read (captures, logs' captures, TLS streams)."""

from __future__ import annotations

import ast

from scapy.layers.l2 import Ether

from dissectors import start_line
from icetrace.capture.packet_source import PacketSource
from tests.capture.test_packet_source import tcp_segments, write
from tests.testdata import ROOT

XMPP = b"<?xml version='1.0'?><stream:stream to='example.com' xmlns='jabber:client'>" + b"<presence/>" * 20


def _handed_on(path) -> bytes:
    return b"".join(p.payload for p in PacketSource([path]) if p.transport == "tcp")


def test_a_start_test_is_all_the_packet_source_needs_to_follow_a_transport(tmp_path, monkeypatch):
    path = write(tmp_path, [Ether() / s for s in tcp_segments(XMPP, [100, len(XMPP) - 100])])
    assert _handed_on(path) == b""  # no signaling protocol opens it: not followed
    monkeypatch.setattr(
        start_line, "SIGNALING_STREAM_STARTS", (*start_line.SIGNALING_STREAM_STARTS, lambda b: b.startswith(b"<?xml"))
    )
    assert _handed_on(path) == XMPP


def _constructed(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def test_collectors_are_fed_only_through_the_signaling_collector():
    """One owner of the fan-out: a collector made anywhere else would miss some of the readers."""
    collect = ROOT / "icetrace" / "signaling" / "collect.py"
    elsewhere = {
        f"{path.relative_to(ROOT).as_posix()}: {name}"
        for path in sorted((ROOT / "icetrace").rglob("*.py"))
        if path != collect
        for name in _constructed(path)
        if name.endswith("Collector") and name != "SignalingCollector"
    }
    assert elsewhere == set()
    assert {"SipCollector", "AppSignalingCollector"} <= _constructed(collect)
    feeding = {
        path.relative_to(ROOT).as_posix()
        for path in sorted((ROOT / "icetrace").rglob("*.py"))
        if "SignalingCollector" in _constructed(path)
    }
    assert feeding == {
        "icetrace/reading.py",
        "icetrace/live/tracker.py",
        "icetrace/signaling/sources.py",
        "icetrace/signaling/collect.py",
    }
