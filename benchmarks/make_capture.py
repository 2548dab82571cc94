"""Write a large synthetic capture: a VoIP network's, a TURN server's or an A/V Edge's.

Usage: python benchmarks/make_capture.py OUT.pcap --size-mb 1000 [--kind voip|turn-server|av-edge|many-calls]
                                         [--stun-mix rfc|heavy] [--concurrent 2000]
Packets are assembled from templates with struct (no Scapy per packet) so a
gigabyte takes seconds. voip imitates a busy media network: ~97% RTP, some STUN/TURN,
ChannelData, SIP, TCP. turn-server is a TURN server's own capture (port 3478) of 200 calls
already running when the capture began (no Allocate before the media), each client sending and
receiving 50 RTP packets/s: 64% of clients relay with ChannelData over UDP, 10% with ChannelData
framed on TURN/TCP, 16% with Send/Data indications, 10% are the relay's other side (plain RTP
between relayed address and peer). av-edge is a Lync/Skype for Business A/V Edge's: MS-TURN has
no channels, so 90% of clients' media travels in MS-TURN Send requests (0x0004) and Data
indications (0x0115), 10% is plain RTP on the relay's other side. many-calls is a busy Edge
pool's (a SIP proxy and two TURN servers): 2,000 calls at once, 3-10 s each, every one with its
Allocate, SIP INVITE/200/ACK/BYE with SDP candidates, channel, check and media, a few failing
(allocation refused, checks unanswered; many_calls.py).

STUN comes at the rates agents following the RFCs send it once a call runs (--stun-mix rfc, the
default; see CONSENT_INTERVAL and the refresh periods below): a consent check and its answer every
5 s per client, wrapped as that client's media is; ChannelBind, CreatePermission and Refresh
(MS-TURN: Allocate) with their answers every 4-9 minutes. That is about 0.4% of the packets.
--stun-mix heavy is the older mix the first relay figures used: one packet in 50 a STUN request
(checks, ChannelBinds, Refreshes) that nothing answers, ten times the consent rate and more.
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import many_calls  # noqa: E402

from dissectors.codec import encode_channel_data, encode_stun  # noqa: E402


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ipv4(src: str, dst: str, proto: int, payload: bytes) -> bytes:
    import socket

    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(payload),
        0,
        0x4000,
        64,
        proto,
        0,
        socket.inet_aton(src),
        socket.inet_aton(dst),
    )
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def ether(ip: bytes) -> bytes:
    return b"\x00\x11\x22\x33\x44\x55\x00\x66\x77\x88\x99\xaa\x08\x00" + ip


def udp(src: str, sport: int, dst: str, dport: int, payload: bytes) -> bytes:
    return ether(ipv4(src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload))


def tcp(src: str, sport: int, dst: str, dport: int, seq: int, payload: bytes) -> bytes:
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x18, 65535, 0, 0)
    return ether(ipv4(src, dst, 6, header + payload))


SDP = (
    "v=0\r\no=- 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\n"
    "m=audio 50000 RTP/AVP 0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
    "a=candidate:1 1 UDP 2130706431 192.168.1.10 50000 typ host\r\n"
    "a=candidate:2 1 UDP 1694498815 203.0.113.10 50000 typ srflx raddr 192.168.1.10 rport 50000\r\n"
)


def sip_invite(n: int) -> bytes:
    body = SDP.encode()
    head = (
        f"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK{n}\r\n"
        f"From: <sip:alice@example.com>;tag={n}\r\nTo: <sip:bob@example.com>\r\nCall-ID: call-{n}\r\n"
        f"CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


SERVER = ("198.51.100.9", 3478)
RELAY_CLIENTS = 200


def _rtp(n: int, ssrc: int, body: bytes) -> bytes:
    return struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, n * 160 & 0xFFFFFFFF, ssrc) + body


def _client(i: int) -> tuple[str, int]:
    return f"10.1.{i // 250}.{i % 250 + 1}", 40000 + i


def _peer(i: int) -> tuple[str, int]:
    return f"203.0.{113 + i // 250}.{i % 250 + 1}", 50000 + i


class _TcpLegs:
    """Per-direction sequence numbers of the TURN/TCP connections."""

    def __init__(self) -> None:
        self.seq: dict[tuple[str, int, str, int], int] = {}

    def frame(self, src: tuple[str, int], dst: tuple[str, int], payload: bytes) -> bytes:
        key = (*src, *dst)
        seq = self.seq.get(key, 1000)
        self.seq[key] = seq + len(payload)
        return tcp(src[0], src[1], dst[0], dst[1], seq, payload)


def turn_server_frame(n: int, rng: random.Random, body: bytes, legs: _TcpLegs) -> tuple[bytes, str]:
    """One packet of a TURN server's capture, and what it is."""
    i = n % RELAY_CLIENTS
    client, peer = _client(i), _peer(i)
    channel = 0x4000 + i
    r = n % 50
    outbound = n % 2 == 0
    src, dst = (client, SERVER) if outbound else (SERVER, client)
    if r < 31:  # 62%: ChannelData over UDP
        return udp(*src, *dst, encode_channel_data(channel, _rtp(n, i, body))), "channeldata"
    if r < 36:  # 10%: ChannelData framed on TURN/TCP (RFC 8656 §12.5)
        tcp_client = (client[0], client[1] + 1000)
        s, d = (tcp_client, SERVER) if outbound else (SERVER, tcp_client)
        return legs.frame(s, d, encode_channel_data(channel, _rtp(n, i, body), stream=True)), "channeldata"
    if r < 44:  # 16%: Send and Data indications
        tid = n.to_bytes(12, "big")
        attrs = [("XOR-PEER-ADDRESS", peer), ("DATA", _rtp(n, i, body))]
        return udp(*src, *dst, encode_stun(0x0016 if outbound else 0x0017, tid, attrs)), "indication"
    if r < 49:  # 10%: the relay's other side, plain RTP between relayed address and peer
        relayed, far = (SERVER[0], 49152 + i), peer
        s, d = (relayed, far) if outbound else (far, relayed)
        return udp(*s, *d, _rtp(n, i, body)), "rtp"
    tid = rng.getrandbits(96).to_bytes(12, "big")
    if n % 3 == 0:  # a consent check inside ChannelData
        check = encode_stun(
            0x0001,
            tid,
            [("USERNAME", b"abcd:efgh"), ("PRIORITY", 1845494271), ("ICE-CONTROLLED", 7)],
            integrity_key=b"k" * 22,
            fingerprint=True,
        )
        return udp(*src, *dst, encode_channel_data(channel, check)), "stun"
    if n % 3 == 1:
        bind = [("CHANNEL-NUMBER", channel), ("XOR-PEER-ADDRESS", peer)]
        return udp(*client, *SERVER, encode_stun(0x0009, tid, bind)), "stun"
    return udp(*client, *SERVER, encode_stun(0x0004, tid, [("LIFETIME", 600)])), "stun"


def av_edge_frame(n: int, rng: random.Random, body: bytes) -> tuple[bytes, str]:
    """One packet of an A/V Edge's capture (MS-TURN over UDP 3478), and what it is."""
    i = n % RELAY_CLIENTS
    client, peer = _client(i), _peer(i)
    r = n % 50
    outbound = n % 2 == 0
    tid = n.to_bytes(16, "big")  # MS-TURN: 128-bit transaction ids, no cookie in the header
    cookie = ("MAGIC-COOKIE", 0x72C64BC6)
    if r < 43:  # 86%: media in Send requests and Data indications
        if outbound:
            attrs = [cookie, ("DESTINATION-ADDRESS", peer), ("DATA", _rtp(n, i, body))]
            return udp(*client, *SERVER, encode_stun(0x0004, tid, attrs, cookie=False)), "indication"
        attrs = [cookie, ("REMOTE-ADDRESS", peer), ("DATA", _rtp(n, i, body))]
        return udp(*SERVER, *client, encode_stun(0x0115, tid, attrs, cookie=False)), "indication"
    if r < 48:  # 10%: plain RTP on the relay's other side
        relayed = (SERVER[0], 49152 + i)
        s, d = (relayed, peer) if outbound else (peer, relayed)
        return udp(*s, *d, _rtp(n, i, body)), "rtp"
    if r == 48:  # an Allocate (MS-TURN: the MS-VERSION and cookie attributes)
        attrs = [cookie, ("MS-VERSION", 3), ("LIFETIME", 600)]
        return udp(
            *client, *SERVER, encode_stun(0x0003, rng.getrandbits(128).to_bytes(16, "big"), attrs, cookie=False)
        ), "stun"
    check = encode_stun(
        0x0001,
        rng.getrandbits(128).to_bytes(16, "big"),
        [("USERNAME", b"abcd:efgh"), ("PRIORITY", 1845494271)],
        cookie=False,
    )
    attrs = [cookie, ("DESTINATION-ADDRESS", peer), ("DATA", check)]
    return udp(*client, *SERVER, encode_stun(0x0004, tid, attrs, cookie=False)), "stun"


# STUN on a relay once calls run, at the rates agents that follow the RFCs send it (one client per
# call, each with one candidate pair in use):
CONSENT_INTERVAL = 5.0  # RFC 7675 §5.1: a consent check every 5 s (randomised 0.8-1.2x) per pair in use
CHANNEL_REFRESH = 540.0  # RFC 8656 §12: a channel binding lasts 10 min; refreshed (ChannelBind) before
PERMISSION_REFRESH = 240.0  # RFC 8656 §9: a permission lasts 5 min; refreshed (CreatePermission) before
ALLOCATION_REFRESH = 540.0  # RFC 8656 §7: Refresh before the allocation's lifetime (default 600 s) ends
PACKETS_PER_SECOND = 100  # per client: 50 RTP packets/s each way (20 ms frames)
CHECK = [("USERNAME", b"abcd:efgh"), ("PRIORITY", 1845494271), ("ICE-CONTROLLED", 7)]


class _Schedule:
    """When each client next sends each kind of STUN: staggered over the period, jittered as RFC
    7675 asks for consent checks. The answer to a request goes out on the client's next turn."""

    def __init__(self, rng: random.Random, periods: dict[str, float]) -> None:
        self.rng = rng
        self.periods = periods
        self.due = {
            (i, what): period * (i + 0.5) / RELAY_CLIENTS
            for what, period in periods.items()
            for i in range(RELAY_CLIENTS)
        }
        self.answers: dict[int, tuple[str, bytes]] = {}  # client -> (what, transaction id) to answer

    def next_for(self, i: int, t: float) -> tuple[str, bytes, bool] | None:
        """(what, transaction id, is the answer) of a message client `i`'s turn carries, if any."""
        if i in self.answers:
            what, tid = self.answers.pop(i)
            return what, tid, True
        for what, period in self.periods.items():
            if t >= self.due[(i, what)]:
                jitter = self.rng.uniform(0.8, 1.2) if what == "consent" else 1.0
                self.due[(i, what)] += period * jitter
                tid = self.rng.getrandbits(96).to_bytes(12, "big")
                self.answers[i] = (what, tid)
                return what, tid, False
        return None


def _wrapped(kind: str, outbound: bool, src, dst, channel: int, peer, inner: bytes, legs: _TcpLegs) -> bytes:
    """`inner` as client `src`/`dst` carries it to or from the relay with its own wrapping."""
    if kind == "channeldata":
        return udp(*src, *dst, encode_channel_data(channel, inner))
    if kind == "tcp":
        return legs.frame(src, dst, encode_channel_data(channel, inner, stream=True))
    tid = inner[8:20] if len(inner) >= 20 else bytes(12)
    return udp(
        *src, *dst, encode_stun(0x0016 if outbound else 0x0017, tid, [("XOR-PEER-ADDRESS", peer), ("DATA", inner)])
    )


_TURN_KINDS = ["channeldata"] * 32 + ["tcp"] * 5 + ["indication"] * 8 + ["rtp"] * 5
"""A client's wrapping by client number mod 50: 64% ChannelData over UDP, 10% framed on TURN/TCP,
16% Send/Data indications, 10% the relay's other side (plain RTP between relayed address and peer)."""


def rfc_turn_server_frame(
    n: int, t: float, rng: random.Random, body: bytes, legs: _TcpLegs, schedule: _Schedule
) -> tuple[bytes, str]:
    """One packet of a TURN server's capture with STUN at the RFC rates, and what it is."""
    i, turn = n % RELAY_CLIENTS, n // RELAY_CLIENTS
    kind = _TURN_KINDS[i % 50]
    client, peer, channel = _client(i), _peer(i), 0x4000 + i
    if kind == "tcp":
        client = (client[0], client[1] + 1000)
    outbound = turn % 2 == 0
    src, dst = (client, SERVER) if outbound else (SERVER, client)
    due = schedule.next_for(i, t)
    if due is None:
        rtp = _rtp(turn, i, body)
        if kind == "rtp":
            relayed = (SERVER[0], 49152 + i)
            s, d = (relayed, peer) if outbound else (peer, relayed)
            return udp(*s, *d, rtp), "rtp"
        if kind == "indication":
            return _wrapped(kind, outbound, src, dst, channel, peer, rtp, legs), "indication"
        return _wrapped(kind, outbound, src, dst, channel, peer, rtp, legs), "channeldata"
    what, tid, answer = due
    if what == "consent":
        if answer:
            msg = encode_stun(0x0101, tid, [("XOR-MAPPED-ADDRESS", client)], integrity_key=b"k" * 22, fingerprint=True)
        else:
            msg = encode_stun(0x0001, tid, CHECK, integrity_key=b"k" * 22, fingerprint=True)
        if kind == "rtp":
            relayed = (SERVER[0], 49152 + i)
            s, d = (peer, relayed) if answer else (relayed, peer)
            return udp(*s, *d, msg), "stun"
        s, d = (SERVER, client) if answer else (client, SERVER)
        return _wrapped(kind, not answer, s, d, channel, peer, msg, legs), "stun"
    method = {"channel-bind": 0x0009, "permission": 0x0008, "refresh": 0x0004}[what]
    if answer:
        attrs = [("LIFETIME", 600)] if what == "refresh" else []
        s, d, msg = SERVER, client, encode_stun(0x0100 | method, tid, attrs)
    else:
        attrs = {
            "channel-bind": [("CHANNEL-NUMBER", channel), ("XOR-PEER-ADDRESS", peer)],
            "permission": [("XOR-PEER-ADDRESS", peer)],
            "refresh": [("LIFETIME", 600)],
        }[what]
        s, d, msg = client, SERVER, encode_stun(method, tid, attrs)
    if kind == "tcp":
        return legs.frame(s, d, msg), "stun"
    return udp(*s, *d, msg), "stun"


def rfc_av_edge_frame(n: int, t: float, rng: random.Random, body: bytes, schedule: _Schedule) -> tuple[bytes, str]:
    """One packet of an A/V Edge's capture with STUN at the RFC rates, and what it is."""
    i, turn = n % RELAY_CLIENTS, n // RELAY_CLIENTS
    client, peer = _client(i), _peer(i)
    outbound = turn % 2 == 0
    cookie = ("MAGIC-COOKIE", 0x72C64BC6)
    tid16 = n.to_bytes(16, "big")
    due = schedule.next_for(i, t)
    if i % 10 == 9 and due is None:  # 10%: plain RTP on the relay's other side
        relayed = (SERVER[0], 49152 + i)
        s, d = (relayed, peer) if outbound else (peer, relayed)
        return udp(*s, *d, _rtp(turn, i, body)), "rtp"
    if due is None:
        if outbound:
            attrs = [cookie, ("DESTINATION-ADDRESS", peer), ("DATA", _rtp(turn, i, body))]
            return udp(*client, *SERVER, encode_stun(0x0004, tid16, attrs, cookie=False)), "indication"
        attrs = [cookie, ("REMOTE-ADDRESS", peer), ("DATA", _rtp(turn, i, body))]
        return udp(*SERVER, *client, encode_stun(0x0115, tid16, attrs, cookie=False)), "indication"
    what, tid, answer = due
    tid = tid + tid[:4]  # MS-TURN: 128-bit transaction ids, no cookie in the header
    if what == "refresh":  # [MS-TURN]: an Allocate with the allocation's credentials refreshes it
        attrs = [cookie, ("MS-VERSION", 3), ("LIFETIME", 600)]
        if answer:
            return udp(*SERVER, *client, encode_stun(0x0103, tid, attrs, cookie=False)), "stun"
        return udp(*client, *SERVER, encode_stun(0x0003, tid, attrs, cookie=False)), "stun"
    if answer:
        check = encode_stun(0x0101, tid, [("MAPPED-ADDRESS", client)], cookie=False)
        attrs = [cookie, ("REMOTE-ADDRESS", peer), ("DATA", check)]
        return udp(*SERVER, *client, encode_stun(0x0115, tid16, attrs, cookie=False)), "stun"
    check = encode_stun(0x0001, tid, [("USERNAME", b"abcd:efgh"), ("PRIORITY", 1845494271)], cookie=False)
    attrs = [cookie, ("DESTINATION-ADDRESS", peer), ("DATA", check)]
    return udp(*client, *SERVER, encode_stun(0x0004, tid16, attrs, cookie=False)), "stun"


def relay_capture(out: str, kind: str, limit: int, rng: random.Random, mix: str = "rfc") -> None:
    body = bytes(rng.getrandbits(8) for _ in range(160))  # a 20 ms G.711 frame
    legs = _TcpLegs()
    counts: dict[str, int] = {}
    start = t = 1_700_000_000.0
    if kind == "turn-server":
        periods = {"consent": CONSENT_INTERVAL, "channel-bind": CHANNEL_REFRESH, "refresh": ALLOCATION_REFRESH}
        periods_indication = {
            "consent": CONSENT_INTERVAL,
            "permission": PERMISSION_REFRESH,
            "refresh": ALLOCATION_REFRESH,
        }
    else:
        periods = periods_indication = {"consent": CONSENT_INTERVAL, "refresh": ALLOCATION_REFRESH}
    schedule, schedule_indication = _Schedule(rng, periods), _Schedule(rng, periods_indication)
    step = 1 / (RELAY_CLIENTS * PACKETS_PER_SECOND) if mix == "rfc" else 0.0002
    with open(out, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        written = 24
        n = 0
        while written < limit:
            n += 1
            t = start + n * step if mix == "rfc" else t + step  # heavy: the older files' times
            if mix == "heavy":
                if kind == "turn-server":
                    frame, what = turn_server_frame(n, rng, body, legs)
                else:
                    frame, what = av_edge_frame(n, rng, body)
            elif kind == "turn-server":
                i = n % RELAY_CLIENTS
                sched = schedule_indication if _TURN_KINDS[i % 50] == "indication" else schedule
                frame, what = rfc_turn_server_frame(n, t - start, rng, body, legs, sched)
            else:
                frame, what = rfc_av_edge_frame(n, t - start, rng, body, schedule)
            counts[what] = counts.get(what, 0) + 1
            sec = int(t)
            fh.write(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(frame), len(frame)))
            fh.write(frame)
            written += 16 + len(frame)
    mix_text = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    share = counts.get("stun", 0) / n
    print(f"{out}: {n} packets, {written / 1e6:.0f} MB, {t - start:.0f} s: {mix_text} ({share:.2%} STUN)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--size-mb", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kind", choices=("voip", "turn-server", "av-edge", "many-calls"), default="voip")
    parser.add_argument("--concurrent", type=int, default=2000, help="many-calls: how many calls run at once")
    parser.add_argument(
        "--stun-mix",
        choices=("rfc", "heavy"),
        default="rfc",
        help="relay captures: STUN at the RFC rates (rfc), or one packet in 50 (heavy, the older figures')",
    )
    args = parser.parse_args()
    if args.kind == "many-calls":
        with open(args.out, "wb") as fh:
            rng = random.Random(args.seed)
            counts = many_calls.write(fh, int(args.size_mb * 1e6), rng, concurrent=args.concurrent)
        packets = counts["stun"] + counts["sip"] + counts["rtp"]
        print(
            f"{args.out}: {counts['bytes'] / 1e6:.0f} MB, {counts['seconds']:.0f} s, {counts['calls begun']:.0f} calls"
            f" ({counts['calls ended']:.0f} ended), {packets:.0f} packets: {counts['stun']:.0f} STUN"
            f" ({counts['stun'] / packets:.1%}), {counts['sip']:.0f} SIP, {counts['rtp']:.0f} RTP"
        )
        return
    if args.kind != "voip":
        relay_capture(args.out, args.kind, int(args.size_mb * 1e6), random.Random(args.seed), args.stun_mix)
        return
    rng = random.Random(args.seed)
    limit = int(args.size_mb * 1e6)
    rtp_payload = bytes(rng.getrandbits(8) for _ in range(560))
    flows = [
        (f"10.0.{i // 250}.{i % 250 + 1}", 20000 + 2 * i, f"172.16.{i // 250}.{i % 250 + 1}", 30000 + 2 * i)
        for i in range(200)
    ]
    stun_count = rtp_count = other = 0
    t = 1_700_000_000.0
    seq = 1000
    with open(args.out, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        written = 24
        n = 0
        while written < limit:
            n += 1
            t += 0.0002
            r = n % 100
            if r < 97:
                src, sport, dst, dport = flows[n % len(flows)]
                rtp = struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, n * 160 & 0xFFFFFFFF, n % len(flows))
                frame = udp(src, sport, dst, dport, rtp + rtp_payload)
                rtp_count += 1
            elif r == 97:
                tid = rng.getrandbits(96).to_bytes(12, "big")
                msg = encode_stun(
                    0x0001,
                    tid,
                    [("USERNAME", b"abcd:efgh"), ("PRIORITY", 1845494271), ("ICE-CONTROLLING", 42)],
                    integrity_key=b"k" * 22,
                    fingerprint=True,
                )
                frame = udp("192.168.1.10", 50000, "203.0.113.20", 40000 + n % 50, msg)
                stun_count += 1
            elif r == 98:
                if n % 7 == 0:
                    frame = udp("192.168.1.10", 5060, "198.51.100.5", 5060, sip_invite(n))
                    other += 1
                elif n % 3 == 0:
                    inner = encode_stun(
                        0x0101,
                        rng.getrandbits(96).to_bytes(12, "big"),
                        [("XOR-MAPPED-ADDRESS", ("203.0.113.10", 50000))],
                        fingerprint=True,
                    )
                    frame = udp("198.51.100.9", 3478, "192.168.1.10", 50001, encode_channel_data(0x4000, inner))
                    stun_count += 1
                else:
                    msg = encode_stun(
                        0x0003,
                        rng.getrandbits(96).to_bytes(12, "big"),
                        [("REQUESTED-TRANSPORT", 17), ("LIFETIME", 600)],
                        fingerprint=True,
                    )
                    frame = udp("192.168.1.10", 50001, "198.51.100.9", 3478, msg)
                    stun_count += 1
            else:
                payload = bytes(600)
                frame = tcp("192.168.1.20", 443, "192.168.1.10", 50123, seq, payload)
                seq += len(payload)
                other += 1
            sec = int(t)
            fh.write(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(frame), len(frame)))
            fh.write(frame)
            written += 16 + len(frame)
    print(f"{args.out}: {n} packets, {written / 1e6:.0f} MB, {rtp_count} RTP, {stun_count} STUN/TURN, {other} other")


if __name__ == "__main__":
    main()
