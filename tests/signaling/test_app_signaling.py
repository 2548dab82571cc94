"""Application signaling: HTTP and WebSocket bodies from real browser recordings and built captures."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import icetrace
from icetrace.capture.packet_source import PacketSource
from icetrace.records.endpoint import Endpoint
from icetrace.records.transport_packet import TransportPacket
from icetrace.report.text import write_report
from icetrace.signaling.app_model import build_app_model
from icetrace.signaling.app_signaling import AppSignalingCollector
from icetrace.signaling.model import SignalingModel
from icetrace.signaling.sources import load_signaling
from tests.corpus.truth import CAPTURES, load_truth, synthetic_scenario

REAL = CAPTURES / "real"
SYNTHETIC = CAPTURES / "synthetic"
CLIENT, SERVER = Endpoint("192.168.1.10", 40000), Endpoint("203.0.113.80", 80)


def _stream_candidates(model: SignalingModel) -> dict[str, set[tuple[str, str]]]:
    (call,) = model.calls
    out: dict[str, set[tuple[str, str]]] = {}
    for ex in call.exchanges:
        media = ex.bodies[0].media[0]
        out[ex.role] = {(str(c.address), c.type or "") for c in media.candidates}
        out[ex.role + "-ufrag"] = {(media.ice_ufrag or "", media.ice_pwd or "")}
    return out


@pytest.mark.parametrize(
    "name", ["chromium-direct", "chromium-relay", "firefox-chromium", "chromium-firefox", "chromium-websocket"]
)
def test_http_signaling_gives_both_sides_candidates_and_credentials(name):
    """The public tap holds the JSON the pages posted and polled: the browsers' own candidates and
    credentials come out with no --sdp (each page's getStats() lists what it gathered)."""
    folder = REAL / name
    model = load_signaling(captures=[(Path(folder / "public.pcap").name, PacketSource([folder / "public.pcap"]))])
    got = _stream_candidates(model)
    for role, me in (("offer", "left"), ("answer", "right")):
        result = json.loads((folder / f"{me}.result.json").read_text())
        sdp = result["localDescription"]
        ufrag = next(line.split(":", 1)[1] for line in sdp.splitlines() if line.startswith("a=ice-ufrag:"))
        pwd = next(line.split(":", 1)[1] for line in sdp.splitlines() if line.startswith("a=ice-pwd:"))
        assert got[role + "-ufrag"] == {(ufrag.strip(), pwd.strip())}
        gathered = {
            (f"{s['address']}:{s['port']}", s["candidateType"])
            for s in result["stats"]
            if s["type"] == "local-candidate" and s.get("protocol") == "udp" and s.get("address")
        }
        assert gathered <= got[role], (role, gathered - got[role])


@pytest.mark.parametrize("name", ["chromium-direct", "chromium-late-direct", "chromium-relay", "chromium-websocket"])
def test_analyze_with_capture_signaling_selects_the_browsers_pair(name):
    folder = REAL / name
    truth = load_truth(folder)
    analysis = icetrace.analyze([folder / "public.pcap"]).to_dict()
    (stream,) = analysis["streams"]  # BUNDLE: one ICE session for audio and data
    assert stream["call_id"].startswith("webrtc:")
    sel = stream["components"][0]["selected"]
    want = truth["agents"]["left"]["streams"][0]["components"][0]["selected"]
    assert {sel["controlling"]["address"], sel["controlled"]["address"]} == {want["local"], want["remote"]}
    assert stream["controlling"]["role"] == "controlling"


def test_real_websocket_frames_masked_and_deflated_are_read():
    """Chromium's WebSocket frames are masked and permessage-deflate compressed (the lab's server
    accepts the extension): every candidate a page sent upstream is read from them."""
    from icetrace.capture.packet_source import PacketSource
    from icetrace.signaling.app_payload import TrickledCandidate

    folder = REAL / "chromium-websocket"
    collector = AppSignalingCollector("public.pcap")
    for packet in PacketSource([folder / "public.pcap"]):
        collector.feed(packet)
    collector.finish()
    assert not collector.problems
    sent = [s for s in collector.signals if s.upstream and isinstance(s.signal, TrickledCandidate)]
    log = (folder / "signaling.log").read_text()
    assert len(sent) == log.count("candidate (websocket)") > 0
    # and the server's plain frames carry the same candidates to the peer
    received = {s.signal.line for s in collector.signals if not s.upstream and isinstance(s.signal, TrickledCandidate)}
    assert {s.signal.line for s in sent} == received


def test_trickled_candidates_keep_the_time_they_crossed_the_wire():
    folder = REAL / "chromium-direct"
    model = load_signaling(captures=[(Path(folder / "public.pcap").name, PacketSource([folder / "public.pcap"]))])
    (call,) = model.calls
    offer = call.exchanges[0]
    assert offer.source is not None and offer.source.time is not None
    times = [c.source.time for c in offer.bodies[0].media[0].candidates if c.source]
    assert times and all(t is not None and t >= offer.source.time for t in times)
    assert max(times) > offer.source.time  # trickled after the offer, not inside it


def test_websocket_signaled_call_is_read_and_selected():
    folder = SYNTHETIC / "websocket_signaling"
    module = synthetic_scenario("websocket_signaling")
    truth = load_truth(folder)
    analysis = icetrace.analyze([folder / "capture.pcap"])
    assert not analysis.problems
    (stream,) = analysis.to_dict()["streams"]
    assert stream["call_id"] == f"webrtc:{module.LEFT_UFRAG}"
    assert stream["controlling"]["ufrag"] == module.LEFT_UFRAG
    assert stream["controlled"]["ufrag"] == module.RIGHT_UFRAG
    sel = stream["components"][0]["selected"]
    want = truth["agents"]["left"]["streams"][0]["components"][0]["selected"]
    assert {sel["controlling"]["address"], sel["controlled"]["address"]} == {want["local"], want["remote"]}
    # checked before the caller's host candidate was trickled: prflx until it arrived (RFC 8838)
    (pair,) = analysis.reconstruction.streams[0].components[0].pairs
    assert pair.prflx_until is not None and pair.first_check is not None
    assert pair.prflx_until > pair.first_check
    (call,) = analysis.reconstruction.signaling.calls  # type: ignore[union-attr]
    assert any(label.startswith("end-of-candidates") for _, label in call.events)


def _feed(collector: AppSignalingCollector, chunks: list[tuple[bool, bytes]]) -> None:
    for number, (upstream, data) in enumerate(chunks, start=1):
        src, dst = (CLIENT, SERVER) if upstream else (SERVER, CLIENT)
        collector.feed(
            TransportPacket(frame=number, time=1000.0 + number, src=src, dst=dst, transport="tcp", payload=data)
        )
    collector.finish()


def _upgrade(deflate: bool = False) -> list[tuple[bool, bytes]]:
    ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n" if deflate else ""
    return [
        (True, b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
        (False, f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n{ext}\r\n".encode()),
    ]


def test_sip_over_websocket_goes_to_the_sip_parser():
    frame = synthetic_scenario("websocket_signaling").frame
    invite = (
        b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks\r\n"
        b"From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\nCall-ID: ws-call-1\r\n"
        b"CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: 0\r\n\r\n"
    )
    collector = AppSignalingCollector("t")
    _feed(collector, [*_upgrade(), (True, frame(invite, mask=b"\x01\x02\x03\x04"))])
    assert [m.call_id for _, m in collector.sip_messages] == ["ws-call-1"]


def test_permessage_deflate_and_chunked_bodies():
    import zlib

    frame = synthetic_scenario("websocket_signaling").frame
    message = json.dumps({"x": {"candidate": "candidate:1 1 udp 1 10.0.0.1 5000 typ host", "sdpMid": "0"}}).encode()
    deflater = zlib.compressobj(wbits=-15)
    packed = deflater.compress(message) + deflater.flush(zlib.Z_SYNC_FLUSH)
    assert packed.endswith(b"\x00\x00\xff\xff")
    compressed = bytearray(frame(packed[:-4], mask=b"\x01\x02\x03\x04"))
    compressed[0] |= 0x40  # RSV1: compressed (RFC 7692 §6)
    collector = AppSignalingCollector("t")
    _feed(collector, [*_upgrade(deflate=True), (True, bytes(compressed))])
    assert [s.signal.line for s in collector.signals] == ["candidate:1 1 udp 1 10.0.0.1 5000 typ host"]

    body = json.dumps({"type": "offer", "sdp": "v=0\r\na=ice-ufrag:abcd\r\na=setup:actpass\r\n"}).encode()
    chunked = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in (body[:10], body[10:])) + b"0\r\n\r\n"
    collector = AppSignalingCollector("t")
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    _feed(collector, [(True, b"GET /poll HTTP/1.1\r\n\r\n"), (False, head + chunked[:7]), (False, chunked[7:])])
    (signal,) = collector.signals
    assert not signal.upstream and signal.signal.type == "offer"  # a response: received by the client


# -- bad input: one problem line each, and the rest still read -------------------------------------


def _good_offer() -> bytes:
    sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=ice-ufrag:good\r\n"
    sdp += "a=ice-pwd:goodpasswordgoodpassword\r\na=setup:actpass\r\na=candidate:1 1 udp 1 10.0.0.1 5000 typ host\r\n"
    return json.dumps({"type": "offer", "sdp": sdp}).encode()


def _post(body: bytes, declared: int | None = None) -> bytes:
    length = len(body) if declared is None else declared
    return f"POST /send HTTP/1.1\r\nContent-Length: {length}\r\n\r\n".encode() + body


def _offers(collector: AppSignalingCollector) -> list[str]:
    model = build_app_model(collector.signals, SignalingModel())
    return [c.call_id for c in model.calls]


@pytest.mark.parametrize(
    "bad, problem",
    [
        (b"{not json at all", "JSON does not parse"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),
        (b'{"a": ' + b"[" * 40 + b"{}" + b"]" * 40 + b"}", "JSON nested over"),
    ],
)
def test_bad_json_is_one_problem_and_the_next_message_is_read(bad, problem):
    collector = AppSignalingCollector("t")
    _feed(collector, [(True, _post(bad)), (True, _post(_good_offer()))])
    assert len([p for p in collector.problems if problem in p]) == 1, collector.problems
    assert _offers(collector) == ["webrtc:good"]


def test_a_100_mb_body_is_counted_past_not_kept():
    import tracemalloc

    collector = AppSignalingCollector("t")
    size = 100 << 20
    tracemalloc.start()
    collector.feed(
        TransportPacket(frame=1, time=1.0, src=CLIENT, dst=SERVER, transport="tcp", payload=_post(b"", declared=size))
    )
    block = b"x" * (1 << 20)
    for i in range(100):
        collector.feed(TransportPacket(frame=2 + i, time=2.0, src=CLIENT, dst=SERVER, transport="tcp", payload=block))
    collector.feed(
        TransportPacket(frame=200, time=3.0, src=CLIENT, dst=SERVER, transport="tcp", payload=_post(_good_offer()))
    )
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 16 << 20
    assert len([p for p in collector.problems if "HTTP body of 104857600 bytes" in p]) == 1
    assert _offers(collector) == ["webrtc:good"]


@pytest.mark.parametrize(
    "bad, problem",
    [
        (b"\x83\x00", "reserved opcode 3"),  # opcode 3 is reserved (RFC 6455 §5.2)
        (b"\x81\x7f\x80\x00\x00\x00\x00\x00\x00\x00", "most significant bit"),
        (b"\x89\x7e\x00\xc8" + b"p" * 200, "control frame"),
    ],
)
def test_a_bad_websocket_frame_is_one_problem_and_the_other_direction_still_read(bad, problem):
    frame = synthetic_scenario("websocket_signaling").frame
    collector = AppSignalingCollector("t")
    _feed(collector, [*_upgrade(), (True, bad), (True, frame(b"{}", mask=b"abcd")), (False, frame(_good_offer()))])
    assert len([p for p in collector.problems if problem in p]) == 1, collector.problems
    assert _offers(collector) == ["webrtc:good"]


# -- the agent's own report -----------------------------------------------------------------


def test_webrtc_internals_dump_joins_the_analysis_and_agrees_with_the_packets():
    folder = REAL / "chromium-dump"
    dumps = [folder / "left.webrtc-internals.json", folder / "right.webrtc-internals.json"]
    analysis = icetrace.analyze([folder / "left-lan.pcap"], logs=dumps)
    codes = [v.code for v in analysis.verdict_list]
    assert codes.count("AGENT-REPORT") == 2 and "AGENT-DISAGREES" not in codes
    truth = load_truth(folder)
    reports = {r.local_ufrag: r for r in analysis.reconstruction.signaling.agent_reports}  # type: ignore[union-attr]
    for me in ("left", "right"):
        sel = truth["agents"][me]["streams"][0]["components"][0]["selected"]
        report = reports[truth["agents"][me]["ice_ufrag"]]
        assert report.kind == "webrtc-internals" and report.selected is not None
        assert (str(report.selected.local.address), str(report.selected.remote.address)) == (
            sel["local"],
            sel["remote"],
        )


def test_dump_alone_gives_the_call_signaling():
    folder = REAL / "chromium-dump"
    model = load_signaling(logs=[folder / "left.webrtc-internals.json"])
    (call,) = model.calls
    assert [e.role for e in call.exchanges] == ["offer", "answer"]
    assert all(e.bodies[0].media[0].candidates for e in call.exchanges)
    assert not model.problems


def test_disagreement_is_flagged_when_the_capture_stops_before_the_browsers_pair(tmp_path):
    """The capture cut before any check succeeds: the browser's selected pair is not the packets' story."""
    from scapy.utils import rdpcap, wrpcap

    folder = REAL / "chromium-dump"
    full = icetrace.analyze([folder / "left-lan.pcap"]).reconstruction
    first_success = min(
        t.response.frame
        for t in full.transactions
        if t.outcome == "success" and t.request.method == "binding" and b":" in (t.request.username or b"")
    )
    packets = rdpcap(str(folder / "left-lan.pcap"))[: first_success - 1]
    cut = tmp_path / "cut.pcap"
    wrpcap(str(cut), packets)
    analysis = icetrace.analyze([cut], logs=[folder / "left.webrtc-internals.json"])
    disagree = [v for v in analysis.verdict_list if v.code == "AGENT-DISAGREES"]
    assert len(disagree) == 1 and "the packets select no pair" in disagree[0].message
    assert "its pair is in the capture as in-progress" in disagree[0].message


def test_getstats_export_is_an_agent_report():
    folder = REAL / "chromium-direct"
    analysis = icetrace.analyze([folder / "public.pcap"], logs=[folder / "left.result.json"])
    (report,) = analysis.reconstruction.signaling.agent_reports  # type: ignore[union-attr]
    assert report.kind == "getstats" and report.selected is not None and report.selected.nominated
    assert "AGENT-DISAGREES" not in [v.code for v in analysis.verdict_list]


def test_a_dump_that_does_not_parse_is_one_problem(tmp_path):
    bad = tmp_path / "dump.json"
    bad.write_text('{"PeerConnections": {"1": ')
    model = load_signaling(logs=[bad])
    assert len(model.problems) == 1 and "JSON does not parse" in model.problems[0]


def test_dump_event_text_around_a_candidate_is_not_part_of_it(tmp_path):
    """Entries as the webrtc-internals page words them: text after the candidate line (", url: …")
    and a date text for a time are tolerated."""
    offer = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:dmpA\r\na=ice-pwd:dumppassworddumppassword\r\n"
    offer += "a=setup:actpass\r\na=mid:0\r\n"
    answer = offer.replace("dmpA", "dmpB").replace("actpass", "active")
    line = "candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host generation 0"
    dump = {
        "PeerConnections": {
            "7-1": {
                "updateLog": [
                    {
                        "time": "1/12/2026, 7:01:00 AM",
                        "type": "setLocalDescription",
                        "value": f"type: offer, sdp: {offer}",
                    },
                    {
                        "time": "x",
                        "type": "icecandidate",
                        "value": f"sdpMid: 0, sdpMLineIndex: 0, candidate: {line}, url: stun:s:3478",
                    },
                    {"time": "x", "type": "setRemoteDescription", "value": f"type: answer, sdp: {answer}"},
                ],
                "stats": {},
            }
        }
    }
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(dump))
    model = load_signaling(logs=[path])
    assert not model.problems
    (call,) = model.calls
    offer_media = call.exchanges[0].bodies[0].media[0]
    (cand,) = offer_media.candidates
    assert str(cand.address) == "10.0.0.1:5000" and cand.extensions == (("generation", "0"),)
    assert call.exchanges[1].agent == "callee:dmpB"


def test_a_response_without_length_runs_to_the_end_of_the_connection():
    collector = AppSignalingCollector("t")
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"
    body = _good_offer()
    _feed(collector, [(True, b"GET /offer HTTP/1.1\r\n\r\n"), (False, head + body[:30]), (False, body[30:])])
    assert not collector.problems
    assert _offers(collector) == ["webrtc:good"]


@pytest.mark.parametrize("name", ["chromium-relay", "chromium-websocket"])
def test_a_real_check_sent_before_its_candidate_was_trickled_is_marked(name):
    """In these recordings the callee checks from its relayed candidate a few ms before its own
    page has posted that candidate: until it arrives, the caller can only know it as peer-reflexive."""
    analysis = icetrace.analyze([REAL / name / "public.pcap"])
    (stream,) = analysis.reconstruction.streams
    late = [p for c in stream.components for p in c.pairs if p.prflx_until is not None]
    assert late
    for pair in late:
        assert pair.first_check is not None and pair.first_check < pair.prflx_until
        signaled = [c.signaled_at for c in (pair.controlling, pair.controlled) if c.signaled_at is not None]
        assert pair.prflx_until == max(signaled)
    out = io.StringIO()
    write_report(analysis, out)
    assert "before its candidate was trickled (peer-reflexive until then, RFC 8838)" in out.getvalue()


def test_gzip_coded_bodies_are_inflated_and_a_zip_bomb_is_bounded():
    import gzip

    collector = AppSignalingCollector("t")
    packed = gzip.compress(_good_offer())
    head = f"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {len(packed)}\r\n\r\n".encode()
    bomb = gzip.compress(b"[" + b" " * (50 << 20))
    bomb_head = f"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {len(bomb)}\r\n\r\n".encode()
    _feed(
        collector,
        [
            (True, b"GET /a HTTP/1.1\r\n\r\n"),
            (False, bomb_head + bomb),
            (True, b"GET /b HTTP/1.1\r\n\r\n"),
            (False, head + packed),
        ],
    )
    assert len([p for p in collector.problems if "inflates to over" in p]) == 1
    assert _offers(collector) == ["webrtc:good"]


def test_the_answer_to_head_has_no_body_and_the_next_response_is_read():
    collector = AppSignalingCollector("t")
    body = _good_offer()
    head_answer = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"
    answer = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    _feed(
        collector,
        [
            (True, b"HEAD /a HTTP/1.1\r\n\r\n"),
            (False, head_answer),
            (True, b"GET /b HTTP/1.1\r\n\r\n"),
            (False, answer),
        ],
    )
    assert _offers(collector) == ["webrtc:good"]
