"""Synthetic scenarios of captures whose story depends on what the capture holds and who is at the
far end: servers vs peers, non-standard answers, one-way and mid-call captures, SSDP beside SIP,
errors agents send.

Each scenario module in captures/synthetic/ is regenerated and compared byte for byte; then the
analysis of the committed capture is held to the story its packets tell (its truth.json).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import icetrace
from dissectors.start_line import looks_like_sip
from icetrace.capture.packet_source import PacketSource
from icetrace.report.text import write_report
from icetrace.signaling.collect import SipCollector
from tests.corpus.truth import SYNTHETIC, load_truth, schema_problems

SCENARIOS = [
    "nonstandard_stun_answers",
    "peer_probes",
    "long_term_binding",
    "ssdp_not_sip",
    "one_way_responses",
    "mid_call",
    "agent_error_responses",
    "role_conflict",
]


def _analyze(name: str) -> icetrace.Analysis:
    return icetrace.analyze([SYNTHETIC / name / "capture.pcap"])


def _codes(analysis) -> set[str]:
    return {v.code for v in analysis.verdict_list}


def _messages(analysis, code: str) -> list[str]:
    return [v.message for v in analysis.verdict_list if v.code == code]


@pytest.mark.parametrize("name", SCENARIOS)
def test_truth_schema_and_verdicts(name):
    truth = load_truth(SYNTHETIC / name)
    assert schema_problems(truth) == []
    codes = _codes(_analyze(name))
    assert set(truth["expected_verdicts"]) <= codes
    assert not set(truth.get("forbidden_verdicts", [])) & codes


def test_nonstandard_answers_are_answers_and_each_server_its_own_request():
    truth = load_truth(SYNTHETIC / "nonstandard_stun_answers")
    a = _analyze("nonstandard_stun_answers")
    tx = a.transactions
    assert set(tx.outcome) == {"nonstandard"}
    assert sorted(set(tx.dst)) == sorted(truth["servers"])
    for server in truth["servers"]:
        mine = tx[tx.dst == server]
        assert len(mine) == 3 and mine.requests.sum() == 3  # asked again after each answer: new requests
        assert mine.response_frame.notna().all()
    texts = _messages(a, "NONSTANDARD-ANSWER")
    assert len(texts) == 3
    assert all("0x0002" in t and "0x8041" in t and "3 binding request(s)" in t for t in texts)


def test_peer_probes_are_told_per_series_and_not_as_an_unreachable_server():
    truth = load_truth(SYNTHETIC / "peer_probes")
    a = _analyze("peer_probes")
    texts = _messages(a, "PEER-PROBES")
    assert len(texts) == len(truth["peer_probe_series"])
    for series, text in zip(truth["peer_probe_series"], texts):
        assert f"straight to {series['dst']}" in text
        assert f"{series['requests']} Binding request(s) ({series['transmissions']} transmissions)" in text
        assert "none answered" in text and "permission" in text
    assert not any("unreachable" in v.message for v in a.verdict_list)
    assert a.reconstruction.streams == []
    assert "TURN ChannelData present: the capture includes a client-to-relay leg" in a.reconstruction.vantage


def test_allocations_listed_once_each_with_relayed_address_or_why_none():
    truth = load_truth(SYNTHETIC / "peer_probes")
    a = _analyze("peer_probes")
    assert len(a.reconstruction.allocations) == 1  # one Allocate answered twice is one allocation
    report = _report(a)
    lines = [line.strip() for line in report.splitlines() if line.strip().startswith("allocation ")]
    assert len(lines) == len(truth["allocations"])
    for leg, relayed in truth["allocations"].items():
        (line,) = [x for x in lines if x.startswith(f"allocation {leg} ")]
        if relayed:
            assert f"relayed {relayed}" in line
        else:
            assert "no relayed address: challenged with 401" in line
    assert "relayed None" not in report


def test_report_counts_the_messages_that_the_messages_command_lists():
    for name in ("peer_probes", "mid_call", "one_way_responses"):
        path = SYNTHETIC / name / "capture.pcap"
        listed = subprocess.run(
            [sys.executable, "-m", "icetrace", "messages", "--format", "jsonl", str(path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        assert f"  {len(listed)} STUN/TURN messages," in _report(icetrace.analyze([path]))


def test_the_same_capture_given_twice_is_counted_as_listed_and_analysed_once(tmp_path):
    path = SYNTHETIC / "peer_probes" / "capture.pcap"
    copy = tmp_path / "copy.pcap"
    copy.write_bytes(path.read_bytes())
    once = icetrace.analyze([path])
    twice = icetrace.analyze([path, copy])
    assert len(twice.reconstruction.records) == len(once.reconstruction.records)
    assert twice.reconstruction.relayed_messages == once.reconstruction.relayed_messages > 0
    n = len(once.reconstruction.records) + once.reconstruction.relayed_messages
    assert twice.duplicate_messages == n
    assert f"  {2 * n} STUN/TURN messages ({n} also seen by another capture, counted once)," in _report(twice)


def test_long_term_credential_binding_is_no_ice_session():
    truth = load_truth(SYNTHETIC / "long_term_binding")
    a = _analyze("long_term_binding")
    assert a.reconstruction.streams == [] and len(a.checks) == 0
    assert [(str(m.base), str(m.mapped)) for m in a.reconstruction.mappings] == [
        (truth["mapping"]["base"], truth["mapping"]["mapped"])
    ]
    assert not [v for v in a.verdict_list if v.severity != "info"]


def test_ssdp_is_not_sip_and_a_broken_flow_is_one_problem_line():
    truth = load_truth(SYNTHETIC / "ssdp_not_sip")
    a = _analyze("ssdp_not_sip")
    assert not any("not a SIP start line" in p for p in a.problems)
    assert not any("HTTP/1.1" in p for p in a.problems)
    (line,) = [p for p in a.problems if "SIP" in p or "colon" in p]
    assert line.startswith(truth["problem_flows"][0]) and "3 messages" in line
    collector = SipCollector("capture.pcap")
    for packet in PacketSource([SYNTHETIC / "ssdp_not_sip" / "capture.pcap"]):
        collector.feed(packet)
    assert [m.summary() for _ref, m in collector.messages] == ["REGISTER", "200 OK"][: truth["sip_messages"]]


def test_one_way_capture_names_the_missing_direction():
    truth = load_truth(SYNTHETIC / "one_way_responses")
    a = _analyze("one_way_responses")
    (missing,) = truth["missing_directions"]
    assert any(f"{missing} is missing" in note for note in a.reconstruction.vantage)
    (text,) = _messages(a, "ORPHAN-RESPONSES")
    assert text.startswith(f"{truth['responses']} ") and "lacks that direction" in text
    assert len(a.reconstruction.orphans) == truth["responses"]


def test_mid_call_capture_tells_the_pair_in_use():
    truth = load_truth(SYNTHETIC / "mid_call")
    a = _analyze("mid_call")
    (stream,) = a.reconstruction.streams
    assert stream.mid_call and stream.outcome == "connected" and stream.nomination_style == "not-captured"
    want = truth["agents"]["left"]["streams"][0]["components"][0]["selected"]
    (selected,) = [c.selected for c in stream.components if c.selected]
    assert [c.selected_by for c in stream.components if c.selected] == ["in-use"]
    assert {str(selected.controlling.address), str(selected.controlled.address)} == {want["local"], want["remote"]}
    assert len(stream.media_flows) == 2
    assert "by in-use: the capture joined after ICE completed" in _report(a)
    (text,) = _messages(a, "MID-CALL")
    assert "8 consent check(s)" in text and "no signaling" in text
    (orphan,) = _messages(a, "ORPHAN-RESPONSES")
    assert "before the capture started" in orphan


def test_errors_an_agent_sent_name_who_sent_what_to_whom():
    truth = load_truth(SYNTHETIC / "agent_error_responses")
    a = _analyze("agent_error_responses")
    by_code = {401: "D11", 487: "D12", 500: "CHECK-ERROR"}
    for code, verdict in by_code.items():
        sent = [e for e in truth["errors_sent"] if e["code"] == code]
        (text,) = _messages(a, verdict)
        assert f"ufrag:erL1 answered {len(sent)} check(s) from ufrag:erR1 with {code}" in text
        for e in sent:
            assert f"{e['to']} -> {e['by']}" in text
        (v,) = [v for v in a.verdict_list if v.code == verdict]
        errors = a.messages[(a.messages["class"] == "error") & (a.messages.error_code == code)]
        assert set(errors.frame) <= set(v.frames)
    assert "switched from controlling to controlled" in _messages(a, "D12")[0]


def _report(analysis) -> str:
    import io

    out = io.StringIO()
    write_report(analysis, out)
    return out.getvalue()


@pytest.mark.parametrize(
    "payload, sip",
    [
        (b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n", False),
        (b"M-SEARCH * HTTP/1.1\r\n\r\n", False),
        (b"NOTIFY sip:bob@example.net SIP/2.0\r\nVia: x\r\n\r\n", True),
        (b"SIP/2.0 200 OK\r\n\r\n", True),
        (b"INVITE sip:bob@example.net SIP/2.0", True),  # first line not complete yet (TCP)
        (b"OPTIONS * HTTP/1.1\r\n\r\n", False),  # RTSP/HTTP share the method too
    ],
)
def test_only_sip_start_lines_are_sip(payload, sip):
    assert looks_like_sip(payload) is sip


def test_problems_of_one_flow_collapse_and_of_two_flows_do_not():
    from icetrace.records.endpoint import Endpoint
    from icetrace.records.transport_packet import TransportPacket

    collector = SipCollector("x.pcap")
    bad = b"INVITE sip:a@b SIP/2.0\r\nno colon here\r\n\r\n"
    a, b, c = Endpoint("192.0.2.1", 5060), Endpoint("192.0.2.2", 5060), Endpoint("192.0.2.3", 5060)
    for frame in range(1, 5):
        collector.feed(TransportPacket(frame=frame, time=float(frame), src=a, dst=b, transport="udp", payload=bad))
    collector.feed(TransportPacket(frame=9, time=9.0, src=c, dst=b, transport="udp", payload=bad))
    problems = collector.problems
    assert len(problems) == 2
    assert problems[0].startswith("udp 192.0.2.1:5060 -> 192.0.2.2:5060: 4 messages are not SIP (frames 1, 2, 3, 4)")
    assert problems[1].startswith("x.pcap:frame 9: header line without a colon")
