"""One fuzz target per entry point that takes untrusted bytes, with seed inputs to mutate.

A target takes bytes and returns what its entry point read, or raises one of the errors its entry
point documents for whole-input problems (`allowed`). Anything else is a crash. The seeds are small
valid inputs, so that mutations reach past the first length check; `intact` says what each seed
holds, from how it was built, so that an entry point that reads nothing is caught too.
"""

from __future__ import annotations

import atexit
import gzip
import json
import random
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from dissectors.codec import decode_channel_data, decode_stun, encode_channel_data, encode_stun
from dissectors.framing import (
    detect_tcp_framing,
    frame_msturn_tcp,
    frame_rfc4571,
    resync_offset,
    resync_point,
    split_msturn_tcp,
    split_rfc4571,
    split_stun_stream,
)
from icetrace.capture.packet_source import PacketSource
from icetrace.errors import InputError
from icetrace.records.extract import RecordExtractor
from icetrace.report.golden import load_golden
from icetrace.signaling.candidate import CandidateSyntaxError, parse_candidate_line, parse_remote_candidates
from icetrace.signaling.mras import parse_mras_response
from icetrace.signaling.sdp import parse_sdp
from icetrace.signaling.sip import SipStreamSplitter, SipSyntaxError, parse_sip, split_body
from icetrace.signaling.sources import sip_from_text

_SCRATCH = Path(tempfile.mkdtemp(prefix="icetrace-fuzz-"))  # file-reading targets write their input here
atexit.register(shutil.rmtree, _SCRATCH, True)


@dataclass(frozen=True)
class Target:
    name: str
    run: Callable[[bytes], object]
    seeds: tuple[bytes, ...]
    intact: tuple[Any, ...]  # what `run` reads from each seed
    allowed: tuple[type[BaseException], ...] = ()


def _stun_seeds() -> tuple[bytes, ...]:
    tid = bytes(range(12))
    return (
        encode_stun(
            0x0001, tid, [("PRIORITY", 1845494271), ("USERNAME", b"a:b")], integrity_key=b"k", fingerprint=True
        ),
        encode_stun(0x0101, tid, [("XOR-MAPPED-ADDRESS", ("203.0.113.7", 40000))], fingerprint=True),
        encode_stun(0x0016, tid, [("XOR-PEER-ADDRESS", ("198.51.100.1", 5000)), ("DATA", b"\x00\x01" + bytes(18))]),
        b"\x40\x00\x00\x08" + bytes(8),
    )


def _codec(data: bytes) -> tuple[Any, ...]:
    """(method, class, attribute names) of the STUN message, (channel, length) of the ChannelData."""
    stun = decode_stun(data)
    channel = decode_channel_data(data)
    decode_channel_data(data, stream=True)
    message = (stun.method_name, stun.cls, tuple(a.name for a in stun.attributes)) if stun and stun.cls else None
    return message, (channel.channel, channel.length) if channel else None


_STUN_INTACT = (
    (("binding", "request", ("PRIORITY", "USERNAME", "MESSAGE-INTEGRITY", "FINGERPRINT")), None),
    (("binding", "success", ("XOR-MAPPED-ADDRESS", "FINGERPRINT")), None),
    (("send", "indication", ("XOR-PEER-ADDRESS", "DATA")), None),
    (None, (0x4000, 8)),
)


def _framings(data: bytes) -> tuple[str | None, int]:
    """(the framing detected, how many messages its splitter found)."""
    framing = detect_tcp_framing(data)
    counts = {
        "stun": len(split_stun_stream(data)[0]),
        "rfc4571": len(split_rfc4571(data)[0]),
        "ms-turn-tcp": len(split_msturn_tcp(data)[0]),
    }
    for name in counts:
        resync_offset(data, name)
        start, keep, need = resync_point(data, name, (0x4001, 0x4FFF))
        assert (start is None or 0 <= start < len(data)) and 0 <= keep <= len(data) and need >= 0
    return framing, counts.get(framing or "", 0)


def _capture_file(data: bytes, suffix: str) -> tuple[int, ...]:
    """The frames whose STUN or TURN content was read: as records, or counted as relayed media."""
    path = _SCRATCH / f"input{suffix}"
    path.write_bytes(data)
    frames: set[int] = set()
    for count_relayed in (False, True):  # `messages` hands relayed media on; analyze counts it (in C too)
        source = PacketSource([path], count_relayed=count_relayed)
        extractor = RecordExtractor()
        for packet in source:
            frames.update(record.frame for record in extractor.feed(packet))
        summary = source.summary()
        frames.update(f for count in summary.relayed for f in (count.first_frame, count.last_frame))
    return tuple(sorted(frames))


def _relay_frames() -> list[bytes]:
    """Ethernet frames a TURN server sees: a check, ChannelData, Send/Data indications and MS-TURN
    Send requests carrying RTP, so that mutations reach the skimmer's relayed-media counting."""
    from tests.capture.test_fast_reader import ethernet, ip4

    rtp = b"\x80\x00\x00\x01" + bytes(8) + bytes(40)
    tid, peer = bytes(range(12)), ("203.0.113.9", 7000)
    ms_send = [("MAGIC-COOKIE", 0x72C64BC6), ("DESTINATION-ADDRESS", peer), ("DATA", rtp)]
    payloads = [
        _stun_seeds()[0],
        encode_channel_data(0x4001, rtp),
        encode_stun(0x0016, tid, [("XOR-PEER-ADDRESS", peer), ("DATA", rtp)]),
        encode_stun(0x0017, tid, [("XOR-PEER-ADDRESS", peer), ("DATA", rtp)]),
        encode_stun(0x0004, bytes(16), ms_send, cookie=False),
    ]
    # client 50000 -> server 3478, and the server's answers back
    ports = [(50000, 3478) if i % 2 == 0 else (3478, 50000) for i in range(len(payloads))]
    return [bytes(ethernet(ip4(p, *pair))) for p, pair in zip(payloads, ports)]


def _pcapng_seed() -> bytes:
    """Two sections (little then big endian), interfaces of three link types and resolutions, a
    statistics block and a Simple Packet Block: frames 1-4 and 14-15 carry STUN."""
    from tests.capture.test_fast_reader import pcapng_bytes

    return pcapng_bytes(pairs=6, sll_frames=4)


def _capture_seeds() -> tuple[bytes, ...]:
    """Twelve frames whose first two are a Binding request and its answer (the rest media), in pcap
    and Network Monitor files; a pcapng file; the relay's five frames in pcap and Network Monitor."""
    from tests.capture.test_fast_reader import frames_for, netmon_bytes, pcap_bytes

    frames, linktype = frames_for("ethernet")
    small = frames[:12]
    relay = _relay_frames()
    return (
        pcap_bytes(small, linktype),
        _pcapng_seed(),
        netmon_bytes(small, 3),
        netmon_bytes(small, 1),
        pcap_bytes(relay, 1),
        netmon_bytes(relay, 2),
    )


_CHECK_AND_ANSWER = (1, 2)  # the Binding request and its success response
_RELAY_FRAMES = (1, 2, 3, 4, 5)  # a check, ChannelData, Send and Data indications, an MS-TURN Send
_CAPTURE_INTACT = (
    _CHECK_AND_ANSWER,
    (1, 2, 3, 4, 14, 15),
    _CHECK_AND_ANSWER,
    _CHECK_AND_ANSWER,
    _RELAY_FRAMES,
    _RELAY_FRAMES,
)


def _gzip_seeds() -> tuple[bytes, ...]:
    return tuple(gzip.compress(seed) for seed in _capture_seeds()[:3])


_SDP = (
    b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\na=ice-ufrag:abcd\r\n"
    b"a=ice-pwd:0123456789012345678901\r\nm=audio 5000 RTP/AVP 0\r\na=rtcp:5001\r\n"
    b"a=candidate:1 1 UDP 2130706431 10.0.0.1 5000 typ host\r\n"
    b"a=candidate:2 1 TCP-PASS 174455807 10.0.0.1 443 typ relay raddr 10.0.0.1 rport 5000\r\n"
    b"a=candidate:user 1 pwd UDP 0.9 10.0.0.1 5002\r\na=remote-candidates:1 10.0.0.2 6000\r\n"
)
_SIP = (
    b"INVITE sip:b@example.org SIP/2.0\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nl: 0\r\n"
    b"Content-Type: multipart/alternative; boundary=XX\r\nContent-Length: 40\r\n\r\n--XX\r\n"
    b"Content-Type: application/sdp\r\n\r\nv=0\r\n--XX--\r\n"
)


def _signaling(data: bytes) -> tuple[Any, ...]:
    """(media lines, candidates, remote candidates) of the SDP; the SIP method; candidate lines read."""
    text = data.decode("utf-8", errors="replace")
    sdp = parse_sdp(text)
    lines = 0
    for line in text.splitlines():
        for parse in (parse_candidate_line, parse_remote_candidates):
            try:
                parse(line)
                lines += parse is parse_candidate_line
            except CandidateSyntaxError:
                pass
    method = None
    try:
        message = parse_sip(data)
        method = message.method
        split_body(message)
    except SipSyntaxError:
        pass
    splitter = SipStreamSplitter()
    for i in range(0, len(data), 97):
        splitter.feed(data[i : i + 97])
    media = (
        len(sdp.media),
        sum(len(m.candidates) for m in sdp.media),
        sum(len(m.remote_candidates) for m in sdp.media),
    )
    return media, method, lines


def _text_log(data: bytes) -> list[str | None]:
    """The methods of the SIP messages read (None for a response or a message that did not parse)."""
    return [getattr(m, "method", None) for _, m, _ in sip_from_text(data.decode("utf-8", errors="replace"), "log")]


_MRAS = (
    b"<credentialsResponse><credentials><username>u</username><password>p</password>"
    b"<duration>480</duration></credentials><mediaRelayList><mediaRelay><location>internet</location>"
    b"<hostName>relay.example.org</hostName><udpPort>3478</udpPort><tcpPort>443</tcpPort></mediaRelay>"
    b"</mediaRelayList></credentialsResponse>"
)


def _mras(data: bytes) -> Any:
    credentials = parse_mras_response(data, None, [])
    return None if credentials is None else (credentials.username, credentials.password, len(credentials.relays))


def _golden(data: bytes) -> Any:
    path = _SCRATCH / "golden.expected.json"
    path.write_bytes(data)
    return load_golden(path)


# -- application signaling: HTTP and WebSocket streams, browser dumps ------------------------------

_CLIENT, _SERVER = ("192.168.1.10", 40000), ("203.0.113.80", 80)
_SEPARATOR = b"\x00\xffserver\xff\x00"  # the seeds' client bytes, then the server's


def _app_stream(data: bytes) -> tuple[Any, ...]:
    """The bytes as one TCP connection (the client's, then after the separator the server's), in
    97-byte segments taking turns, through the collector and the call model: (what each signal
    was, and whether the client sent it) and how many calls the model holds."""
    from icetrace.records.endpoint import Endpoint
    from icetrace.records.transport_packet import TransportPacket
    from icetrace.signaling.app_model import build_app_model
    from icetrace.signaling.app_signaling import AppSignalingCollector
    from icetrace.signaling.model import SignalingModel

    client, _, server = data.partition(_SEPARATOR)
    a, b = Endpoint(*_CLIENT), Endpoint(*_SERVER)
    collector = AppSignalingCollector("fuzz")
    sides = [(a, b, client), (b, a, server)]
    for at in range(0, max(len(client), len(server)), 97):
        for src, dst, stream in sides:
            if at < len(stream):
                chunk = stream[at : at + 97]
                collector.feed(
                    TransportPacket(frame=at, time=1.0 + at, src=src, dst=dst, transport="tcp", payload=chunk)
                )
    for src, dst, _ in sides:
        end = TransportPacket(frame=1 << 20, time=1e6, src=src, dst=dst, transport="tcp", payload=b"", closes=True)
        collector.feed(end)
    collector.finish()
    model = build_app_model(collector.signals, SignalingModel())
    return tuple(sorted((_signal_kind(s.signal), s.upstream) for s in collector.signals)), len(model.calls)


def _signal_kind(signal: object) -> str:
    from icetrace.signaling.app_payload import Description

    if isinstance(signal, Description):
        return signal.type or "description"
    return "candidate"


# the POSTs: an offer and a trickled candidate, then a bare description; their answers: the same two
# chunked, then the answer. The WebSocket: the offer up, the candidate down in two fragments. One call.
_APP_INTACT = (
    (
        tuple(
            sorted(
                (("offer", True), ("candidate", True), ("description", True))
                + (("offer", False), ("candidate", False), ("answer", False))
            )
        ),
        1,
    ),
    ((("candidate", False), ("offer", True)), 1),
)


def _app_seeds() -> tuple[bytes, ...]:
    from captures.synthetic.websocket_signaling import frame
    from tests.hostile import hostile_call

    offer = {
        "type": "offer",
        "sdp": hostile_call.sdp("fzLf", "x" * 24, "actpass", [hostile_call.candidate(("10.0.0.1", 5000))]),
    }
    trickle = {"candidate": hostile_call.candidate(("10.0.0.2", 6000), "2"), "sdpMid": "0", "sdpMLineIndex": 0}
    answer = {"type": "answer", "sdp": hostile_call.sdp("fzRt", "y" * 24, "active", [])}
    body = json.dumps([offer, trickle]).encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:40], body[40:])) + b"0\r\nX-T: 1\r\n\r\n"
    upgrade = b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    switched = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
    return (
        hostile_call.post(body)
        + hostile_call.post(b"v=0\r\na=ice-ufrag:x\r\n")
        + _SEPARATOR
        + b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunked
        + b"HTTP/1.1 200 OK\r\n\r\n"
        + json.dumps(answer).encode(),
        upgrade
        + frame(json.dumps(offer).encode(), mask=b"abcd")
        + frame(b"\x03\xe8", 8, mask=b"wxyz")
        + _SEPARATOR
        + switched
        + frame(json.dumps(trickle).encode()[:30], 1, False)
        + frame(json.dumps(trickle).encode()[30:], 0),
    )


def _agent_dump(data: bytes) -> tuple[Any, ...]:
    """(calls, each report's candidate pairs) read as a --log file is read."""
    from icetrace.signaling.agent_dump import read_agent_dump
    from icetrace.signaling.model import SignalingModel

    model = SignalingModel()
    read_agent_dump(data.decode("utf-8", errors="replace"), "fuzz", model)
    for report in model.agent_reports:
        for pair in report.pairs:
            pair.text()
    return len(model.calls), tuple(len(report.pairs) for report in model.agent_reports)


def _dump_seeds() -> tuple[bytes, ...]:
    """A real webrtc-internals dump and a real getStats() export, cut to their ICE parts."""
    root = Path(__file__).resolve().parents[1] / "captures" / "real"
    dump = json.loads((root / "chromium-dump" / "left.webrtc-internals.json").read_text())
    (pc,) = dump["PeerConnections"].values()
    pc["stats"] = {k: v for k, v in pc["stats"].items() if v.get("statsType") in ("candidate-pair", "transport")}
    export = json.loads((root / "chromium-direct" / "left.result.json").read_text())
    export["stats"] = [o for o in export["stats"] if "candidate" in o["type"] or o["type"] == "transport"][:8]
    return json.dumps(dump).encode(), json.dumps(export).encode()


# -- outputs: what capture strings become ----------------------------------------------------------


def _annotate(data: bytes) -> tuple[int, int]:
    """A capture analysed, its notes written as pcapng comments, the copy read back whole: (frames
    read back, frames with notes)."""
    import icetrace
    from icetrace.capture.pcapng_writer import write_annotated
    from icetrace.capture.reader import read_frames
    from icetrace.report.annotate import frame_notes

    path = _SCRATCH / "annotate.pcap"
    path.write_bytes(data)
    out = _SCRATCH / "annotate-copy.pcapng"
    notes = frame_notes(icetrace.analyze([path]))
    write_annotated(path, out, notes)
    read_problems: list = []
    frames = list(read_frames(out, read_problems))
    assert not read_problems, read_problems  # what icetrace writes, icetrace reads without damage
    return len(frames), len(notes)


def _call_seeds() -> tuple[bytes, ...]:
    """Small calls with the strings captures carry: a USERNAME with `$`, a long error reason,
    escape sequences in an FQDN."""
    from tests.hostile import hostile_call

    folder = _SCRATCH / "seeds"
    return (
        hostile_call.write(folder / "plain").read_bytes(),
        hostile_call.write(folder / "dollar", username=b"$^{$:x", reason="\x1b]0;t\x07" + "r" * 300).read_bytes(),
        hostile_call.write(folder / "fqdn", left_host="a\x1b[2J$x$.local").read_bytes(),
    )


def _plots(data: bytes) -> tuple[int, ...]:
    """Both plots of a capture built, and every text on them plain (matplotlib would parse a text
    with two unescaped `$` as mathtext) and shown (no control character, no lone surrogate). Laying
    out and rasterising costs half a second, so one input in 64 (by its digest) is also drawn, and
    written as the HTML page with its SVG plots (valid UTF-8, nothing unsafe). Returns the texts of
    each kind that says what was drawn: the ladder's arrow labels, the timeline's pair states."""
    import hashlib

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    import icetrace

    path = _SCRATCH / "plots.pcap"
    path.write_bytes(data)
    analysis = icetrace.analyze([path])
    drawn = hashlib.sha256(data).digest()[0] < 4
    plain = Text()  # its usetex and parse_math as every text of the plots has them
    drew = []
    for figure, gid in ((analysis.plot_ladder(), "arrow-label"), (analysis.plot_timeline(), "state")):
        drew.append(sum(t.get_gid() == gid for t in figure.findobj(Text)))
        texts = [t.get_text() for t in figure.findobj(Text)]
        assert not [t for t in texts if plain._preprocess_math(t)[1]], texts
        assert not [t for t in texts if _UNSHOWN.search(t)], texts
        if drawn:
            figure.set_dpi(20)
            FigureCanvasAgg(figure).draw()
    if drawn:
        _command("analyze", str(path), "--html", str(_SCRATCH / "plots.html"))
        page = (_SCRATCH / "plots.html").read_bytes().decode("utf-8")
        assert not _UNSHOWN.search(page)
    return tuple(drew)


# what `icetrace.output.shown` escapes (tab, newline and carriage return allowed: the report's own)
_UNSHOWN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")


def _command(*argv: str) -> int:
    """One command run in this process as the CLI runs it, its exit status; 3 (a bug in icetrace)
    fails with its traceback, and so does anything a terminal would act on in stdout or stderr."""
    import io

    from icetrace.cli import main

    out, err = io.StringIO(), io.StringIO()
    status = main(["--traceback", *argv], out, err)
    assert status != 3, (argv, err.getvalue())
    for text in (out.getvalue(), err.getvalue()):
        assert not _UNSHOWN.search(text), (argv, text)
    return status


def _commands(data: bytes) -> tuple[Any, ...]:
    """A capture, named by its last bytes (so a file name too may hold control characters, or bytes
    no UTF-8 decodes), through what a user runs on it: the text report, the JSON document,
    `candidates`, `check` with JUnit XML against the golden file of another call, and `corpus`'s
    Parquet dataset. No command fails as a bug, nothing a terminal acts on comes out, the JSON and
    the XML parse, and every table of the dataset reads back. Writing a dataset costs about ten
    times the rest, so one input in eight (by its digest) goes through `corpus`. Returns the exit
    statuses and the JUnit test cases."""
    import hashlib
    import os
    import xml.etree.ElementTree as ET

    from icetrace.corpus.tables import KINDS, read_table

    folder = _SCRATCH / "commands"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "in").mkdir(parents=True)
    stem = os.fsdecode(bytes(b for b in data[-12:] if b not in b"/\0") or b"x")
    capture = folder / "in" / f"{stem}.pcap"
    capture.write_bytes(data)
    (folder / "in" / f"{stem}.pcap.expected.json").write_bytes(_golden_of_another_call())
    statuses = (
        _command("analyze", str(capture)),
        _command("analyze", str(capture), "--json", str(folder / "doc.json")),
        _command("candidates", str(capture)),
        _command("check", str(folder / "in"), "--jobs", "1", "--junit", str(folder / "junit.xml")),
    )
    if (folder / "doc.json").exists():
        json.loads((folder / "doc.json").read_bytes())
    cases = len(list(ET.parse(folder / "junit.xml").getroot().iter("testcase")))
    if hashlib.sha256(data).digest()[0] < 32:
        _command("corpus", str(folder / "in"), "--jobs", "1", "--out", str(folder / "c.parquet"))
        for kind in KINDS:
            read_table(folder / "c.parquet", kind)
    return statuses, cases


_GOLDEN_OF_ANOTHER_CALL: list[bytes] = []


def _golden_of_another_call() -> bytes:
    """The golden file of a plain call, made once: checked against it, a mutated call differs in
    the strings it carries, and the diffs show them."""
    if not _GOLDEN_OF_ANOTHER_CALL:
        from tests.hostile import hostile_call

        folder = _SCRATCH / "golden-call"
        capture = hostile_call.write(folder)
        _command("check", str(folder), "--jobs", "1", "--update")
        _GOLDEN_OF_ANOTHER_CALL.append(Path(f"{capture}.expected.json").read_bytes())
    return _GOLDEN_OF_ANOTHER_CALL[0]


def _text_out(data: bytes) -> str:
    """Capture strings through the terminal stream and into JUnit XML: nothing a terminal or an XML
    parser acts on comes out, and the XML is well-formed. Returns the text as shown."""
    import io
    import xml.etree.ElementTree as ET

    from icetrace.corpus.junit import Case, junit_xml
    from icetrace.output import ShownOutput

    text = data.decode("utf-16-le", errors="surrogatepass") if len(data) % 2 == 0 else data.decode("latin-1")
    sink = io.StringIO()
    ShownOutput(sink).write(text + ".")  # a lone "\r" is the one write let through (a progress redraw)
    shown = sink.getvalue()
    assert not any(
        ord(c) < 32 and c not in "\t\n" or 0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF for c in shown
    )
    shown.encode("utf-8")
    cases = [Case(text[:40], "error", text, 0.1), Case("a/" + text[40:80], "changed", text[::-1], 0.2)]
    ET.fromstring(junit_xml(cases))
    return shown


_TEXT = ("call-id \x01\x0b\x1b]0;t\x07 \u202e \ud800 $^{$ \ufffe\nsecond line").encode("utf-16-le", "surrogatepass")
_TEXT_INTACT = (
    "call-id \\x01\\x0b\\x1b]0;t\\x07 \\u202e \\ud800 $^{$ \\ufffe\nsecond line.",
    "\\x1b[31m\u00b2\\x85 plain.",  # an odd length: read as Latin-1
)


# each seed: one peer connection, whose stats kept hold six candidate pairs
_DUMP_INTACT = ((1, (6,)), (1, (6,)))
# each call: the offer and answer POSTs, a check answered by an error, a check answered by success;
# the four STUN frames carry notes
_ANNOTATE_INTACT = ((6, 4),) * 3
# four arrows; the check whose USERNAME is `$^{$:x` names a session of its own, a second pair
_PLOTS_INTACT = ((4, 1), (4, 2), (4, 1))
# the plain call is the golden file's own (check: 0); the others differ from it (1); one test case
_COMMANDS_INTACT = (((0, 0, 0, 0), 1), ((0, 0, 0, 1), 1), ((0, 0, 0, 1), 1))

_GOLDEN = json.dumps(
    {"streams": [{"call_id": "c", "index": 0, "outcome": "connected", "components": []}], "verdicts": ["X"]}
).encode()

TARGETS = {
    t.name: t
    for t in (
        Target("stun-codec", _codec, _stun_seeds(), _STUN_INTACT),
        Target(
            "tcp-framings",
            _framings,
            tuple(
                b"".join(frame(m) for m in _stun_seeds())
                for frame in (lambda m: m, frame_rfc4571, lambda m: frame_msturn_tcp(2, m))
            ),
            (("stun", 4), ("rfc4571", 4), ("ms-turn-tcp", 4)),
        ),
        Target(
            "pcap",
            lambda data: _capture_file(data, ".pcap"),
            _capture_seeds()[0::4],
            _CAPTURE_INTACT[0::4],
            (InputError,),
        ),
        Target(
            "pcapng",
            lambda data: _capture_file(data, ".pcapng"),
            _capture_seeds()[1:2],
            _CAPTURE_INTACT[1:2],
            (InputError,),
        ),
        Target(
            "netmon",
            lambda data: _capture_file(data, ".cap"),
            _capture_seeds()[2:4] + _capture_seeds()[5:],
            _CAPTURE_INTACT[2:4] + _CAPTURE_INTACT[5:],
            (InputError,),
        ),
        Target("gzip", lambda data: _capture_file(data, ".gz"), _gzip_seeds(), _CAPTURE_INTACT[:3], (InputError,)),
        Target(
            "sip-sdp-candidates",
            _signaling,
            (_SDP, _SIP),
            # text without an m= line is read as one audio stream, as bare a= lines given with --sdp are
            (((1, 3, 1), None, 3), ((1, 0, 0), "INVITE", 0)),
        ),
        Target(
            "text-log",
            _text_log,
            (_SIP + b"\r\n" + _SIP, b"$$begin_record\nStart-Line: " + _SIP + b"$$end_record\n"),
            (["INVITE", "INVITE"], ["INVITE"]),
        ),
        Target("mras-xml", _mras, (_MRAS,), (("u", "p", 2),)),
        Target("golden-file", _golden, (_GOLDEN,), (json.loads(_GOLDEN),), (InputError,)),
        Target("http-websocket", _app_stream, _app_seeds(), _APP_INTACT),
        Target("agent-dumps", _agent_dump, _dump_seeds(), _DUMP_INTACT),
        Target("annotate", _annotate, _call_seeds(), _ANNOTATE_INTACT, (InputError,)),
        Target("plots", _plots, _call_seeds(), _PLOTS_INTACT, (InputError,)),
        Target("commands", _commands, _call_seeds(), _COMMANDS_INTACT),
        Target("text-outputs", _text_out, (_TEXT, b"\x1b[31m\xb2\x85 plain"), _TEXT_INTACT),
    )
}


def mutate(seed: bytes, edits: list[tuple[int, int, bytes]], cut: int | None) -> bytes:
    """The seed with byte ranges replaced (position, length replaced, new bytes), then cut."""
    data = bytearray(seed)
    for position, length, new in edits:
        at = position % (len(data) + 1)
        data[at : at + length] = new
    return bytes(data if cut is None else data[: cut % (len(data) + 1)])


# Byte strings that have broken parsers before, spliced in like a fuzzer's dictionary: Unicode
# and Latin-1 superscript digits, a number past Python's int-string limit, extreme lengths; JSON
# values of the wrong type or sign, a JSON lone surrogate, mathtext and terminal escapes.
TOKENS = (
    "\u00b2".encode(),
    b"\xb2",
    "\u0663".encode(),
    b"9" * 5000,
    b"\xff\xff\xff\xff",
    b"\xff\xff\xff\x7f",
    b"\x00\x00\x00\x00",
    b"\r\n\r\n",
    b"[" * 2000,
    b"Content-Length: ",
    b"\x21\x12\xa4\x42",
    b"-1",
    b"1e999",
    b"NaN",
    b"[[]]",
    b'"\\ud800"',
    b"$^{$",
    b"\x1b]0;",
)


def inputs(target: Target) -> st.SearchStrategy[bytes]:
    """Mutated seeds mostly, raw bytes sometimes."""
    new = st.binary(max_size=8) | st.sampled_from(TOKENS)
    edits = st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 8), new), max_size=6)
    cut = st.none() | st.integers(0, 1 << 16)
    return st.one_of(st.builds(mutate, st.sampled_from(target.seeds), edits, cut), st.binary(max_size=512))


def random_input(target: Target, rng: random.Random) -> bytes:
    """One input drawn like `inputs` draws it, from a seeded generator: the long run's fast engine."""
    if rng.random() < 0.2:
        return rng.randbytes(rng.randint(0, 512))
    edits = []
    for _ in range(rng.randint(0, 6)):
        new = rng.choice(TOKENS) if rng.random() < 0.3 else rng.randbytes(rng.randint(0, 8))
        edits.append((rng.randint(0, 1 << 16), rng.randint(0, 8), new))
    cut = None if rng.random() < 0.5 else rng.randint(0, 1 << 16)
    return mutate(rng.choice(target.seeds), edits, cut)


def check(target: Target, data: bytes) -> None:
    """Run one input; a crash is any exception but the target's allowed ones."""
    try:
        target.run(data)
    except target.allowed:
        pass


__all__ = ["TARGETS", "Target", "check", "inputs", "mutate", "random_input"]
