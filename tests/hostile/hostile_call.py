"""A small WebRTC call signaled over HTTP (or a WebSocket), built with the project's dissectors, with
hostile strings put where a capture carries strings: the STUN USERNAME and error reason, a candidate's
address, the JSON around the SDP. Each output test runs the commands on it and checks what reaches the terminal, the
HTML, the plots and the annotated copy.
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from captures.synthetic.builder import T0, Capture, ice_check, ice_error, ice_success  # noqa: E402
from captures.synthetic.websocket_signaling import frame  # noqa: E402
from dissectors.codec import encode_stun  # noqa: E402

SERVER = ("203.0.113.80", 80)
LEFT_HTTP, RIGHT_HTTP = ("192.168.1.10", 40001), ("192.168.1.20", 40002)
LEFT, RIGHT = ("192.168.1.10", 50000), ("192.168.1.20", 50002)
LEFT_UFRAG, LEFT_PWD = "hoLf", "hostilepasswordleft01234"
RIGHT_UFRAG, RIGHT_PWD = "hoRt", "hostilepasswordright0123"
PRIORITY = 2122260223


def sdp(ufrag: str, pwd: str, setup: str, candidates: list[str]) -> str:
    lines = [
        "v=0",
        "o=- 1 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "c=IN IP4 0.0.0.0",
        f"a=ice-ufrag:{ufrag}",
        f"a=ice-pwd:{pwd}",
        f"a=fingerprint:sha-256 {('AA:' * 31 + 'AA') if setup == 'actpass' else ('BB:' * 31 + 'BB')}",
        f"a=setup:{setup}",
        "a=mid:0",
        *(f"a={c}" for c in candidates),
        "",
    ]
    return "\r\n".join(lines)


def candidate(address: tuple[str, int], foundation: str = "1", priority: int = PRIORITY) -> str:
    return f"candidate:{foundation} 1 udp {priority} {address[0]} {address[1]} typ host"


def post(body: bytes, path: str = "/signal") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body


UPGRADE = b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
SWITCHED = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"


def build(
    *,
    username: bytes | None = None,
    reason: str = "Role Conflict",
    left_host: str = LEFT[0],
    left_priority: int = PRIORITY,
    right_priority: int = PRIORITY,
    left_ufrag: str = LEFT_UFRAG,
    offer_extra: dict | None = None,
    signaling: str = "http",
) -> Capture:
    """Offer and answer posted over HTTP (`signaling="websocket"`: sent as WebSocket text frames, the
    clients' masked); a check answered with an error (carrying `reason`), then a check that succeeds
    with USE-CANDIDATE. `username` replaces the first check's USERNAME."""
    cap = Capture()
    wire_ufrag = left_ufrag.encode("utf-8", "backslashreplace").decode()  # a USERNAME is bytes: no lone surrogate
    left_candidates = [candidate((left_host, LEFT[1]), priority=left_priority)]
    offer = {"type": "offer", "sdp": sdp(left_ufrag, LEFT_PWD, "actpass", left_candidates), **(offer_extra or {})}
    right_candidates = [candidate(RIGHT, "2", right_priority)]
    answer = {"type": "answer", "sdp": sdp(RIGHT_UFRAG, RIGHT_PWD, "active", right_candidates)}
    if signaling == "websocket":
        for t, client in ((0.001, LEFT_HTTP), (0.002, RIGHT_HTTP)):
            cap.tcp(t, client, SERVER, UPGRADE)
            cap.tcp(t + 0.0005, SERVER, client, SWITCHED)
        cap.tcp(0.010, LEFT_HTTP, SERVER, frame(json.dumps(offer).encode(), mask=b"\x5a\x17\xc3\x01"))
        cap.tcp(0.011, SERVER, RIGHT_HTTP, frame(json.dumps(offer).encode()))
        cap.tcp(0.050, RIGHT_HTTP, SERVER, frame(json.dumps(answer).encode(), mask=b"\x01\x02\x03\x04"))
        cap.tcp(0.051, SERVER, LEFT_HTTP, frame(json.dumps(answer).encode()))
    else:
        cap.tcp(0.010, LEFT_HTTP, SERVER, post(json.dumps(offer).encode()))
        cap.tcp(0.050, RIGHT_HTTP, SERVER, post(json.dumps(answer).encode()))
    if username is None:
        first = ice_check("h1", wire_ufrag, RIGHT_UFRAG, RIGHT_PWD, PRIORITY, True)
    else:
        attrs: list = [("USERNAME", username), ("PRIORITY", PRIORITY), ("ICE-CONTROLLING", 1)]
        first = encode_stun(0x0001, b"h1-hostile12", attrs, integrity_key=RIGHT_PWD.encode(), fingerprint=True)
    cap.udp(0.100, LEFT, RIGHT, first)
    tid = b"h1-hostile12" if username is not None else None
    error = ice_error("h1", 487, reason, RIGHT_PWD)
    if tid is not None:
        error = encode_stun(0x0111, tid, [("ERROR-CODE", (487, reason))], integrity_key=RIGHT_PWD.encode())
    cap.udp(0.101, RIGHT, LEFT, error)
    cap.udp(0.200, LEFT, RIGHT, ice_check("h2", wire_ufrag, RIGHT_UFRAG, RIGHT_PWD, PRIORITY, True, True))
    cap.udp(0.201, RIGHT, LEFT, ice_success("h2", LEFT, RIGHT_PWD))
    return cap


def write(folder: Path, **hostile: object) -> Path:
    """capture.pcap of `build(**hostile)` in `folder`."""
    return build(**hostile).write(folder, {})  # type: ignore[arg-type]


def as_pcapng(pcap: Path, out: Path, ticks_of: dict[int, int]) -> Path:
    """The pcap's frames as one pcapng section, microsecond ticks; frame N (1-based) gets
    `ticks_of[N]` when given (far-future times no pcap can hold)."""
    data = pcap.read_bytes()
    blocks = [_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    blocks.append(_block(1, struct.pack("<HHI", 1, 0, 0)))
    pos, number = 24, 0
    while pos + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack_from("<IIII", data, pos)
        frame = data[pos + 16 : pos + 16 + incl]
        number += 1
        ticks = ticks_of.get(number, sec * 1_000_000 + usec)
        head = struct.pack("<IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, incl, orig)
        blocks.append(_block(6, head + frame + b"\0" * (-incl % 4)))
        pos += 16 + incl
    out.write_bytes(b"".join(blocks))
    return out


def _block(btype: int, body: bytes) -> bytes:
    return struct.pack("<II", btype, len(body) + 12) + body + struct.pack("<I", len(body) + 12)


__all__ = ["T0", "as_pcapng", "build", "candidate", "post", "sdp", "write"]
