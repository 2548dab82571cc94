"""Link layers, fragments, TCP reassembly and format equivalence, on captures made by the tests."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP, UDP, fragment
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment
from scapy.layers.l2 import CookedLinux, Dot1Q, Ether, Loopback
from scapy.utils import wrpcap

from dissectors.codec import encode_channel_data, encode_stun
from dissectors.framing import frame_rfc4571
from icetrace.capture.packet_source import PacketSource
from icetrace.cli import main
from icetrace.reading import capture_records
from tests import testdata

TID = bytes(range(12))
BINDING = encode_stun(0x0001, TID, [("PRIORITY", 1845494271), ("USERNAME", b"a:b")], fingerprint=True)


def udp(payload: bytes, sport: int = 50000, dport: int = 3478):
    return IP(src="192.0.2.1", dst="198.51.100.2") / UDP(sport=sport, dport=dport) / payload


def write(tmp_path: Path, packets, linktype: int | None = None) -> Path:
    path = tmp_path / "t.pcap"
    for i, p in enumerate(packets):
        p.time = 1700000000 + i
    wrpcap(str(path), packets, linktype=linktype)
    return path


@pytest.mark.parametrize(
    "make, linktype",
    [
        (lambda p: Ether() / p, None),
        (lambda p: Ether() / Dot1Q(vlan=10) / Dot1Q(vlan=20) / p, None),
        (lambda p: CookedLinux(proto=0x0800) / p, 113),
        (lambda p: p, 101),
        (lambda p: Loopback(type=2) / p, 0),
    ],
    ids=["ethernet", "qinq", "sll", "raw", "null"],
)
def test_link_types(tmp_path, make, linktype):
    path = write(tmp_path, [make(udp(BINDING))], linktype)
    records = list(capture_records(path))
    assert [(r.method, r.cls, r.priority) for r in records] == [("binding", "request", 1845494271)]
    assert str(records[0].src) == "192.0.2.1:50000"


def test_sll2(tmp_path):
    header = b"\x08\x00\x00\x00" + b"\x00\x00\x00\x01" + b"\x00\x01\x00\x06" + bytes(8)
    raw = header + bytes(udp(BINDING))
    from scapy.packet import Raw

    path = write(tmp_path, [Raw(raw)], 276)
    assert len(list(capture_records(path))) == 1


def test_ipv6_with_extension_header_and_fragments(tmp_path):
    big = encode_stun(0x0001, TID, [("SOFTWARE", "x" * 1800)], fingerprint=True)
    base = (
        IPv6(src="2001:db8::1", dst="2001:db8::2")
        / IPv6ExtHdrDestOpt()
        / IPv6ExtHdrFragment()
        / UDP(sport=4000, dport=5000)
        / big
    )
    from scapy.layers.inet6 import fragment6

    frags = fragment6(base, 600)
    assert len(frags) > 2
    path = write(tmp_path, [Ether() / f for f in reversed(frags)])  # out of order too
    records = list(capture_records(path))
    assert len(records) == 1
    assert records[0].software == "x" * 1800
    assert records[0].frame == len(frags)  # the frame that completed the datagram
    assert str(records[0].src) == "[2001:db8::1]:4000"


def test_ipv4_fragmented_udp(tmp_path):
    big = encode_stun(0x0001, TID, [("SOFTWARE", "y" * 3000)])
    frags = fragment(udp(big), fragsize=1000)
    path = write(tmp_path, [Ether() / f for f in frags])
    records = list(capture_records(path))
    assert len(records) == 1 and records[0].software == "y" * 3000


def tcp_segments(stream: bytes, sizes: list[int], seq0: int = 1000):
    segs, pos = [], 0
    syn = IP(src="192.0.2.1", dst="198.51.100.2") / TCP(sport=40000, dport=443, flags="S", seq=seq0 - 1)
    segs.append(syn)
    for size in sizes:
        chunk = stream[pos : pos + size]
        segs.append(
            IP(src="192.0.2.1", dst="198.51.100.2") / TCP(sport=40000, dport=443, flags="PA", seq=seq0 + pos) / chunk
        )
        pos += size
    return segs


def test_tcp_out_of_order_and_retransmitted(tmp_path):
    cd = encode_channel_data(0x4000, b"\x80" * 9, stream=True)
    stream = BINDING + cd + BINDING
    segs = tcp_segments(stream, [30, 30, len(stream) - 60])
    order = [segs[0], segs[2], segs[1], segs[1], segs[3], segs[3]]  # reordered + duplicates
    path = write(tmp_path, [Ether() / s for s in order])
    records = list(capture_records(path))
    assert [r.kind for r in records] == ["stun", "channeldata", "stun"]
    assert all(r.transport == "tcp" for r in records)


def test_rfc4571_framed_checks(tmp_path):
    stream = frame_rfc4571(BINDING) + frame_rfc4571(b"\x80" * 40) + frame_rfc4571(BINDING)
    segs = tcp_segments(stream, [len(stream)])
    path = write(tmp_path, [Ether() / s for s in segs])
    assert [r.method for r in capture_records(path)] == ["binding", "binding"]


def test_rtp_is_counted_not_decoded(tmp_path):
    rtp = [udp(b"\x80\x00" + bytes(170), 6000, 7000) for _ in range(5)]
    path = write(tmp_path, [Ether() / udp(BINDING)] + [Ether() / p for p in rtp])
    source = PacketSource([path])
    assert len(list(source)) == 1
    flows = source.summary().media_flows
    assert [(f.kind, f.packets, f.first_frame, f.last_frame) for f in flows] == [("rtp", 5, 2, 6)]


def test_channel_data_off_turn_ports_needs_a_stun_5_tuple(tmp_path):
    cd = encode_channel_data(0x4001, b"\x80" * 20)
    path = write(
        tmp_path, [Ether() / udp(cd, dport=40000), Ether() / udp(BINDING, dport=40000), Ether() / udp(cd, dport=40000)]
    )
    assert [r.frame for r in capture_records(path)] == [1 + 1, 3]


def test_channel_data_on_a_turn_port_needs_no_stun_before_it(tmp_path):
    """A capture that starts mid-call: the frame's length field alone makes it ChannelData."""
    cd = encode_channel_data(0x4001, b"\x80" * 20)
    path = write(tmp_path, [Ether() / udp(cd), Ether() / udp(cd[:-1]), Ether() / udp(BINDING), Ether() / udp(cd)])
    records = list(capture_records(path))
    assert [(r.frame, r.kind) for r in records] == [(1, "channeldata"), (3, "stun"), (4, "channeldata")]
    assert records[0].carried == "rtp"


def test_tcp_multiple_messages_in_one_segment_public_capture():
    path = testdata.require(testdata.PUBLIC / "ntop_nDPI" / "stun_tcp_multiple_msgs_same_pkt.pcap")
    records = list(capture_records(path))
    assert len(records) == 6
    assert {r.method for r in records} == {"allocate"}
    assert len({r.frame for r in records}) < len(records)  # several in one frame


@pytest.mark.tshark
@pytest.mark.skipif(shutil.which("editcap") is None, reason="editcap is not installed")
@pytest.mark.parametrize("name", ["ntop_nDPI/teams.pcap", "corelight_zeek-spicy-stun/stun-ice-testcall.pcap"])
def test_pcap_pcapng_netmon_give_identical_messages(tmp_path, name):
    src = testdata.require(testdata.PUBLIC / name)
    outputs = []
    for fmt in ("pcap", "pcapng", "netmon2"):
        dst = tmp_path / f"copy.{fmt}"
        subprocess.run(["editcap", "-F", fmt, str(src), str(dst)], check=True, capture_output=True)
        out = io.StringIO()
        assert main(["messages", "--format", "jsonl", str(dst)], stdout=out, stderr=io.StringIO()) == 0
        outputs.append(out.getvalue())
    assert outputs[0] and outputs[0] == outputs[1] == outputs[2]


def test_messages_command_on_non_capture_exits_2(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("nope")
    err = io.StringIO()
    assert main(["messages", str(path)], stdout=io.StringIO(), stderr=err) == 2
    assert err.getvalue().startswith("icetrace: ") and err.getvalue().count("\n") == 1


def test_icmp_errors_are_evidence_not_messages(tmp_path):
    from scapy.layers.inet import ICMP

    import icetrace

    check = encode_stun(0x0001, TID, [("USERNAME", b"R:L"), ("PRIORITY", 1), ("ICE-CONTROLLING", 1)])
    request = IP(src="192.0.2.1", dst="198.51.100.2") / UDP(sport=50000, dport=3478) / check
    unreachable = IP(src="198.51.100.2", dst="192.0.2.1") / ICMP(type=3, code=3) / bytes(request)[:28]
    path = write(tmp_path, [Ether() / request, Ether() / unreachable])
    assert [r.frame for r in capture_records(path)] == [1]  # the quoted check is not a second message
    source = PacketSource([path])
    list(source)
    (error,) = source.summary().icmp_errors
    assert (str(error.quoted_src), str(error.quoted_dst), error.code) == ("192.0.2.1:50000", "198.51.100.2:3478", 3)
    verdicts = icetrace.analyze([path]).verdicts
    d8 = verdicts[verdicts.code == "D8"]
    assert "ICMP port unreachable from 198.51.100.2 (frame 2)" in d8.message.iloc[0]
    assert 2 in d8.frames.iloc[0]  # a list of frame numbers


def _rtp_capture(tmp_path: Path, n: int = 50) -> Path:
    rtp = [Ether() / udp(b"\x80\x00" + bytes(170), 6000, 7000) for _ in range(n)]
    return write(tmp_path, [Ether() / udp(BINDING)] + rtp + [Ether() / udp(BINDING)])


@pytest.mark.parametrize("skimmer", [True, False], ids=["c-skimmer", "numpy-pass"])
def test_truncated_and_corrupt_pcap_on_the_fast_path(tmp_path, monkeypatch, skimmer):
    from icetrace.capture import fast_reader

    if not skimmer:
        monkeypatch.setattr(fast_reader, "Skimmer", None)
    elif not fast_reader.available():
        pytest.skip("the C skimmer is not compiled")
    path = _rtp_capture(tmp_path, 10)
    data = path.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:-7])
    source = PacketSource([cut])
    packets = list(source)
    assert [p.frame for p in packets] == [1]  # the last STUN frame was cut
    assert "file truncated" in str(source.problems[0]) and "frame 12" in str(source.problems[0])
    corrupt = bytearray(data)
    corrupt[24 + 8 : 24 + 12] = (0x7FFFFFFF).to_bytes(4, "little")  # first record claims 2 GB
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(bytes(corrupt))
    source = PacketSource([bad])
    # reading resynchronises on the next plausible record: the last STUN frame is read
    assert [p.payload for p in source] == [BINDING]
    assert len(source.problems) == 1 and "frame 1: record length 2147483647 is implausible; skipped" in str(
        source.problems[0]
    )


def test_csv_and_jsonl_agree():
    import csv
    import json

    path = testdata.require(testdata.PUBLIC / "nfstream_nfstream" / "stun_facebook.pcapng")
    as_csv, as_jsonl = io.StringIO(), io.StringIO()
    assert main(["messages", "--format", "csv", str(path)], stdout=as_csv) == 0
    assert main(["messages", "--format", "jsonl", str(path)], stdout=as_jsonl) == 0
    rows = list(csv.DictReader(io.StringIO(as_csv.getvalue())))
    records = [json.loads(line) for line in as_jsonl.getvalue().splitlines()]
    assert len(rows) == len(records) > 0
    for row, record in zip(rows, records):
        assert (int(row["frame"]), row["method"], row["class"], row["transaction_id"]) == (
            record["frame"],
            record["method"],
            record["class"],
            record["transaction_id"],
        )
        assert row["attributes"] == ",".join(record["attributes"])
        assert row["error_code"] == ("" if record["error_code"] is None else str(record["error_code"]))


def test_media_after_the_last_check_tells_how_long_the_capture_ran(tmp_path):
    """A check nobody answered, then 20 s of RTP (counted, never handed on): the capture ran long
    enough for the check to have timed out, rather than to have been cut off by the capture's end."""
    import icetrace

    check = encode_stun(0x0001, TID, [("USERNAME", b"R:L"), ("PRIORITY", 1), ("ICE-CONTROLLING", 1)])
    packets = [Ether() / udp(check)] + [Ether() / udp(b"\x80\x00" + bytes(170), 6000, 7000) for _ in range(20)]
    path = write(tmp_path, packets)  # one packet a second
    transactions = icetrace.analyze([path]).transactions
    assert list(transactions.outcome) == ["timeout"]
    short = write(tmp_path, packets[:3])
    assert list(icetrace.analyze([short]).transactions.outcome) == ["unanswered"]


def test_the_summary_waits_for_the_last_packet(tmp_path):
    """Flows counted so far are not the capture's: the summary is refused until every packet was read."""
    rtp = [udp(b"\x80\x00" + bytes(170), 6000, 7000) for _ in range(3)]
    path = write(tmp_path, [Ether() / udp(BINDING), *(Ether() / p for p in rtp), Ether() / udp(BINDING)])
    source = PacketSource([path])
    packets = iter(source)
    first = next(packets)
    with pytest.raises(RuntimeError, match="every packet"):
        source.summary()
    last = list(packets)[-1]
    summary = source.summary()
    assert [(f.kind, f.packets) for f in summary.media_flows] == [("rtp", 3)]
    assert summary.end == max(first.time, last.time, summary.media_flows[0].last_time)
