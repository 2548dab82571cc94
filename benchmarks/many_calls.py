"""A busy TURN server's capture of many short calls, each one complete: the `calls` kind of
make_capture.py.

Every call, seen on the server's client-facing side: the caller's Allocate and its answer
(relayed and mapped address), the SIP INVITE with the caller's SDP (host, srflx and relay
candidates), the 200 OK with the callee's (one public host candidate) and the ACK, the caller's
ChannelBind to the callee, the connectivity checks both ways inside ChannelData (short-term
credentials from the SDPs, the caller's check nominating), then RTP in ChannelData both ways, and
the BYE with its 200 OK. Calls last 3-10 s and start at a steady rate, so that about `concurrent`
run at once once the capture is under way; the capture ends mid-call at the size asked for.

Some calls fail, as on a real server: the callee never answers the checks (no response, no media;
one call in 25), or the TURN server refuses the allocation (486, one in 50: the caller offers no
relay candidate and the server sees no checks). Callers sit in a few /24 client subnets, and two
TURN servers share the load, so a report can group by both.

Packets come from the project's codec (encode_stun, encode_channel_data); SIP is plain text.
"""

from __future__ import annotations

import heapq
import random
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from dissectors.codec import encode_channel_data, encode_stun

Frame = Callable[[str, int, str, int, bytes], bytes]  # udp(src, sport, dst, dport, payload)

TURN_SERVERS = ("198.51.100.9", "198.51.100.10")
PROXY = ("198.51.100.5", 5060)
SUBNETS = 8  # caller subnets 10.20.<s>.0/24
RTP_INTERVAL = 0.08  # s between RTP packets each way: low-rate audio (Opus, 80 ms frames)
RTP_PAYLOAD = 40  # bytes
CHECK_RETRANSMITS = (0.0, 0.1, 0.3, 0.7)  # RFC 8445 §14.3 style: RTO doubling from 100 ms


@dataclass(frozen=True)
class Call:
    """One call's parties, credentials and fate."""

    number: int
    start: float
    duration: float
    fate: str  # "connected" | "no-answer" (checks unanswered) | "quota" (no allocation)
    server: str
    caller: tuple[str, int]  # host candidate (the caller's own socket)
    mapped: tuple[str, int]  # the caller's server-reflexive address
    relayed: tuple[str, int]
    callee: tuple[str, int]  # the callee's public host candidate

    @property
    def call_id(self) -> str:
        return f"call-{self.number:06d}@example.net"

    @property
    def ufrags(self) -> tuple[str, str]:
        return f"a{self.number:06d}", f"b{self.number:06d}"

    @property
    def pwds(self) -> tuple[str, str]:
        return f"callerpwd{self.number:015d}", f"calleepwd{self.number:015d}"


def new_call(number: int, start: float, rng: random.Random) -> Call:
    roll = rng.random()
    fate = "quota" if roll < 0.02 else "no-answer" if roll < 0.06 else "connected"
    subnet, host = number % SUBNETS, number // SUBNETS % 250 + 1
    port = 20000 + number % 40000
    return Call(
        number=number,
        start=start,
        duration=rng.uniform(3.0, 10.0),
        fate=fate,
        server=TURN_SERVERS[number % len(TURN_SERVERS)],
        caller=(f"10.20.{subnet}.{host}", port),
        mapped=(f"192.0.2.{subnet + 1}", 10000 + number % 50000),
        relayed=(TURN_SERVERS[number % len(TURN_SERVERS)], 49152 + number % 16000),
        callee=(f"203.0.{113 + number % 3}.{number % 250 + 1}", 30000 + number % 30000),
    )


def _sdp(call: Call, caller: bool) -> bytes:
    ufrag, pwd = (call.ufrags[0], call.pwds[0]) if caller else (call.ufrags[1], call.pwds[1])
    if caller:
        (host, port), (mip, mport) = call.caller, call.mapped
        lines = [
            f"a=candidate:1 1 UDP 2130706431 {host} {port} typ host",
            f"a=candidate:2 1 UDP 1694498815 {mip} {mport} typ srflx raddr {host} rport {port}",
        ]
        if call.fate != "quota":
            rip, rport = call.relayed
            lines.append(f"a=candidate:3 1 UDP 16777215 {rip} {rport} typ relay raddr {mip} rport {mport}")
    else:
        host, port = call.callee
        lines = [f"a=candidate:1 1 UDP 2130706431 {host} {port} typ host"]
    text = (
        f"v=0\r\no=- {call.number} 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n"
        f"a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\n" + "".join(line + "\r\n" for line in lines)
    )
    return text.encode()


def _sip(call: Call, first_line: str, cseq: str, body: bytes = b"", to_tag: bool = False) -> bytes:
    host, port = call.caller
    tag = f";tag=b{call.number}" if to_tag else ""
    head = (
        f"{first_line}\r\nVia: SIP/2.0/UDP {host}:{port - 1};branch=z9hG4bK{call.number}{cseq.split()[1]}\r\n"
        f"From: <sip:caller{call.number}@example.net>;tag=a{call.number}\r\n"
        f"To: <sip:callee{call.number}@example.org>{tag}\r\nCall-ID: {call.call_id}\r\nCSeq: {cseq}\r\n"
        f"Max-Forwards: 70\r\n"
    )
    if body:
        head += f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n"
    else:
        head += "Content-Length: 0\r\n\r\n"
    return head.encode() + body


class CallPackets:
    """The packets of one call in time order, as (time, frame, what) from a generator."""

    def __init__(self, call: Call, rng: random.Random, udp: Frame) -> None:
        self.call = call
        self.rng = rng
        self.udp = udp
        self.channel = 0x4000 + call.number % 0x1000  # RFC 8656 §12: 0x4000-0x4FFF

    def _tid(self) -> bytes:
        return self.rng.getrandbits(96).to_bytes(12, "big")

    def _to_server(self, payload: bytes) -> bytes:
        return self.udp(*self.call.caller, self.call.server, 3478, payload)

    def _from_server(self, payload: bytes) -> bytes:
        return self.udp(self.call.server, 3478, *self.call.caller, payload)

    def _sip_out(self, message: bytes) -> bytes:
        host, port = self.call.caller
        return self.udp(host, port - 1, *PROXY, message)

    def _sip_in(self, message: bytes) -> bytes:
        host, port = self.call.caller
        return self.udp(*PROXY, host, port - 1, message)

    def packets(self) -> Iterator[tuple[float, bytes, str]]:
        call, t = self.call, self.call.start
        yield from self._allocate(t)
        invite = _sip(call, "INVITE sip:callee@example.org SIP/2.0", "1 INVITE", _sdp(call, True))
        yield t + 0.05, self._sip_out(invite), "sip"
        answered = t + 0.6
        ok = _sip(call, "SIP/2.0 200 OK", "1 INVITE", _sdp(call, False), to_tag=True)
        yield answered, self._sip_in(ok), "sip"
        ack = _sip(call, "ACK sip:callee@example.org SIP/2.0", "1 ACK", to_tag=True)
        yield answered + 0.01, self._sip_out(ack), "sip"
        end = t + call.duration
        if call.fate != "quota":
            yield from self._checks_and_media(answered + 0.02, end)
        yield end, self._sip_out(_sip(call, "BYE sip:callee@example.org SIP/2.0", "2 BYE", to_tag=True)), "sip"
        yield end + 0.05, self._sip_in(_sip(call, "SIP/2.0 200 OK", "2 BYE", to_tag=True)), "sip"

    def _allocate(self, t: float) -> Iterator[tuple[float, bytes, str]]:
        call, tid = self.call, self._tid()
        yield t, self._to_server(encode_stun(0x0003, tid, [("REQUESTED-TRANSPORT", 17), ("LIFETIME", 600)])), "stun"
        if call.fate == "quota":
            answer = encode_stun(0x0113, tid, [("ERROR-CODE", (486, "Allocation Quota Reached"))])
        else:
            attrs = [("XOR-RELAYED-ADDRESS", call.relayed), ("XOR-MAPPED-ADDRESS", call.mapped), ("LIFETIME", 600)]
            answer = encode_stun(0x0103, tid, attrs)
        yield t + 0.02, self._from_server(answer), "stun"

    def _check(self, controlling: bool, tid: bytes) -> bytes:
        call = self.call
        (a_ufrag, b_ufrag), (a_pwd, b_pwd) = call.ufrags, call.pwds
        if controlling:  # the caller's check to the callee: the callee's password
            attrs = [("USERNAME", f"{b_ufrag}:{a_ufrag}".encode()), ("PRIORITY", 1845494271)]
            attrs += [("ICE-CONTROLLING", call.number), ("USE-CANDIDATE", True)]
            return encode_stun(0x0001, tid, attrs, integrity_key=b_pwd.encode(), fingerprint=True)
        attrs = [("USERNAME", f"{a_ufrag}:{b_ufrag}".encode()), ("PRIORITY", 1845494271)]
        attrs += [("ICE-CONTROLLED", call.number + 1)]
        return encode_stun(0x0001, tid, attrs, integrity_key=a_pwd.encode(), fingerprint=True)

    def _answer(self, tid: bytes, mapped: tuple[str, int], pwd: str) -> bytes:
        return encode_stun(0x0101, tid, [("XOR-MAPPED-ADDRESS", mapped)], integrity_key=pwd.encode(), fingerprint=True)

    def _checks_and_media(self, t: float, end: float) -> Iterator[tuple[float, bytes, str]]:
        call, channel = self.call, self.channel
        tid = self._tid()
        bind = [("CHANNEL-NUMBER", channel), ("XOR-PEER-ADDRESS", call.callee)]
        yield t, self._to_server(encode_stun(0x0009, tid, bind)), "stun"
        yield t + 0.02, self._from_server(encode_stun(0x0109, tid, [])), "stun"
        (_, _), (a_pwd, b_pwd) = call.ufrags, call.pwds
        mine, theirs = self._tid(), self._tid()
        if call.fate == "no-answer":  # the callee's network drops everything: checks go unanswered
            for delay in CHECK_RETRANSMITS:
                yield t + 0.05 + delay, self._to_server(encode_channel_data(channel, self._check(True, mine))), "stun"
            return
        # the callee's check reaches the relayed address, then the caller's nominating check
        yield t + 0.04, self._from_server(encode_channel_data(channel, self._check(False, theirs))), "stun"
        answer = self._answer(theirs, call.callee, a_pwd)
        yield t + 0.041, self._to_server(encode_channel_data(channel, answer)), "stun"
        yield t + 0.05, self._to_server(encode_channel_data(channel, self._check(True, mine))), "stun"
        answer = self._answer(mine, call.relayed, b_pwd)
        yield t + 0.09, self._from_server(encode_channel_data(channel, answer)), "stun"
        yield from self._media(t + 0.1, end)

    def _media(self, t: float, end: float) -> Iterator[tuple[float, bytes, str]]:
        ssrc_out, ssrc_in = self.call.number * 2, self.call.number * 2 + 1
        body = bytes(RTP_PAYLOAD)
        n = 0
        while t < end - 0.01:
            for ssrc, out in ((ssrc_out, True), (ssrc_in, False)):
                rtp = struct.pack("!BBHII", 0x80, 111, n & 0xFFFF, n * 960 & 0xFFFFFFFF, ssrc) + body
                data = encode_channel_data(self.channel, rtp)
                frame = self._to_server(data) if out else self._from_server(data)
                yield t + (0.0 if out else 0.003), frame, "rtp"
            n += 1
            t += RTP_INTERVAL


def write_calls_capture(out: str, limit: int, rng: random.Random, udp: Frame, concurrent: int = 2000) -> None:
    """Calls start at `concurrent` / mean duration per second; packets are written in time order
    until the file reaches `limit` bytes."""
    start = 1_700_000_000.0
    rate = concurrent / 6.5  # calls a second: 3-10 s calls, mean 6.5 s
    heap: list[tuple[float, int, bytes, str, Iterator[tuple[float, bytes, str]]]] = []
    counts: dict[str, int] = {}
    calls = 0
    next_start = start
    with open(out, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        written = 24
        while written < limit:
            while not heap or next_start <= heap[0][0]:
                packets = CallPackets(new_call(calls, next_start, rng), rng, udp).packets()
                when, frame, what = next(packets)
                heapq.heappush(heap, (when, calls, frame, what, packets))
                calls += 1
                next_start += rng.expovariate(rate)
            when, number, frame, what, packets = heapq.heappop(heap)
            following = next(packets, None)
            if following is not None:
                heapq.heappush(heap, (following[0], number, following[1], following[2], packets))
            counts[what] = counts.get(what, 0) + 1
            sec = int(when)
            fh.write(struct.pack("<IIII", sec, int((when - sec) * 1e6), len(frame), len(frame)))
            fh.write(frame)
            written += 16 + len(frame)
    total = sum(counts.values())
    mix = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    print(
        f"{out}: {total} packets, {written / 1e6:.0f} MB, {calls} calls started: {mix} "
        f"({counts.get('stun', 0) / total:.2%} STUN)"
    )
