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
# and Latin-1 superscript digits, a number past Python's int-string limit, extreme lengths.
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
