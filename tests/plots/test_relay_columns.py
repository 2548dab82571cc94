"""A TURN server is drawn as a server column by what the capture shows it do (it answers TURN
requests, sends Data indications, takes ChannelData), not by what a check made of it: on Teams'
capture the relays its multiplexed TURN reaches have no Allocate in the capture, and their relayed
addresses stand as the peer's candidates."""

from __future__ import annotations

import subprocess

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

import icetrace
from dissectors.codec import encode_channel_data, encode_stun
from icetrace.ice.far_ends import relay_roles
from icetrace.plots.ladder import ROLE_ORDER
from tests import testdata

TEAMS = testdata.PUBLIC / "ntop_nDPI" / "teams.pcap"
SERVERS = ("relay server", "edge relay")


def _columns(analysis) -> list[tuple[str, str]]:
    """(role, address) of each ladder column, left to right."""
    heads = [a.get_text() for a in analysis.plot_ladder().findobj(lambda a: a.get_gid() == "column")]
    return [tuple(h.split("\n")) if "\n" in h else ("", h) for h in heads]


def _tshark_multiplexed(path) -> set[tuple[str, str]]:
    """(sender, receiver) of every MS multiplexed TURN frame (channel 0xFF10), as tshark reads them."""
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", "stun.channel == 0xff10", "-T", "fields"]
        + ["-e", "ip.src", "-e", "udp.srcport", "-e", "ip.dst", "-e", "udp.dstport"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {(f"{a}:{b}", f"{c}:{d}") for a, b, c, d in (line.split("\t") for line in out.splitlines())}


def test_teams_multiplexed_relays_are_server_columns_between_the_agents():
    path = testdata.require(TEAMS)
    multiplexed = _tshark_multiplexed(path)
    assert {dst for _src, dst in multiplexed} == {"52.114.252.8:3479", "52.114.252.21:3480"}
    analysis = icetrace.analyze([path])
    columns = _columns(analysis)
    roles = dict((address, role) for role, address in columns)
    for sender, relay in multiplexed:
        assert roles[relay] == "edge relay", (relay, roles[relay])
        assert roles[sender].endswith("host"), sender  # the agent's socket that sent it
    order = [address for _role, address in columns]
    servers = [i for i, (role, _a) in enumerate(columns) if role in SERVERS]
    agents = [i for i, (role, _a) in enumerate(columns) if role not in SERVERS]
    assert servers == list(range(servers[0], servers[-1] + 1))  # the servers together
    assert min(agents) < servers[0] and servers[-1] < max(agents)  # between the agents
    assert order.index("52.114.252.8:3479") in servers
    # a peer's answers to the relayed addresses the checks came from (ice/multiplexed_turn.py): what
    # they carry went between the frames' own addresses, on no client-to-server leg
    m = analysis.messages
    inner = m[m.kind.eq("stun") & m.frame.isin(m[m.kind.eq("channeldata")].frame)]
    assert set(zip(inner.src, inner.dst, strict=True)) == multiplexed
    assert inner.relay_via.isna().all()


CLIENT = ("192.0.2.10", 50000)
SERVER = ("198.51.100.1", 3478)  # answers the Allocate
OTHER = ("198.51.100.9", 3480)  # a relay on a port no TURN registry names: ChannelData only
FAR = ("198.51.100.7", 3478)  # sends Data indications; its Allocate came before the capture
PEER = ("203.0.113.9", 40000)


def _udp(payload: bytes, src, dst):
    return (
        Ether(src="00:00:5e:00:53:01", dst="00:00:5e:00:53:02")
        / IP(src=src[0], dst=dst[0])
        / UDP(sport=src[1], dport=dst[1])
        / payload
    )


def _relays_capture(path) -> None:
    def check(tid: int) -> bytes:
        return encode_stun(0x0001, bytes([tid]) * 12, [("USERNAME", b"rU:lU"), ("PRIORITY", 1862270975)])

    packets = [
        _udp(encode_stun(0x0003, b"\x01" * 12, [("REQUESTED-TRANSPORT", 17)]), CLIENT, SERVER),
        _udp(encode_stun(0x0103, b"\x01" * 12, [("XOR-RELAYED-ADDRESS", ("198.51.100.1", 49152))]), SERVER, CLIENT),
        # as Teams' relays do: a check first (what makes the 5-tuple one to read ChannelData on, off the
        # TURN ports), then ChannelData whose ChannelBind is not in the capture
        _udp(check(5), OTHER, CLIENT),
        _udp(encode_channel_data(0x4000, check(2)), CLIENT, OTHER),
        _udp(encode_channel_data(0x4000, check(3)), OTHER, CLIENT),
        _udp(encode_stun(0x0017, b"\x04" * 12, [("XOR-PEER-ADDRESS", PEER), ("DATA", check(4))]), FAR, CLIENT),
    ]
    for i, p in enumerate(packets):
        p.time = 1_700_000_000 + i / 10
    wrpcap(str(path), packets)


def test_servers_by_what_they_do_on_any_port(tmp_path):
    path = tmp_path / "relays.pcap"
    _relays_capture(path)
    analysis = icetrace.analyze([path])
    roles = relay_roles(analysis.reconstruction.records)
    names = {str(s) for s in roles.servers}
    assert names == {"198.51.100.1:3478", "198.51.100.9:3480", "198.51.100.7:3478"}
    assert {str(c) for c in roles.clients} == {"192.0.2.10:50000"}
    m = analysis.messages
    channel = m[m.kind.eq("stun") & m.relay_via.eq("channeldata")]
    assert set(channel.relay_server) == {"198.51.100.9:3480"}  # not the client, though 3480 is no TURN port
    columns = dict((address, role) for role, address in _columns(analysis))
    assert {columns[name] for name in names} == {"relay server"}
    assert columns["192.0.2.10:50000"] != "relay server"


def test_a_server_column_sits_with_the_servers():
    assert ROLE_ORDER.index("caller") < ROLE_ORDER.index("relay server") < ROLE_ORDER.index("callee")
    assert ROLE_ORDER.index("caller") < ROLE_ORDER.index("edge relay") < ROLE_ORDER.index("callee")


def test_a_turn_client_is_named_on_its_agent_s_side_though_its_allocate_is_not_in_the_capture():
    # the capture starts after Chromium's Allocate: its relayed checks tell whose the TURN client is
    analysis = icetrace.analyze(
        [testdata.require(testdata.CAPTURES / "derived" / "chromium-relay-late" / "left-lan.pcap")]
    )
    assert analysis.allocations.empty
    columns = _columns(analysis)
    assert columns[0] == ("caller TURN client", "192.168.1.10:38159")
    assert columns[1][0] == "relay server"


def test_a_turn_client_no_agent_owns_is_drawn_left_of_its_servers():
    # WhatsApp allocates on eight relays and sends them data; no check is in the capture
    analysis = icetrace.analyze([testdata.require(testdata.PUBLIC / "ntop_nDPI" / "whatsapp_voice_and_message.pcap")])
    assert analysis.checks.empty
    columns = _columns(analysis)
    assert columns[0] == ("TURN client", "10.8.0.1:53620")
    assert {role for role, _address in columns[1:]} == {"relay server"}
    labels = [a.get_text() for a in analysis.plot_ladder().findobj(lambda a: a.get_gid() == "arrow-label")]
    assert any(label.startswith("data 1 pkt  udp  f") for label in labels)  # one packet: no span, no plural


def test_the_media_leg_of_a_selected_relayed_pair_is_bold_like_its_checks():
    analysis = icetrace.analyze([testdata.require(testdata.CAPTURES / "real" / "chromium-relay" / "left-lan.pcap")])
    fig = analysis.plot_ladder()
    legs = [a for a in fig.findobj(lambda a: a.get_gid() == "arrow-label") if a.get_text().startswith("channeldata ")]
    assert len(legs) == 2 and all(a.get_fontweight() == "bold" for a in legs)


def test_a_relay_known_only_by_the_channeldata_of_a_capture_begun_mid_call_is_a_server_column():
    # a ring buffer's second file: no TURN request in it, only ChannelData on the TURN port
    ring = testdata.CAPTURES / "derived" / "chromium-relay-ring"
    analysis = icetrace.analyze([testdata.require(sorted(ring.glob("public_*.pcap"))[1])])
    assert analysis.allocations.empty and not analysis.transactions.method.isin(["allocate", "refresh"]).any()
    columns = _columns(analysis)
    assert [role for role, _address in columns] == ["agent dguR TURN client", "relay server", "agent Wkz9 TURN client"]
