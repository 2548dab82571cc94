"""A busy Edge pool's capture: thousands of short calls, each set up, checked, carried and ended.

Used by make_capture.py --kind many-calls. The capture is taken where a SIP proxy (UDP 5060) and
two TURN servers (UDP 3478) serve remote clients, as in front of a Lync/Skype for Business Edge
pool (Access Edge and two A/V Edges) or a SIP proxy with two coturn servers beside it: it holds
each call's signaling and its client's leg of the relayed media. About `concurrent` calls (2,000 by
default) run at once, each 3-10 s long; calls start at an even rate from the first second (a
server whose capture began when it did), so every call has its whole story:

- TURN: an Allocate with long-term credentials (the client kept the NONCE of an earlier 401)
  and its success (XOR-RELAYED-ADDRESS, XOR-MAPPED-ADDRESS), then a ChannelBind to the callee;
  one call in four is a Lync client inside the company using MS-TURN from its own private address
  (MAGIC-COOKIE, MS-VERSION; Set Active Destination instead of a channel; its data in Send
  requests and Data indications), the others remote clients behind NATs (198.18.0.0/16);
- SIP over UDP: INVITE with an SDP offer (ice-ufrag/ice-pwd, host, srflx and relay candidates),
  200 OK with the callee's answer (a public host candidate), ACK; BYE and its 200 OK at the end;
- ICE: the caller's nominating check (USE-CANDIDATE) through the relay and its success,
  signed with the callee's password (short-term credentials);
- media: RTP of a wideband codec with discontinuous transmission (40-byte frames, 9 packets a
  second each way on average) inside ChannelData or MS-TURN Send/Data.

Some calls fail, as on a real server: the server refuses the allocation (486 Allocation Quota
Reached, one call in 50: the offer has no relay candidate, and no check or media follows), or the
callee's network drops everything (one in 25: the caller's check goes out four times, RTO
doubling from 100 ms, unanswered, and no media follows; the call is hung up all the same).
Callers sit in eight /24 client subnets (10.20.0.0/24 to 10.20.7.0/24), callees on public
addresses (198.19.0.0/16), and calls alternate between the two TURN servers, so a report can group
by both.

Six STUN messages a connected call against about 110 RTP packets: about 5% of the packets are
STUN. About 6,000 calls fill 100 MB, 22,000 fill 400 MB. Every message is built with the project's
codec (dissectors/codec.py); frames are assembled from templates, so a gigabyte takes about a minute.
"""

from __future__ import annotations

import hashlib
import heapq
import random
import socket
import struct
from collections.abc import Iterator
from typing import BinaryIO

from dissectors.checks import long_term_key
from dissectors.codec import encode_channel_data, encode_stun

SIP = ("198.51.100.5", 5060)
TURN_SERVERS = (("198.51.100.9", 3478), ("198.51.100.10", 3478))
SUBNETS = 8  # client subnets 10.20.<s>.0/24
REALM, NONCE, PASSWORD = "edge.example.com", "f00dcafe0123456789abcdef", "turnsecret"
CONCURRENT = 2000
QUOTA_EVERY, NO_ANSWER_EVERY = 50, 25  # one call in so many: its allocation refused; its checks unanswered
CHECK_SENT = (0.0, 0.1, 0.3, 0.7)  # an unanswered check's transmissions: RTO doubling from 100 ms
SHORTEST, LONGEST = 3.0, 10.0
RTP_RATE = 9.0  # packets a second each way: DTX frames, on average over talk and silence
MS_COOKIE = ("MAGIC-COOKIE", 0x72C64BC6)
TIE_BREAKER = 0x1C2D3E4F5A6B7C8D

Address = tuple[str, int]
Frame = tuple[float, bytes, str]  # time, frame, what it carries: stun, sip or rtp


def _checksum(header: bytes) -> int:
    s: int = sum(struct.unpack("!10H", header))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def _mac(ip: str) -> bytes:
    return b"\x02" + hashlib.sha256(ip.encode()).digest()[:5]


class _Frames:
    """Ethernet/IPv4/UDP frames; the headers of a 5-tuple and length are built once."""

    def __init__(self) -> None:
        self.headers: dict[tuple[Address, Address, int], bytes] = {}

    def udp(self, src: Address, dst: Address, payload: bytes) -> bytes:
        key = (src, dst, len(payload))
        header = self.headers.get(key)
        if header is None:
            ip = struct.pack(
                "!BBHHHBBH4s4s",
                0x45,
                0,
                28 + len(payload),
                0,
                0x4000,
                64,
                17,
                0,
                socket.inet_aton(src[0]),
                socket.inet_aton(dst[0]),
            )
            ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
            udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0)
            header = _mac(dst[0]) + _mac(src[0]) + b"\x08\x00" + ip + udp
            if len(self.headers) > 50_000:
                self.headers.clear()
            self.headers[key] = header
        return header + payload


class Call:
    """One call's addresses, credentials, length and fate (`number` makes them unique)."""

    def __init__(self, number: int, start: float, rng: random.Random) -> None:
        n = number
        self.number = n
        self.start = start
        self.length = rng.uniform(SHORTEST, LONGEST)
        # "connected", "quota" (the allocation refused) or "no-answer" (the callee's network drops all)
        self.fate = "quota" if n % QUOTA_EVERY == 7 else "no-answer" if n % NO_ANSWER_EVERY == 3 else "connected"
        self.ms_turn = n % 4 == 3
        self.lan = (f"10.20.{n % SUBNETS}.{n // SUBNETS % 250 + 1}", 20000 + n // (SUBNETS * 250) % 40000)
        # Lync clients inside the company reach the Edge pool's internal side from their own address
        # (no NAT); the others, remote, come from their NAT's public address
        self.internal = self.ms_turn
        remote = (f"198.18.{(n // 250) % 250}.{n % 250 + 1}", 40000 + n % 20000)
        self.public = self.lan if self.internal else remote
        self.sip = (self.public[0], 5062)
        self.turn = TURN_SERVERS[n % len(TURN_SERVERS)]
        self.relayed = (self.turn[0], 49152 + n // len(TURN_SERVERS) % 16000)
        self.callee = (f"198.19.{(n // 250) % 250}.{n % 250 + 1}", 30000 + n % 20000)
        self.ufrag, self.pwd = f"c{n:07x}", f"callerpassword{n:010x}"
        self.callee_ufrag, self.callee_pwd = f"p{n:07x}", f"calleepassword{n:010x}"
        self.user = f"user{n % 50000}@{REALM}"
        self.key = long_term_key(self.user, REALM, PASSWORD)
        self.ssrc = (0x5000_0000 + n * 2, 0x5000_0001 + n * 2)

    def tid(self, what: str) -> bytes:
        return hashlib.sha256(f"{self.number}:{what}".encode()).digest()[: 16 if self.ms_turn else 12]


def _sdp(call: Call, answer: bool) -> bytes:
    if answer:
        ip, port = call.callee
        ice = f"a=ice-ufrag:{call.callee_ufrag}\r\na=ice-pwd:{call.callee_pwd}\r\n"
        candidates = f"a=candidate:1 1 UDP 2130706431 {ip} {port} typ host\r\n"
    else:
        ip, port = call.lan
        ice = f"a=ice-ufrag:{call.ufrag}\r\na=ice-pwd:{call.pwd}\r\n"
        public, relayed = call.public, call.relayed
        candidates = f"a=candidate:1 1 UDP 2130706431 {ip} {port} typ host\r\n"
        if not call.internal:  # an internal client's mapping is its own address: no srflx candidate
            srflx = f"{public[0]} {public[1]} typ srflx raddr {ip} rport {port}"
            candidates += f"a=candidate:2 1 UDP 1694498815 {srflx}\r\n"
        if call.fate != "quota":
            relay = f"{relayed[0]} {relayed[1]} typ relay raddr {public[0]} rport {public[1]}"
            candidates += f"a=candidate:3 1 UDP 16777215 {relay}\r\n"
    body = (
        f"v=0\r\no=- {call.number} 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 111 0\r\n{ice}{candidates}a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n"
    )
    return body.encode()


def _sip(call: Call, start_line: str, cseq: str, to_tag: bool, body: bytes = b"") -> bytes:
    n = call.number
    head = [
        start_line,
        f"Via: SIP/2.0/UDP {call.sip[0]}:{call.sip[1]};branch=z9hG4bK{n:x}{cseq.split()[1][:3]}",
        "Max-Forwards: 70",
        f"From: <sip:{call.user}>;tag=a{n:x}",
        f"To: <sip:callee{n}@{REALM}>" + (f";tag=b{n:x}" if to_tag else ""),
        f"Call-ID: {n:x}-call@{REALM}",
        f"CSeq: {cseq}",
        f"Contact: <sip:{call.user};transport=udp>",
    ]
    if body:
        head.append("Content-Type: application/sdp")
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _rtp(call: Call, direction: int, seq: int, payload: bytes) -> bytes:
    return struct.pack("!BBHII", 0x80, 111, seq & 0xFFFF, seq * 960 & 0xFFFFFFFF, call.ssrc[direction]) + payload


def _turn_setup(call: Call) -> list[tuple[float, bool, bytes]]:
    """The Allocate and the channel (MS-TURN: the active destination), as (delay, from the client, message)."""
    credentials = [("USERNAME", call.user.encode()), ("REALM", REALM), ("NONCE", NONCE)]
    relayed, mapped, callee = call.relayed, call.public, call.callee
    key = call.key
    if call.ms_turn:
        ms = {"cookie": False, "dialect": "ms-turn"}
        head = [MS_COOKIE, ("MS-VERSION", 2)]
        allocate = encode_stun(
            0x0003, call.tid("alloc"), [*head, *credentials, ("LIFETIME", 480)], integrity_key=key, **ms
        )
        allocated = encode_stun(
            0x0103,
            call.tid("alloc"),
            [*head, ("MAPPED-ADDRESS", relayed), ("XOR-MAPPED-ADDRESS", mapped), ("LIFETIME", 480)],
            integrity_key=key,
            **ms,
        )
        dest = [MS_COOKIE, *credentials, ("DESTINATION-ADDRESS", callee)]
        channel = encode_stun(0x0006, call.tid("dest"), dest, integrity_key=key, **ms)
        bound = encode_stun(0x0106, call.tid("dest"), [MS_COOKIE], integrity_key=key, **ms)
    else:
        allocate = encode_stun(
            0x0003,
            call.tid("alloc"),
            [("REQUESTED-TRANSPORT", 17), ("LIFETIME", 600), *credentials],
            integrity_key=key,
            fingerprint=True,
        )
        allocated = encode_stun(
            0x0103,
            call.tid("alloc"),
            [("XOR-RELAYED-ADDRESS", relayed), ("XOR-MAPPED-ADDRESS", mapped), ("LIFETIME", 600)],
            integrity_key=key,
            fingerprint=True,
        )
        bind = [("CHANNEL-NUMBER", 0x4000), ("XOR-PEER-ADDRESS", callee), *credentials]
        channel = encode_stun(0x0009, call.tid("bind"), bind, integrity_key=key, fingerprint=True)
        bound = encode_stun(0x0109, call.tid("bind"), [], integrity_key=key, fingerprint=True)
    if call.fate == "quota":  # RFC 8656 §7.2: the server refuses; the client goes on without a relay
        refused = [("ERROR-CODE", (486, "Allocation Quota Reached")), ("REALM", REALM), ("NONCE", NONCE)]
        if call.ms_turn:
            refused = [MS_COOKIE, ("ERROR-CODE", (486, "Allocation Quota Reached"))]
            answer = encode_stun(0x0113, call.tid("alloc"), refused, cookie=False, dialect="ms-turn")
        else:
            answer = encode_stun(0x0113, call.tid("alloc"), refused, fingerprint=True)
        return [(0.0, True, allocate), (0.02, False, answer)]
    return [(0.0, True, allocate), (0.02, False, allocated), (0.27, True, channel), (0.29, False, bound)]


def _check(call: Call) -> tuple[bytes, bytes]:
    """The caller's nominating check to the callee and its answer."""
    attrs = [
        ("USERNAME", f"{call.callee_ufrag}:{call.ufrag}".encode()),
        ("PRIORITY", 16777215),
        ("ICE-CONTROLLING", TIE_BREAKER),
        ("USE-CANDIDATE", True),
    ]
    tid = hashlib.sha256(f"{call.number}:check".encode()).digest()[:12]
    check = encode_stun(0x0001, tid, attrs, integrity_key=call.callee_pwd.encode(), fingerprint=True)
    success = encode_stun(
        0x0101, tid, [("XOR-MAPPED-ADDRESS", call.relayed)], integrity_key=call.callee_pwd.encode(), fingerprint=True
    )
    return check, success


class _Relay:
    """How one call's data travels on the client's leg: ChannelData or MS-TURN Send/Data."""

    def __init__(self, call: Call, frames: _Frames) -> None:
        self.call = call
        self.frames = frames
        self.sequence = 0

    def wrap(self, outbound: bool, data: bytes) -> bytes:
        call = self.call
        client, server = call.public, call.turn
        if not call.ms_turn:
            payload = encode_channel_data(0x4000, data)
        else:
            self.sequence += 1
            tid = struct.pack("!QQ", call.number, self.sequence)
            if outbound:
                attrs = [MS_COOKIE, ("DESTINATION-ADDRESS", call.callee), ("DATA", data)]
                payload = encode_stun(0x0004, tid, attrs, cookie=False, dialect="ms-turn")
            else:
                attrs = [MS_COOKIE, ("REMOTE-ADDRESS", call.callee), ("DATA", data)]
                payload = encode_stun(0x0115, tid, attrs, cookie=False, dialect="ms-turn")
        return self.frames.udp(client, server, payload) if outbound else self.frames.udp(server, client, payload)


def call_frames(call: Call, frames: _Frames, rng: random.Random, voice: bytes) -> Iterator[Frame]:
    """Every frame of one call at the Edge, in time order."""
    t0, client, sip_client, turn = call.start, call.public, call.sip, call.turn
    events: list[Frame] = []
    for delay, outbound, message in _turn_setup(call):
        frame = frames.udp(client, turn, message) if outbound else frames.udp(turn, client, message)
        events.append((t0 + delay, frame, "stun"))
    callee = f"sip:callee{call.number}@{REALM}"
    invite = _sip(call, f"INVITE {callee} SIP/2.0", "1 INVITE", False, _sdp(call, False))
    ok = _sip(call, "SIP/2.0 200 OK", "1 INVITE", True, _sdp(call, True))
    events.append((t0 + 0.05, frames.udp(sip_client, SIP, invite), "sip"))
    events.append((t0 + 0.25, frames.udp(SIP, sip_client, ok), "sip"))
    events.append((t0 + 0.26, frames.udp(sip_client, SIP, _sip(call, f"ACK {callee} SIP/2.0", "1 ACK", True)), "sip"))
    relay = _Relay(call, frames)
    check, success = _check(call)
    if call.fate == "no-answer":
        events += [(t0 + 0.31 + sent, relay.wrap(True, check), "stun") for sent in CHECK_SENT]
    elif call.fate == "connected":
        events.append((t0 + 0.31, relay.wrap(True, check), "stun"))
        events.append((t0 + 0.33, relay.wrap(False, success), "stun"))
    events.sort()
    yield from events
    end = max(t0 + call.length, events[-1][0] + 0.01)
    if call.fate == "connected":
        yield from _media(call, relay, rng, voice, t0 + 0.35, end)
    bye = _sip(call, f"BYE {callee} SIP/2.0", "2 BYE", True)
    yield end, frames.udp(sip_client, SIP, bye), "sip"
    yield end + 0.02, frames.udp(SIP, sip_client, _sip(call, "SIP/2.0 200 OK", "2 BYE", True)), "sip"


def _media(call: Call, relay: _Relay, rng: random.Random, voice: bytes, t: float, end: float) -> Iterator[Frame]:
    """RTP both ways until `end`, at RTP_RATE a second each way on average."""
    seq = [0, 0]
    while True:
        t += rng.expovariate(2 * RTP_RATE)
        if t >= end:
            return
        direction = rng.random() < 0.5
        seq[direction] += 1
        yield t, relay.wrap(not direction, _rtp(call, direction, seq[direction], voice)), "rtp"


def write(
    fh: BinaryIO, limit: int, rng: random.Random, start: float = 1_700_000_000.0, concurrent: int = CONCURRENT
) -> dict[str, float]:
    """Frames of calls starting at an even rate (`concurrent` at once) until `limit` bytes: the number
    of calls begun and ended, packets of each kind, bytes, and the seconds the capture covers."""
    frames = _Frames()
    voice = bytes(rng.getrandbits(8) for _ in range(40))
    interval = (SHORTEST + LONGEST) / 2 / concurrent
    fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    counts = {"calls begun": 0.0, "calls ended": 0.0, "stun": 0.0, "sip": 0.0, "rtp": 0.0}
    written, calls, t = 24, 0, start
    heap: list[tuple[float, int, bytes, str, Iterator[Frame]]] = []
    next_start = start
    while written < limit:
        while not heap or next_start <= heap[0][0]:
            stream = call_frames(Call(calls, next_start, rng), frames, rng, voice)
            first = next(stream)
            heapq.heappush(heap, (first[0], calls, first[1], first[2], stream))
            calls += 1
            next_start += interval
        t, number, frame, kind, stream = heapq.heappop(heap)
        sec = int(t)
        fh.write(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(frame), len(frame)))
        fh.write(frame)
        written += 16 + len(frame)
        counts[kind] += 1
        counts["calls begun"] += frame[42:52] == b"INVITE sip"
        after = next(stream, None)
        if after is not None:
            heapq.heappush(heap, (after[0], number, after[1], after[2], stream))
        else:
            counts["calls ended"] += 1
    counts["bytes"], counts["seconds"] = written, t - start
    return counts
