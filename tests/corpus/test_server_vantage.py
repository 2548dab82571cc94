"""Captures taken on servers' own interfaces (captures/servers/, recorded by record/vantage_lab.py):
at a TURN server behind a cloud's 1:1 NAT the relayed legs are the relayed pair, not NAT mappings or
candidates; a gateway on a public address is no server-reflexive candidate; a capture at a gateway's
own interface says so; and an agent that signals a=ice-lite but checks gets a note."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

import icetrace
from icetrace.analysis import Analysis
from tests.corpus.truth import CAPTURES, SYNTHETIC, load_truth

SERVERS = CAPTURES / "servers"
TURN = SERVERS / "turn-server-vantage"
LITE = SERVERS / "gateway-ice-lite"
TAPS = ("turn-server", "gateway", "left-lan", "public")


@cache
def read(*captures: Path, sdp: tuple[Path, ...] = ()) -> Analysis:
    return icetrace.analyze(list(captures), sdp=list(sdp))


def _agent(folder: Path, name: str) -> dict:
    return load_truth(folder)["agents"][name]["streams"][0]["components"][0]


def test_at_the_turn_server_the_relay_leg_is_the_relayed_pair():
    a = read(TURN / "turn-server.pcap")
    left = _agent(TURN, "left")["selected"]
    (stream,) = a.reconstruction.streams
    selected = stream.components[0].selected
    assert selected is not None and stream.connectivity == "RELAY"
    # the pair the left agent itself selected: its relayed address (coturn's public side) and the gateway
    assert (str(selected.controlling.address), str(selected.controlled.address)) == (left["local"], left["remote"])
    assert selected.controlling.type == "relay"
    # the relay port on coturn's own interface is no candidate and no NAT's inside
    relayed = left["local"].rpartition(":")
    port_inside = f"10.0.22.48:{relayed[2]}"
    assert not [
        c
        for s in a.reconstruction.streams
        for ag in (s.controlling, s.controlled)
        if ag
        for c in ag.candidates
        if str(c.address) == port_inside
    ]
    assert not [m for m in a.reconstruction.nat_mappings if port_inside in (str(m.inside), str(m.outside))]
    (note,) = [n for n in a.reconstruction.vantage if n.startswith("captured at the TURN server")]
    assert "10.0.22.48:3478" in note and left["local"] in note and "1:1 NAT" in note


def test_at_the_turn_server_media_is_counted_once():
    """The relay leg's own copy (relay port <-> gateway) and the client leg's ChannelData are one flow."""
    alone = {
        (str(f.src), str(f.dst), f.kind): f.packets
        for f in read(TURN / "turn-server.pcap").reconstruction.streams[0].media_flows
    }
    assert alone and set(alone.values()) == {20}  # aioice_agent.py sends 20 datagrams each way


def test_a_gateway_on_a_public_address_is_no_server_reflexive_candidate():
    gateway = _agent(TURN, "gateway")
    host = next(c["address"] for c in gateway["local_candidates"] if c["type"] == "host")
    for tap in TAPS:
        a = read(TURN / f"{tap}.pcap")
        types = {
            c.type
            for s in a.reconstruction.streams
            for ag in (s.controlling, s.controlled)
            if ag
            for c in ag.candidates
            if str(c.address) == host
        }
        assert types and "srflx" not in types, (tap, types)


def test_a_capture_at_the_gateways_own_interface_says_so():
    gateway = _agent(TURN, "gateway")
    host = next(c["address"] for c in gateway["local_candidates"] if c["type"] == "host")
    notes = read(TURN / "gateway.pcap").reconstruction.vantage
    assert any(f"every packet of the capture is to or from {host}" in n and "own interface" in n for n in notes)
    signaled = read(LITE / "gateway.pcap", sdp=(LITE / "offer.sdp", LITE / "answer.sdp"))
    lite_host = _agent(LITE, "gateway")["local_candidates"][0]["address"]
    assert any(
        f"to or from {lite_host}, its host candidate: captured at its own interface" in n
        for n in signaled.reconstruction.vantage
    )


def test_taps_of_the_server_call_agree_with_each_tap():
    merged = read(*(TURN / f"{tap}.pcap" for tap in TAPS))
    assert len(merged.reconstruction.allocations) == 1  # one Allocate seen at three taps
    selected = merged.reconstruction.streams[0].components[0].selected
    left = _agent(TURN, "left")["selected"]
    assert (str(selected.controlling.address), str(selected.controlled.address)) == (left["local"], left["remote"])
    flows = {
        (f.kind, f.src == selected.controlling.address): f.packets for f in merged.reconstruction.streams[0].media_flows
    }
    assert flows == {("data", True): 20, ("data", False): 20}


def _binding_requests_from(capture: Path, address: str) -> list[int]:
    """Frames tshark shows as Binding requests with a USERNAME sent from `address` (IP:port)."""
    ip, _, port = address.rpartition(":")
    out = subprocess.run(
        ["tshark", "-n", "-r", str(capture), "-Y", f"stun.type == 0x0001 && ip.src == {ip} && udp.srcport == {port}",
         "-T", "fields", "-e", "frame.number", "-e", "stun.att.username"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return [int(line.split("\t")[0]) for line in out.splitlines() if line.split("\t")[1:] and line.split("\t")[1]]


def test_an_ice_lite_agent_that_checks_gets_a_note():
    """libnice 0.1.21 in lite mode sends a Binding request of its own to the full agent: a lite agent
    only answers checks (RFC 8445 §2.5); tshark shows the request, icetrace notes it with its frame."""
    host = _agent(LITE, "gateway")["local_candidates"][0]["address"]
    frames = _binding_requests_from(LITE / "gateway.pcap", host)
    assert frames
    a = read(LITE / "gateway.pcap", sdp=(LITE / "offer.sdp", LITE / "answer.sdp"))
    (lite,) = [v for v in a.verdict_list if v.code == "LITE-CHECKS"]
    assert set(lite.frames) == set(frames) and "a=ice-lite" in lite.message
    # without the signaling nothing says it is lite: no note
    assert "LITE-CHECKS" not in {v.code for v in read(LITE / "gateway.pcap").verdict_list}


def test_a_lite_gateway_that_checks_and_nominates_nothing_is_told_apart():
    folder = SYNTHETIC / "lite_gateway_checks"
    truth = load_truth(folder)
    a = read(folder / "capture.pcap", sdp=(folder / "offer.sdp", folder / "answer.sdp"))
    codes = {v.code for v in a.verdict_list}
    assert set(truth["expected_verdicts"]) <= codes
    (lite,) = [v for v in a.verdict_list if v.code == "LITE-CHECKS"]
    assert "sent 2 connectivity check(s)" in lite.message and "as controlled" in lite.message
    (stream,) = a.reconstruction.streams
    assert stream.controlling is not None and not stream.controlling.ice_lite  # the full agent controls
    assert stream.controlled is not None and stream.controlled.ice_lite
