"""Hand-built calls for correlator and cause tests: checks (answered or retransmitted and never
answered), TURN allocations and media flows between a left agent behind NAT 203.0.113.1 and a right
one behind 203.0.113.2, with a TURN server at 203.0.113.254."""

from __future__ import annotations

import icetrace
from icetrace.records.endpoint import Endpoint
from icetrace.records.media_flow import MediaFlow
from tests.ice.records import msg

__all__ = ["allocation", "check", "flow", "msg", "one_stream", "server_request", "unanswered"]

L_HOST, L_TURN_SOCKET = Endpoint("192.168.1.10", 5000), Endpoint("192.168.1.10", 5010)
L_SRFLX = Endpoint("203.0.113.1", 5000)
R_HOST, R_SRFLX = Endpoint("192.168.2.20", 6000), Endpoint("203.0.113.2", 6000)
TURN = Endpoint("203.0.113.254", 3478)
L_RELAY, R_RELAY = Endpoint("203.0.113.254", 49000), Endpoint("203.0.113.254", 49160)


def check(t, src, dst, tid, answered=True, controlling=True, mapped=None, ufrags=("lU", "rU"), **kw):
    """A check and (unless `answered` is false) its success, reporting `mapped` (else the source);
    `ufrags` are the left and right agents'."""
    left, right = ufrags
    username = f"{right}:{left}".encode() if controlling else f"{left}:{right}".encode()
    role = "controlling" if controlling else "controlled"
    req = msg(t, src, dst, "binding", "request", tid, username=username, ice_role=role, priority=1, **kw)
    out = [req]
    if answered:
        seen = {"XOR-MAPPED-ADDRESS": mapped or src}
        out.append(msg(t + 0.02, dst, src, "binding", "success", tid, addresses=seen))
    return out


def server_request(
    t, client, method, tid, answer="success", sends=1, transport="udp", server=TURN, mapped=None, peer=None
):
    """A request to the STUN/TURN server, sent `sends` times (1 s apart), answered with `answer`
    (a class, or an error code) or not at all (None); a success reports `mapped` as the mapping;
    `peer` is a permission's or channel's XOR-PEER-ADDRESS."""
    asked = {"XOR-PEER-ADDRESS": peer} if peer else {}
    out = [
        msg(t + n, client, server, method, "request", tid, transport=transport, addresses=asked) for n in range(sends)
    ]
    if answer == "success":
        seen = {"XOR-MAPPED-ADDRESS": mapped} if mapped else {}
        out.append(msg(t + sends - 0.99, server, client, method, "success", tid, transport=transport, addresses=seen))
    elif answer is not None:
        error = {"error_code": answer, "error_reason": "refused"}
        out.append(msg(t + sends - 0.99, server, client, method, "error", tid, transport=transport, **error))
    return out


def unanswered(t, src, dst, tid, **kw):
    """A check sent seven times on the RFC 8489 schedule and never answered."""
    offsets = (0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5)
    base = check(t, src, dst, tid, answered=False, **kw)[0]
    return [msg(t + o, src, dst, "binding", "request", tid, **_fields(base)) for o in offsets]


def _fields(r):
    return {"username": r.username, "ice_role": r.ice_role, "priority": r.priority, "use_candidate": r.use_candidate}


def allocation(t, client, relayed, transport="udp"):
    """An Allocate from `client` (over `transport`) answered with the relayed address."""
    found = {"XOR-RELAYED-ADDRESS": relayed}
    return [
        msg(t, client, TURN, "allocate", "request", "alloc", transport=transport, requested_transport=17),
        msg(t + 0.01, TURN, client, "allocate", "success", "alloc", transport=transport, addresses=found),
    ]


def flow(src, dst, first, last, frame):
    return MediaFlow(
        src=src,
        dst=dst,
        transport="udp",
        kind="data",
        first_frame=frame,
        first_time=first,
        last_frame=frame + 10,
        last_time=last,
        packets=10,
        bytes=1000,
    )


def one_stream(records, media=()):
    """The one ICE stream icetrace rebuilds from hand-built records (and media flows)."""
    (stream,) = icetrace.analyze([], records=records, media=list(media)).reconstruction.streams
    return stream
