"""SIP parsing, dialogs (multipart, MPOP, final offer), logs, captures, MRAS, bad input."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP, UDP, fragment
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from icetrace.capture.packet_source import PacketSource
from icetrace.cli import main
from icetrace.signaling.dialogs import build_model
from icetrace.signaling.model import SourceRef
from icetrace.signaling.sip import SipStreamSplitter, SipSyntaxError, parse_sip
from icetrace.signaling.sources import load_signaling, sip_from_text
from tests import testdata
from tests.signaling.lync_messages import (
    CALL_ID,
    bye_with_diagnostics,
    final_invite,
    multipart_invite,
    session_progress,
    sip,
)

REF = SourceRef(kind="file", name="test", position=1)


def test_compact_and_folded_headers():
    raw = (
        b"SIP/2.0 200 OK\r\ni: abc@host\r\nf: <sip:a@b>;tag=1\r\nt: <sip:c@d>\r\n"
        b"Subject: one\r\n two\r\nCSeq: 7 INVITE\r\nl: 0\r\n\r\n"
    )
    msg = parse_sip(raw)
    assert (msg.status, msg.call_id, msg.cseq) == (200, "abc@host", (7, "INVITE"))
    assert msg.header("subject") == "one two"
    assert msg.header("from") == "<sip:a@b>;tag=1"


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"HELLO WORLD\r\n\r\n", "not a SIP start line"),
        (b"INVITE sip:x SIP/2.0\r\nno colon here\r\n\r\n", "header line without a colon"),
        (b"\r\n", "empty message"),
    ],
)
def test_malformed_sip(raw, message):
    with pytest.raises(SipSyntaxError, match=message):
        parse_sip(raw)


def test_stream_splitter_handles_split_and_joined_messages():
    a, b = multipart_invite(), session_progress("t1", "e1")
    stream = a + b"\r\n\r\n" + b
    splitter = SipStreamSplitter()
    out = []
    for i in range(0, len(stream), 97):
        out += splitter.feed(stream[i : i + 97])
    assert out == [a, b]


def test_lync_multipart_invite_has_both_bodies():
    model = build_model([(REF, parse_sip(multipart_invite()))])
    (call,) = model.calls
    (offer,) = call.exchanges
    assert (offer.role, offer.agent) == ("offer", "caller")
    v6, v19 = offer.bodies
    assert (v6.grammar, v6.fallback) == ("ms-icev6", True)
    assert (v19.grammar, v19.fallback) == ("ms-ice19", False)
    assert len(v6.media[0].candidates) == 10 and len(v19.media[0].candidates) == 12
    assert v19.media[0].ice_ufrag == "tUQb" and v19.media[0].label == "main-audio"
    assert v6.media[0].ice_ufrag is None


def test_mpop_two_183s_final_offer_and_bye_diagnostics():
    messages = [
        multipart_invite(),
        session_progress("b0b1", "bbbb"),
        session_progress("c0c1", "cccc", 6100),
        final_invite(),
        bye_with_diagnostics(),
    ]
    model = build_model(
        [(SourceRef(kind="frame", name="x", position=i + 1), parse_sip(m)) for i, m in enumerate(messages)]
    )
    call = model.calls[0]
    assert [(e.role, e.agent) for e in call.exchanges] == [
        ("offer", "caller"),
        ("answer", "callee:bbbb"),
        ("answer", "callee:cccc"),
        ("final-offer", "caller"),
    ]
    final = call.exchanges[-1].bodies[0].media[0]
    assert [str(r.address) for r in final.remote_candidates] == ["198.51.100.21:53000", "198.51.100.21:53001"]
    assert any("52001" in str(d) and "Client side general processing error." in str(d) for d in call.diagnostics)
    assert [label for _, label in call.events][-1] == "BYE"


def test_uccapilog_records():
    invite = multipart_invite().decode()
    start, rest = invite.split("\r\n", 1)
    log = (
        "TL_INFO(TF_PROTOCOL) [0]0B1C.0F78::04/22/2009-10:15:32.517.000079a9 (SIPStack,SIPAdminLog::"
        "TraceProtocolRecord:SIPAdminLog.cpp(125))$$begin_record\n"
        'Trace-Correlation-Id: 1\nInstance-Id: 6E\nDirection: outgoing;source="local"\nPeer: 10.0.0.1:5061\n'
        f"Message-Type: request\nStart-Line: {start}\n" + rest.replace("\r\n", "\n") + "$$end_record\n"
    )
    found = list(sip_from_text(log, "alice.uccapilog"))
    assert len(found) == 1
    ref, message, problem = found[0]
    assert problem == "" and message.method == "INVITE" and message.call_id == CALL_ID
    assert ref.time == pytest.approx(1240395332.517)
    model = build_model([(ref, message)])
    assert len(model.calls[0].exchanges[0].bodies) == 2


def _udp(payload: bytes):
    return IP(src="192.168.0.10", dst="10.0.0.5", id=7) / UDP(sport=5060, dport=5070) / payload


def test_fragmented_udp_invite_and_tcp_split_from_captures(tmp_path):
    invite = multipart_invite()
    frags = fragment(_udp(invite), fragsize=600)
    assert len(frags) >= 3
    progress = session_progress("b0b1", "bbbb")
    tcp_packets = []
    seq = 5000
    for i in range(0, len(progress), 300):
        chunk = progress[i : i + 300]
        tcp_packets.append(
            IP(src="10.0.0.5", dst="192.168.0.10") / TCP(sport=5061, dport=50722, flags="PA", seq=seq) / chunk
        )
        seq += len(chunk)
    packets = [Ether() / p for p in frags] + [Ether() / p for p in tcp_packets]
    for i, p in enumerate(packets):
        p.time = 1700000000 + i
    path = tmp_path / "call.pcap"
    wrpcap(str(path), packets)
    model = load_signaling(captures=[(Path(path).name, PacketSource([path]))])
    call = model.calls[0]
    assert [(e.role, e.agent, e.source.position) for e in call.exchanges] == [
        ("offer", "caller", len(frags)),
        ("answer", "callee:bbbb", len(packets)),
    ]
    out = io.StringIO()
    assert main(["candidates", str(path)], stdout=out, stderr=io.StringIO()) == 0
    text = out.getvalue()
    assert "84.155.254.180:50033" in text and "198.51.100.21:53000" in text
    assert "[ms-proxy-2007fallback]" in text


def test_candidates_from_sdp_files_offer_first(tmp_path):
    offer = tmp_path / "offer.sdp"
    offer.write_text(
        "a=ice-ufrag:abcd\na=ice-pwd:0123456789012345678901\na=candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host\n"
    )
    answer = tmp_path / "answer.txt"
    answer.write_text(
        "v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-\nt=0 0\nm=audio 6000 RTP/AVP 0\n"
        "a=ice-ufrag:wxyz\na=ice-pwd:abcdefghijabcdefghijab\n"
        "a=candidate:1 1 udp 2130706431 192.0.2.9 6000 typ host\na=candidate:broken\n"
    )
    out, err = io.StringIO(), io.StringIO()
    assert main(["candidates", "--format", "json", str(offer), str(answer)], stdout=out, stderr=err) == 0
    import json

    data = json.loads(out.getvalue())
    exchanges = data["calls"][0]["exchanges"]
    assert [e["role"] for e in exchanges] == ["offer", "answer"]
    assert exchanges[0]["bodies"][0]["media"][0]["ice_ufrag"] == "abcd"
    assert exchanges[1]["bodies"][0]["media"][0]["candidates"][0]["address"] == "192.0.2.9:6000"
    assert "answer.txt: line 9: bad a=candidate" in err.getvalue()


MRAS = b"""<?xml version="1.0"?>
<response xmlns="http://schemas.microsoft.com/2006/09/sip/mrasp" requestID="128584360" version="2.0"
 serverVersion="2.0" reasonPhrase="OK"><credentialsResponse credentialsRequestID="128584360">
<credentials><username>AgAAJAAAAEM=</username><password>qg5ZgFAkmV8=</password><duration>480</duration>
</credentials><mediaRelayList><mediaRelay><location>internet</location><hostName>av.contoso.com</hostName>
<udpPort>3478</udpPort><tcpPort>443</tcpPort></mediaRelay></mediaRelayList></credentialsResponse></response>"""


def test_mras_credentials_response():
    msg = sip(
        "SIP/2.0 200 OK",
        ["Call-ID: mras1", "CSeq: 1 SERVICE", "From: <sip:a@b>;tag=1", "To: <sip:c@d>"],
        MRAS,
        "application/msrtc-media-relay-auth+xml",
    )
    model = build_model([(REF, parse_sip(msg))])
    (creds,) = model.relay_credentials
    assert (creds.username, creds.password, creds.duration_minutes) == ("AgAAJAAAAEM=", "qg5ZgFAkmV8=", 480)
    assert creds.relays == (("internet", "av.contoso.com", 3478, "udp"), ("internet", "av.contoso.com", 443, "tcp"))


def test_hostile_xml_is_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b"<response><username>&b;</username></response>"
    )
    msg = sip(
        "SIP/2.0 200 OK",
        ["Call-ID: mras2", "CSeq: 1 SERVICE", "From: <sip:a@b>;tag=1", "To: <sip:c@d>"],
        bomb,
        "application/msrtc-media-relay-auth+xml",
    )
    model = build_model([(REF, parse_sip(msg))])
    assert model.relay_credentials == []
    assert any("not acceptable XML" in p for p in model.problems)


def test_real_baresip_call_through_kamailio():
    """SIP recorded from baresip 1.0 via kamailio (captures/real/baresip-kamailio): both sides' ICE."""
    import json

    folder = testdata.CAPTURES / "real" / "baresip-kamailio"
    truth = json.loads((folder / "truth.json").read_text())
    model = load_signaling(captures=[(Path(folder / "left-lan.pcap").name, PacketSource([folder / "left-lan.pcap"]))])
    calls = [c for c in model.calls if c.exchanges]
    assert len(calls) == 1
    roles = [(e.role, e.agent.split(":")[0]) for e in calls[0].exchanges]
    assert roles[0] == ("offer", "caller") and ("answer", "callee") in roles and ("final-offer", "caller") in roles
    offer = calls[0].exchanges[0].bodies[0].media[0]
    answer = next(e for e in calls[0].exchanges if e.role == "answer").bodies[0].media[0]
    assert offer.ice_ufrag == truth["agents"]["left"]["ice_ufrag"]
    assert answer.ice_ufrag == truth["agents"]["right"]["ice_ufrag"]
    left_truth = {
        c["address"] for comp in truth["agents"]["left"]["streams"][0]["components"] for c in comp["local_candidates"]
    }
    assert {str(c.address) for c in offer.candidates} == left_truth
    assert {c.type for c in offer.candidates} == {"host", "srflx", "relay"}
    assert all(c.related is not None for c in offer.candidates if c.type != "host")
