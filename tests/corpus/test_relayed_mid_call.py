"""A TURN server's capture from mid-call: relayed media is counted per channel/permission and peer."""

from __future__ import annotations

import io
import json
from pathlib import Path

import icetrace
from icetrace.cli import main
from tests.testdata import script

ROOT = Path(__file__).resolve().parents[2]
SYNTHETIC = ROOT / "captures" / "synthetic"
FOLDER = SYNTHETIC / "relayed_mid_call"
CAPTURE = FOLDER / "capture.pcap"


def _truth() -> dict:
    return json.loads((FOLDER / "truth.json").read_text())


def _messages(*options: str) -> list[dict]:
    out = io.StringIO()
    assert main(["messages", "--format", "jsonl", *options, str(CAPTURE)], stdout=out, stderr=io.StringIO()) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_regenerates_byte_for_byte(tmp_path):
    written = script(SYNTHETIC / "relayed_mid_call.py", "relayed_mid_call").write(tmp_path / "relayed_mid_call")
    assert written.read_bytes() == CAPTURE.read_bytes()
    assert (tmp_path / "relayed_mid_call" / "truth.json").read_text() == (FOLDER / "truth.json").read_text()


def test_every_channel_data_frame_is_listed_from_the_first_frame():
    """No Allocate and no ChannelBind before them: the length fields alone make them ChannelData."""
    rows = _messages()
    channel_data = [r for r in rows if r["kind"] == "channeldata"]
    expected = sum(2 * leg["packets_each_way"] for leg in _truth()["relayed"] if leg["via"] == "channeldata")
    assert len(channel_data) == expected + 1  # and the one that carried the consent check
    assert min(r["frame"] for r in rows) == 1
    assert {r["type"] for r in channel_data} == {leg["channel"] for leg in _truth()["relayed"] if leg["channel"]}


def test_no_media_leaves_only_the_stun_messages_and_their_wrappers():
    rows = _messages("--no-media")
    stun = [r for r in rows if r["kind"] == "stun"]
    assert len(stun) == _truth()["stun_messages"]
    assert len(rows) == len(stun) + 1  # the ChannelData around the consent check is not media
    assert len(_messages()) > len(rows)


def test_relayed_media_is_counted_per_channel_or_permission_and_peer():
    truth = _truth()
    analysis = icetrace.analyze([CAPTURE])
    media = analysis.media
    relayed = media[media.relay_via.notna()]
    for leg in truth["relayed"]:
        mine = relayed[(relayed.relay_peer == leg["peer"]) & (relayed.relay_server == leg["server"])]
        assert set(mine.kind) == {leg["kind"]}
        # both ways: to the peer and from it
        assert sorted(mine.packets) == [leg["packets_each_way"]] * 2
        assert set(mine.src) | set(mine.dst) >= {leg["peer"]}
        if leg["channel"] is not None:
            assert set(mine.channel) == {leg["channel"]}
        else:
            assert set(mine.relay_via) == {"send-indication", "data-indication"}
    # counted, not kept: only the checks and bindings remain records
    assert len(analysis.reconstruction.records) == truth["stun_messages"] + 1
    assert analysis.reconstruction.relayed_messages == sum(2 * leg["packets_each_way"] for leg in truth["relayed"])
    assert int(relayed.first_frame.min()) == 1


def test_the_packet_source_counts_what_the_records_would():
    """analyze counts UDP ChannelData in the packet source; counting the records gives the same flows."""
    from icetrace.capture.packet_source import PacketSource
    from icetrace.ice.correlator import correlate
    from icetrace.records.extract import iter_stun_records
    from icetrace.records.relayed import RelayedCounter

    source = PacketSource([CAPTURE])
    counter = RelayedCounter()
    records = [r for r in iter_stun_records(source) if not counter.add(r)]
    summary = source.summary()
    by_records = correlate(records, capture_end=summary.end, media=summary.media_flows, relayed=counter.counts())
    by_source = icetrace.analyze([CAPTURE]).reconstruction
    assert by_source.relayed_messages == by_records.relayed_messages > 0
    assert sorted(map(repr, by_source.relayed_media)) == sorted(map(repr, by_records.relayed_media))
