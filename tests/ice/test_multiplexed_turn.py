"""MS multiplexed TURN (0xFF10) travels two legs: a peer answering a check that reached it from a
relayed address naming a session sends back to that address inside 0xFF10 (what it carries is
between the peer and the relayed address), while a client sending to its own server is on its
client-to-server leg. Held to tshark's reading of Teams' capture and to captures built with the
project's codec."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

import icetrace
from dissectors.codec import encode_channel_data, encode_stun
from tests import testdata

TEAMS = testdata.PUBLIC / "ntop_nDPI" / "teams.pcap"


def _tshark(path: Path, display_filter: str, *fields: str) -> list[list[str]]:
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", display_filter, "-T", "fields"]
        + [arg for f in fields for arg in ("-e", f)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line.split("\t") for line in out.splitlines()]


@pytest.mark.tshark
def test_teams_multiplexed_answers_answer_the_checks_that_named_their_session():
    path = testdata.require(TEAMS)
    frames = _tshark(path, "stun.channel == 0xff10", "frame.number", "ip.src", "udp.srcport", "ip.dst", "udp.dstport")
    frames = [[*row, *_tshark(path, f"frame.number == {row[0]}", "udp.payload")[0]] for row in frames]
    assert len(frames) == 2
    transactions = icetrace.analyze([path]).transactions
    for number, src, sport, dst, dport, payload in frames:
        session, inner = payload[8:24], payload[24:]
        assert inner[:4] == "0101"  # a Binding success response, after 0xFF10, length and session id
        tid = inner[16:40]  # after type, length and the magic cookie
        # the request: from where the answer went, to where it came from, naming that session
        (request,) = _tshark(
            path,
            f"stun.id == {tid} && stun.type == 0x0001",
            "frame.number",
            "ip.src",
            "udp.srcport",
            "ip.dst",
            "udp.dstport",
            "stun.att.ms.multiplexed_turn_session_id",
        )
        assert request[1:5] == [dst, dport, src, sport]
        assert int(request[5], 16) == int(session, 16)
        (t,) = transactions[transactions.transaction_id.eq(tid)].itertuples()
        assert (t.first_frame, t.response_frame, t.outcome) == (int(request[0]), int(number), "success")
        assert (t.src, t.dst, t.relayed) == (f"{dst}:{dport}", f"{src}:{sport}", False)


@pytest.mark.tshark
def test_teams_addresses_whose_checks_name_a_session_are_relayed_candidates():
    path = testdata.require(TEAMS)
    rows = _tshark(path, "stun.type == 0x0001 && stun.att.ms.multiplexed_turn_session_id", "ip.src", "udp.srcport")
    naming = {f"{ip}:{port}" for ip, port in rows}
    assert naming == {"52.114.252.8:3479", "52.114.252.21:3480"}  # the remote agent's checks, unwrapped
    candidates = icetrace.analyze([path]).candidates
    types = dict(zip(candidates.address, candidates.type, strict=True))
    assert {types[address] for address in naming} == {"relay"}
    # a public address whose checks name no session: nothing in the capture says what it is
    assert types["93.71.110.205:16332"] == "unknown"


CLIENT = ("192.0.2.10", 50000)  # a TURN client of SERVER
SERVER = ("198.51.100.1", 3478)
OWN_RELAYED = ("198.51.100.1", 3480)
PEER = ("192.0.2.20", 50010)  # answers the far agent's relayed checks
FAR_RELAYED = ("203.0.113.5", 3480)  # the far agent's relayed address on its multiplexed relay
SESSION = bytes.fromhex("deaa296708f708fc")


def _udp(payload: bytes, src, dst, t: float):
    p = Ether(src="00:00:5e:00:53:01", dst="00:00:5e:00:53:02") / IP(src=src[0], dst=dst[0])
    p = p / UDP(sport=src[1], dport=dst[1]) / payload
    p.time = 1_700_000_000 + t
    return p


def _check(tid: bytes, cls: int = 0x0001, session: bytes | None = None) -> bytes:
    attributes: list[tuple[str, object]] = [("USERNAME", b"farU:nearU"), ("PRIORITY", 1862269438)]
    if cls != 0x0001:
        attributes = []
    if session is not None:
        attributes.append(("MULTIPLEXED-TURN-SESSION-ID", session))
    return encode_stun(cls, tid, attributes, fingerprint=True)


def _multiplexed_capture(path: Path) -> None:
    rtp = b"\x80\x00" + bytes(40)
    packets = [
        # the far agent's check, relayed from its multiplexed allocation, names the session
        _udp(_check(b"\x01" * 12, session=SESSION), FAR_RELAYED, PEER, 0.0),
        # the peer answers that address inside 0xFF10 with that session id, then sends media so
        _udp(encode_channel_data(0xFF10, _check(b"\x01" * 12, 0x0101), session_id=SESSION), PEER, FAR_RELAYED, 0.01),
        *(
            _udp(encode_channel_data(0xFF10, rtp, session_id=SESSION), PEER, FAR_RELAYED, 0.1 + i / 50)
            for i in range(5)
        ),
        # a client on its own allocation sends to its server inside 0xFF10: its client-to-server leg
        _udp(encode_stun(0x0003, b"\x02" * 12, [("REQUESTED-TRANSPORT", 17)]), CLIENT, SERVER, 1.0),
        _udp(encode_stun(0x0103, b"\x02" * 12, [("XOR-RELAYED-ADDRESS", OWN_RELAYED)]), SERVER, CLIENT, 1.01),
        _udp(encode_channel_data(0xFF10, _check(b"\x03" * 12), session_id=SESSION), CLIENT, SERVER, 1.1),
        _udp(encode_channel_data(0xFF10, _check(b"\x03" * 12, 0x0101), session_id=SESSION), SERVER, CLIENT, 1.2),
    ]
    wrpcap(str(path), packets)


def test_a_peer_s_multiplexed_answer_is_between_the_peer_and_the_relayed_address(tmp_path):
    path = tmp_path / "multiplexed.pcap"
    _multiplexed_capture(path)
    analysis = icetrace.analyze([path])
    t = analysis.transactions.set_index("transaction_id")
    answered = t.loc["01" * 12]
    assert (answered.src, answered.dst, answered.relayed) == ("203.0.113.5:3480", "192.0.2.20:50010", False)
    assert (answered.first_frame, answered.response_frame, answered.outcome) == (1, 2, "success")
    # the client's own leg stays a leg: its check leaves from its relayed address
    own = t.loc["03" * 12]
    assert (own.src, own.relayed, own.outcome) == ("198.51.100.1:3480", True, "success")
    # the peer's media in 0xFF10 is the pair's media, between the peer and the relayed address
    media = analysis.media
    relayed = media[media.relay_via.eq("ms-multiplexed")]
    assert [(m.src, m.dst, m.kind, m.packets) for m in relayed.itertuples()] == [
        ("192.0.2.20:50010", "203.0.113.5:3480", "rtp", 5)
    ]
    types = dict(zip(analysis.candidates.address, analysis.candidates.type, strict=True))
    assert types["203.0.113.5:3480"] == "relay"  # its check named a session
    (stream,) = analysis.reconstruction.streams
    carried = [(str(f.src), str(f.dst), f.kind, f.packets) for f in stream.media_flows]
    assert carried == [("192.0.2.20:50010", "203.0.113.5:3480", "rtp", 5)]  # counted once, as what it carried
