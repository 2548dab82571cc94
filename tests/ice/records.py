"""Hand-built STUN records for correlator and verdict tests: every field a test leaves out is the
plain RFC 5389 UDP default, and frame numbers count up across the tests that share them."""

from __future__ import annotations

import itertools

from icetrace.records.stun_record import StunRecord

_frame = itertools.count(1)


def msg(t, src, dst, method, cls, tid, transport="udp", **kw):
    return StunRecord(
        frame=next(_frame),
        time=t,
        src=src,
        dst=dst,
        transport=transport,
        kind="stun",
        dialect="rfc5389",
        method=method,
        cls=cls,
        type=0,
        transaction_id=tid,
        **kw,
    )


def next_frame() -> int:
    """A frame number no other hand-built record in this test run has."""
    return next(_frame)
