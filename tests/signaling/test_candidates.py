"""Candidate grammars: tables of valid and invalid lines."""

from __future__ import annotations

import pytest

from icetrace.records.endpoint import Endpoint
from icetrace.signaling.candidate import (
    CandidateSyntaxError,
    parse_candidate_line,
    parse_remote_candidate_v6,
    parse_remote_candidates,
)
from tests import testdata
from tests.signaling.lync_messages import ICE19_LINES, ICEV6_LINES

VALID = [
    (
        "a=candidate:1 1 UDP 2130706431 192.168.0.10 50036 typ host",
        ("1", 1, "udp", 2130706431, "192.168.0.10:50036", "host", None, None, "rfc5245"),
    ),
    (
        "candidate:842163049 1 udp 1677729535 213.141.156.236 55726 typ srflx raddr 10.1.22.220 rport 56024 "
        "generation 0",
        ("842163049", 1, "udp", 1677729535, "213.141.156.236:55726", "srflx", "10.1.22.220:56024", None, "rfc5245"),
    ),
    (
        "a=candidate:2 1 TCP-PASS 6556159 198.51.100.20 52899 typ relay raddr 84.155.254.180 rport 52899",
        ("2", 1, "tcp", 6556159, "198.51.100.20:52899", "relay", "84.155.254.180:52899", "passive", "ms-ice19"),
    ),
    (
        "a=candidate:4 2 TCP-ACT 7076350 198.51.100.20 52899 typ relay raddr 84.155.254.180 rport 52899",
        ("4", 2, "tcp", 7076350, "198.51.100.20:52899", "relay", "84.155.254.180:52899", "active", "ms-ice19"),
    ),
    (
        "a=candidate:7 1 tcp 1518280447 192.0.2.5 9 typ host tcptype active",
        ("7", 1, "tcp", 1518280447, "192.0.2.5:9", "host", None, "active", "rfc5245"),
    ),
    (
        "a=candidate:4294175796 1 udp 2113939711 2001:67c:56c:100::3 36737 typ host generation 0",
        ("4294175796", 1, "udp", 2113939711, "[2001:67c:56c:100::3]:36737", "host", None, None, "rfc5245"),
    ),
    (
        "a=candidate:1 1 udp 2122260223 4a1b2c3d-1111-2222-3333-444455556666.local 54400 typ host",
        ("1", 1, "udp", 2122260223, "4a1b2c3d-1111-2222-3333-444455556666.local:54400", "host", None, None, "rfc5245"),
    ),
]


@pytest.mark.parametrize("line, expect", VALID, ids=[v[0][:40] for v in VALID])
def test_valid_lines(line, expect):
    c = parse_candidate_line(line)
    related = str(c.related) if c.related else None
    got = (c.foundation, c.component, c.transport, c.priority, str(c.address), c.type, related, c.tcptype, c.grammar)
    assert got == expect


INVALID = [
    ("a=candidate:1 1 UDP 2130706431 192.168.0.10", "expected at least 6 fields, found 5"),
    (
        "a=candidate:1 1 SCTP 2130706431 192.168.0.10 5000 typ host",
        "transport 'SCTP' is not UDP, TCP, TCP-ACT or TCP-PASS",
    ),
    (
        "a=candidate:1 1 UDP 2130706431 192.168.0.10 5000 typ moon",
        "candidate type 'moon' is not host, srflx, prflx or relay",
    ),
    ("a=candidate:1 1 UDP 2130706431 192.168.0.10 70000 typ host", "connection port '70000' is not a number 0-65535"),
    ("a=candidate:1 0 UDP 2130706431 192.168.0.10 5000 typ host", "component '0' is not a number 1-256"),
    (
        "a=candidate:1 1 UDP -5 192.168.0.10 5000 typ host",
        "priority '-5' is not a number 1-2147483647 (RFC 8445 §5.1.2)",
    ),
    (
        "a=candidate:1 1 UDP 2147483648 192.168.0.10 5000 typ host",
        "priority '2147483648' is not a number 1-2147483647 (RFC 8445 §5.1.2)",
    ),
    ("a=candidate:1 1 UDP 1677729535 213.141.156.236 55726 typ srflx raddr", "extension 'raddr' has no value"),
    (
        "a=candidate:1 1 UDP 1677729535 213.141.156.236 55726 typ srflx raddr 10.0.0.1 gen 0",
        "raddr and rport must come together",
    ),
    ("a=candidate:1 1 tcp 1 192.0.2.5 9 typ host tcptype sideways", "tcptype 'sideways' is not active, passive or so"),
    ("a=candidate:uuK9 1 UwaQ UDP 1.850 192.168.0.10 50005", "ICEv6 q-value 1.850 is outside 0.0-1.0"),
    ("a=candidate:uuK9 1 UwaQ SCTP 0.850 192.168.0.10 50005", "ICEv6 transport 'SCTP' is not UDP or TCP"),
    ("a=candidate:uuK9 1 UwaQ UDP high 192.168.0.10 50005", "ICEv6 q-value 'high' is not a decimal number"),
    (
        "a=candidate:bad{foundation} 1 UDP 1 192.168.0.10 5000 typ host",
        "foundation 'bad{foundation}' is not 1-32 ice-chars",
    ),
]


@pytest.mark.parametrize("line, message", INVALID, ids=[m for _, m in INVALID])
def test_invalid_lines(line, message):
    with pytest.raises(CandidateSyntaxError) as info:
        parse_candidate_line(line)
    assert str(info.value) == message


def test_seed_icev6_table():
    cands = [parse_candidate_line(line) for line in ICEV6_LINES.splitlines()]
    assert len(cands) == 10
    first = cands[0]
    assert (first.grammar, first.username, first.password, first.weight, first.type) == (
        "ms-icev6",
        "uuK9Gym3F0zReasv+FyKCM",
        "UwaQkvk5hiWgVg",
        0.85,
        None,
    )
    assert [c.priority for c in cands[::2]] == [850, 190, 490, 250, 550]
    assert {c.transport for c in cands} == {"udp", "tcp"}


def test_seed_ice19_table():
    cands = [parse_candidate_line(line) for line in ICE19_LINES.splitlines()]
    assert [c.type for c in cands[::2]] == ["host", "relay", "relay", "relay", "srflx", "srflx"]
    assert [c.tcptype for c in cands if c.transport == "tcp"] == [
        "passive",
        "passive",
        "active",
        "active",
        "active",
        "active",
    ]
    assert cands[10].address == Endpoint("84.155.254.180", 50033)  # the seed's XOR example


def test_remote_candidates():
    got = parse_remote_candidates("a=remote-candidates:1 198.51.100.21 53000 2 198.51.100.21 53001")
    assert [(r.component, str(r.address)) for r in got] == [(1, "198.51.100.21:53000"), (2, "198.51.100.21:53001")]
    with pytest.raises(CandidateSyntaxError, match="triples"):
        parse_remote_candidates("a=remote-candidates:1 51721 2 58975")  # the seed's address-less example
    v6 = parse_remote_candidate_v6("a=remote-candidate:uuK9Gym3F0zReasv+FyKCM")
    assert v6.username == "uuK9Gym3F0zReasv+FyKCM" and v6.address is None


def test_browser_sdp_corpus_parses():
    from icetrace.signaling.sdp import parse_sdp

    desc = parse_sdp(testdata.require(testdata.VECTORS / "webrtc_sdp-corpus" / "unittest-1.sdp").read_text())
    assert desc.media and all(m.ice_ufrag for m in desc.media if m.candidates)
    gortc = parse_sdp(testdata.require(testdata.VECTORS / "gortc_ice" / "candidates_ex1.sdp").read_text())
    assert sum(len(m.candidates) for m in gortc.media) >= 3
    assert any("raddr' has no value" in p for p in gortc.problems)  # the corpus's truncated line
