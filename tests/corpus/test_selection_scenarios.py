"""Synthetic scenarios about which pair a capture shows in use: a stale nomination, and media that
proves connectivity before any nomination was captured."""

from __future__ import annotations

import pytest

import icetrace
from icetrace.records.endpoint import Endpoint
from tests.corpus.truth import CAPTURES, SYNTHETIC, load_truth, pair_addresses

NAMES = ["stale_nomination", "media_after_success", "relayed_media_after_success"]


def _selected_per_component(doc: dict) -> dict[int, dict]:
    (stream,) = doc["streams"]
    return {c["component"]: c for c in stream["components"]}


def test_stale_nomination_gives_way_to_the_pair_kept_nominated():
    folder = SYNTHETIC / "stale_nomination"
    truth = load_truth(folder)
    analysis = icetrace.analyze([folder / "capture.pcap"])
    doc = analysis.to_dict()
    (stream,) = doc["streams"]
    assert stream["outcome"] == truth["expected_outcome"] == "connected"
    assert stream["controlling"]["name"] == "caller"
    left = truth["agents"]["left"]["streams"][0]["components"]
    components = _selected_per_component(doc)
    for comp in left:
        got = components[comp["component"]]
        want = comp["selected"]
        sel = got["selected"]
        assert pair_addresses(sel) == {want["local"], want["remote"]}
        assert sel["selected_because"] == "nominated-latest"
        # socket A's pair was nominated too, and by priority alone (RFC 8445 §8.1.1) it would win
        (stale,) = [p for p in got["pairs"] if p["nominated"] and pair_addresses(p) != pair_addresses(sel)]
        assert stale["state"] == "succeeded" and stale["priority"] > sel["priority"]
        assert stale["selected_because"] is None
        # every check from socket B was answered, every 0.5 s to the end of the capture
        from_b = analysis.checks[analysis.checks.src == sel["controlling"]["address"]]
        assert len(from_b) > 10 and set(from_b.outcome) == {"success"} and from_b.use_candidate.all()
        assert from_b.time.max() > analysis.checks.time.min() + 9
    pairs = analysis.pairs
    assert pairs[pairs.selected].selected_because.tolist() == ["nominated-latest", "nominated-latest"]
    assert "D13" not in {v.code for v in analysis.verdict_list}


def test_media_after_success_means_connected():
    folder = SYNTHETIC / "media_after_success"
    truth = load_truth(folder)
    analysis = icetrace.analyze([folder / "capture.pcap"])
    doc = analysis.to_dict()
    (stream,) = doc["streams"]
    assert stream["outcome"] == truth["expected_outcome"] == "connected"
    want = truth["agents"]["left"]["streams"][0]["components"][0]["selected"]
    sel = _selected_per_component(doc)[1]["selected"]
    assert pair_addresses(sel) == {want["local"], want["remote"]}
    assert sel["selected_because"] == "media-only" and not sel["nominated"]
    # DTLS both ways and SRTP both ways, all on the selected pair
    kinds = {(f["kind"], f["src"]) for f in stream["media_flows"]}
    assert kinds == {(k, a) for k in ("dtls", "rtp") for a in (want["local"], want["remote"])}
    assert analysis.media.on_selected_pair.all()
    # the capture ending 0.8 s after the success is a vantage note, not an error
    assert not [v for v in analysis.verdict_list if v.severity == "error"]
    assert any("ends 0.8 s after the first successful check" in n for n in doc["vantage"])


def test_media_through_a_turn_channel_means_connected_on_the_relayed_pair():
    folder = SYNTHETIC / "relayed_media_after_success"
    truth = load_truth(folder)
    analysis = icetrace.analyze([folder / "capture.pcap"])
    doc = analysis.to_dict()
    (stream,) = doc["streams"]
    assert stream["outcome"] == truth["expected_outcome"] == "connected"
    assert stream["connectivity"] == "RELAY"
    want = truth["agents"]["left"]["streams"][0]["components"][0]["selected"]
    sel = _selected_per_component(doc)[1]["selected"]
    assert pair_addresses(sel) == {want["local"], want["remote"]}
    assert sel["selected_because"] == "media-only"
    # the media is given by the relayed pair's addresses, both ways, and only the data after the
    # checks: the two ChannelData frames that carried checks and the two that carried answers are not media
    flows: dict[tuple[str, str], int] = {}
    for f in stream["media_flows"]:
        flows[(f["src"], f["dst"])] = flows.get((f["src"], f["dst"]), 0) + f["packets"]
    assert set(flows) == {(want["local"], want["remote"]), (want["remote"], want["local"])}
    leg = analysis.media[analysis.media.kind == "channeldata"]
    assert leg.packets.sum() == sum(flows.values()) and leg.checks.sum() == 4  # the leg's media, its checks apart
    assert not [v for v in analysis.verdict_list if v.severity == "error"]


def test_without_the_media_the_same_checks_leave_the_outcome_open(tmp_path):
    """The checks alone, cut where the DTLS began: nothing proves a selection, nothing is an error."""
    from scapy.layers.inet import UDP  # also registers the layers rdpcap dissects Ethernet/IP with
    from scapy.utils import rdpcap, wrpcap

    packets = rdpcap(str(SYNTHETIC / "media_after_success" / "capture.pcap"))
    checks_only = tmp_path / "checks.pcap"
    wrpcap(str(checks_only), [p for p in packets if bytes(p[UDP].payload)[0] < 4])
    analysis = icetrace.analyze([checks_only])
    (stream,) = analysis.reconstruction.streams
    assert stream.outcome == "unknown" and all(c.selected is None for c in stream.components)
    assert "D13" not in {v.code for v in analysis.verdict_list}
    assert stream.ended_before_nomination


@pytest.mark.parametrize("tap", ["left-lan", "right-lan", "public"])
def test_baresip_rtcp_component_is_selected_by_its_media(tap):
    """baresip 1.0 never nominated the RTCP component's pair on the wire, but RTCP flowed on the one
    pair of component 2 whose checks succeeded; the right agent reports that pair as selected."""
    folder = CAPTURES / "real" / "baresip-kamailio"
    truth = load_truth(folder)
    right = next(c for c in truth["agents"]["right"]["streams"][0]["components"] if c["component"] == 2)
    doc = icetrace.analyze([folder / f"{tap}.pcap"]).to_dict()
    (stream,) = [s for s in doc["streams"] if s["call_id"]]
    comp = next(c for c in stream["components"] if c["component"] == 2)
    sel = comp["selected"]
    assert sel is not None and sel["selected_because"] == "media-only" and not sel["nominated"]
    # the right agent's selected pair, as this tap sees its ports (a NAT keeps them here)
    ports = {Endpoint.parse(a).port for a in pair_addresses(sel)}
    assert ports == {Endpoint.parse(right["selected"]["local"]).port, Endpoint.parse(right["selected"]["remote"]).port}
    kinds = {f["kind"] for f in stream["media_flows"]}
    assert "rtcp" in kinds
