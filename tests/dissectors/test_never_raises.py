"""Random and mutated bytes: the codec, the checks and the Scapy layers never raise."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissectors.checks import verify_fingerprint, verify_integrity
from dissectors.classify import classify_payload
from dissectors.codec import decode_channel_data, decode_stun
from dissectors.framing import split_msturn_tcp, split_rfc4571, split_stun_stream
from dissectors.stun import dissect_payload
from tests import testdata

# Without the vector corpus this list is empty and Hypothesis fails the tests drawing from it
# ("Cannot sample from a length-zero sequence"); test_vectors.py names the missing folder.
SEEDS = [p.read_bytes() for p in testdata.files(testdata.VECTORS, suffixes=(".bin", ".stun"))]


def exercise(data: bytes) -> None:
    msg = decode_stun(data)
    assert isinstance(msg.anomalies, tuple)
    verify_fingerprint(data)
    verify_integrity(data, b"key")
    classify_payload(data)
    decode_channel_data(data)
    decode_channel_data(data, stream=True)
    split_stun_stream(data)
    split_rfc4571(data)
    split_msturn_tcp(data)
    pkt = dissect_payload(data)
    pkt.summary()
    bytes(pkt)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_random_bytes(data):
    exercise(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SEEDS),
    st.lists(st.tuples(st.integers(0, 300), st.integers(0, 255)), max_size=6),
    st.integers(0, 400),
)
def test_mutated_vectors(seed, flips, cut):
    data = bytearray(seed)
    for pos, value in flips:
        if data:
            data[pos % len(data)] = value
    exercise(bytes(data[: cut if cut < len(data) else len(data)]))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SEEDS), st.integers(0, 0xFFFF))
def test_lengths_that_overrun(seed, length):
    data = bytearray(seed)
    if len(data) >= 4:
        data[2:4] = length.to_bytes(2, "big")
    if len(data) >= 24:
        data[22:24] = (length ^ 0xFFFF).to_bytes(2, "big")
    exercise(bytes(data))
