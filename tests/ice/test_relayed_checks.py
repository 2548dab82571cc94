"""A TURN leg's ChannelData counts as media only when it carried media: the checks inside it are
counted apart (the media table's `checks`), as tshark reads the bytes, and the ladder agrees."""

from __future__ import annotations

import io
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

import icetrace
from dissectors.codec import encode_channel_data, encode_stun
from icetrace.capture.packet_source import PacketSource
from icetrace.report.text import write_report
from tests import testdata

REAL = testdata.CAPTURES / "real"
LEGS = [
    REAL / "baresip-relay-only" / "left-lan.pcap",  # checks in ChannelData, no media follows
    REAL / "chromium-relay" / "left-lan.pcap",  # Send indications, then ChannelData with media and checks
    REAL / "aioice-direct-blocked" / "public.pcap",  # two clients of one relay seen from the middle
    REAL / "aioice-turn-tcp" / "left-lan.pcap",  # ChannelData over TCP
    testdata.PUBLIC / "ntop_nDPI" / "teams.pcap",  # MS multiplexed TURN (0xFF10) carrying an answer
]


def tshark_channel_data(path: Path) -> Counter[tuple[str, str, str, bool]]:
    """(src, dst, transport, carried STUN) -> ChannelData frames, as tshark decodes them (several in
    one TCP segment each count); RFC 7983: a first byte 0-3 is STUN."""
    fields = ["ip.src", "udp.srcport", "tcp.srcport", "ip.dst", "udp.dstport", "tcp.dstport", "stun.channel"]
    fields.append("data.data")
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", "stun.channel", "-T", "fields", "-E", "occurrence=a"]
        + [arg for f in fields for arg in ("-e", f)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    counts: Counter[tuple[str, str, str, bool]] = Counter()
    for line in out.splitlines():
        src, usport, tsport, dst, udport, tdport, channels, data = line.split("\t")
        transport = "udp" if usport else "tcp"
        ends = (f"{src}:{usport or tsport}", f"{dst}:{udport or tdport}")
        payloads = data.split(",") if data else []
        carried_stun = [int(p[:2], 16) <= 3 for p in payloads]
        # a ChannelData whose STUN tshark decodes has no data field: the channels it lists are the rest
        carried_stun += [True] * (len(channels.split(",")) - len(payloads))
        for stun in carried_stun:
            counts[(*ends, transport, stun)] += 1
    return counts


@pytest.mark.tshark
@pytest.mark.parametrize("capture", LEGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_leg_counts_its_media_and_its_checks_apart_as_tshark_reads_them(capture):
    path = testdata.require(capture)
    expected = tshark_channel_data(path)
    assert expected, "no ChannelData for tshark"
    media = icetrace.analyze([path]).media
    legs = media[media.kind.eq("channeldata") & media.relay_via.isna()]
    got: Counter[tuple[str, str, str, bool]] = Counter()
    for leg in legs.itertuples():
        got[(leg.src, leg.dst, leg.transport, False)] += leg.packets
        got[(leg.src, leg.dst, leg.transport, True)] += leg.checks
    assert +got == +expected


INDICATION_LEGS = [
    REAL / "chromium-relay" / "left-lan.pcap",  # Send/Data indications carrying checks, then ChannelData
    REAL / "libnice-symmetric" / "public.pcap",  # two clients' indications and ChannelData, seen from the middle
    testdata.PUBLIC / "ntop_nDPI" / "teams.pcap",  # MS-TURN Send requests and Data indications carrying checks
    testdata.CAPTURES / "lync" / "seed-call" / "capture.pcap",  # the seed call's MS-TURN checks
    testdata.CAPTURES / "synthetic" / "relayed_mid_call" / "capture.pcap",  # media in Send/Data indications
]
STANDARD = {"0x0016": "send-indication", "0x0017": "data-indication"}  # RFC 8656 §11
MS_TURN = {"0x0004": "ms-send-request", "0x0115": "ms-data-indication"}  # [MS-TURN]: MAGIC-COOKIE attribute first
INDICATIONS = STANDARD | MS_TURN


def tshark_indications(path: Path) -> Counter[tuple[str, str, str, str, bool]]:
    """(src, dst, transport, wrapper, carried STUN) -> Send/Data indications (MS-TURN Send requests and
    Data indications), as tshark decodes them (MS-TURN's without the cookie as CLASSIC-STUN); what
    the DATA attribute holds by RFC 7983's first byte. 0x0004 is MS-TURN's Send request only with
    MS-TURN's MAGIC-COOKIE attribute (RFC 8656's Refresh request otherwise)."""
    standard = " || ".join(f"stun.type == {t}" for t in STANDARD)
    ms = " || ".join(f"stun.type == {t} || classicstun.type == {t}" for t in MS_TURN)
    wanted = f"{standard} || (({ms}) && (stun.att.magic_cookie || classicstun.att.magic.cookie))"
    fields = ["ip.src", "udp.srcport", "tcp.srcport", "ip.dst", "udp.dstport", "tcp.dstport", "stun.type"]
    fields += ["classicstun.type", "stun.value", "classicstun.att.data", "data.data"]
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", wanted, "-T", "fields", "-E", "occurrence=f"]
        + [arg for f in fields for arg in ("-e", f)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    counts: Counter[tuple[str, str, str, str, bool]] = Counter()
    for line in out.splitlines():
        src, usport, tsport, dst, udport, tdport, kind, classic, *values = line.split("\t")
        ends = (f"{src}:{usport or tsport}", f"{dst}:{udport or tdport}")
        data = next((v for v in values if v), "")
        stun = bool(data) and int(data[:2], 16) <= 3
        counts[(*ends, "udp" if usport else "tcp", INDICATIONS[kind or classic], stun)] += 1
    return counts


@pytest.mark.tshark
@pytest.mark.parametrize("capture", INDICATION_LEGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_an_indication_leg_counts_its_media_and_its_checks_apart_as_channeldata_legs_do(capture):
    path = testdata.require(capture)
    expected = tshark_indications(path)
    assert expected, "no indications for tshark"
    media = icetrace.analyze([path]).media
    legs = media[media.kind.isin(set(INDICATIONS.values())) & media.relay_via.isna()]
    got: Counter[tuple[str, str, str, str, bool]] = Counter()
    for leg in legs.itertuples():
        got[(leg.src, leg.dst, leg.transport, leg.kind, False)] += leg.packets
        got[(leg.src, leg.dst, leg.transport, leg.kind, True)] += leg.checks
    assert +got == +expected
    # every leg row, of either carrier, says its checks; no other row does
    leg_rows = media.kind.isin({"channeldata", *INDICATIONS.values()}) & media.relay_via.isna()
    assert (media.checks.isna() == ~leg_rows).all()


def test_a_leg_of_checks_only_is_no_media_and_draws_no_media_arrow():
    analysis = icetrace.analyze([testdata.require(REAL / "baresip-relay-only" / "left-lan.pcap")])
    legs = analysis.media[analysis.media.kind.eq("channeldata")]
    assert len(legs) == 2 and (legs.packets == 0).all() and (legs.bytes == 0).all() and (legs.checks > 0).all()
    assert analysis.reconstruction.media == []  # the media the correlator reasons with: none
    labels = by_gid(analysis.plot_ladder(), "arrow-label")
    assert sum(label.startswith("binding request (channeldata)") for label in labels) >= 2
    assert not any(re.match(r"channeldata \d+ pkts?", label) for label in labels)


def test_the_ladder_s_leg_arrows_count_the_table_s_media_packets():
    for capture in (REAL / "chromium-relay" / "left-lan.pcap", REAL / "aioice-turn-tcp" / "left-lan.pcap"):
        analysis = icetrace.analyze([testdata.require(capture)])
        labels = by_gid(analysis.plot_ladder(), "arrow-label")
        legs = analysis.media[analysis.media.kind.eq("channeldata") & analysis.media.relay_via.isna()]
        assert len(legs) == 2, capture
        for leg in legs.itertuples():
            assert leg.packets > 0
            assert any(re.match(rf"channeldata {leg.packets} pkts over .*  {leg.transport}  ", t) for t in labels)


def test_the_report_says_the_relayed_checks_apart_from_the_media():
    analysis = icetrace.analyze([testdata.require(REAL / "chromium-relay" / "left-lan.pcap")])
    m = analysis.messages
    inner = m.kind.eq("stun") & m.relay_via.notna()
    wrappers = m[m.frame.isin(m[inner].frame) & ~inner]
    assert len(wrappers) == 18  # 3 Send and 2 Data indications, 13 ChannelData
    out = io.StringIO()
    write_report(analysis, out, colour=False)
    relayed = analysis.reconstruction.relayed_messages
    assert f"relayed through TURN: {relayed} media packets, {len(wrappers)} checks and answers" in out.getvalue()


def by_gid(fig, gid: str) -> list[str]:
    return [a.get_text() for a in fig.findobj(lambda a: a.get_gid() == gid)]


def _udp(payload: bytes, sport: int, dport: int):
    client, server = "192.0.2.1", "198.51.100.2"
    src, dst = (server, client) if sport == 3478 else (client, server)
    return Ether() / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / payload


@pytest.mark.parametrize("channel", [0x4001, 0xFF10])
def test_the_packet_source_counts_a_leg_s_media_not_its_checks(tmp_path, channel):
    check = encode_stun(0x0001, bytes(12), [("PRIORITY", 1845494271)], fingerprint=True)
    session = b"\x01" * 8 if channel == 0xFF10 else b""
    rtp = b"\x80\x00" + bytes(40)
    wrapped = [encode_channel_data(channel, body, session_id=session or None) for body in (check, rtp, rtp, check)]
    # MS multiplexed TURN is read on a 5-tuple that carried STUN: the server's check comes first
    packets = [_udp(check, 3478, 50000)] + [_udp(p, 50000, 3478) for p in wrapped]
    for i, p in enumerate(packets):
        p.time = 1_700_000_000 + i
    path = tmp_path / "legs.pcap"
    wrpcap(str(path), packets)
    source = PacketSource([path], count_relayed=channel != 0xFF10)
    handed = [p.frame for p in source]
    flows = source.summary().media_flows
    assert [(f.kind, f.packets, f.first_frame, f.last_frame) for f in flows] == [("channeldata", 2, 3, 4)]
    assert {2, 5} <= set(handed)  # the checks are decoded as records of their own
