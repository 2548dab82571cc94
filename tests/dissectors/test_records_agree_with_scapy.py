"""Records built on the fast path and Scapy layers agree on every message of every capture."""

from __future__ import annotations

import pytest

from dissectors.stun import STUN
from icetrace.reading import capture_records
from tests.dissectors.tshark_view import public_captures


@pytest.mark.parametrize("path", public_captures(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_message(path):
    records = [r for r in capture_records(path) if r.kind == "stun" and r.raw]
    for record in records:
        pkt = STUN(record.raw)
        where = f"{path.name} frame {record.frame}"
        assert bytes(pkt) == record.raw, where
        assert pkt.type == record.type, where
        # bytes the codec could not walk are kept by Scapy as a trailing raw chunk, never lost
        walked = [a for a in pkt.attributes if not getattr(a, "raw_leftover", False)]
        assert [a.attribute_name for a in walked] == list(record.attributes), where
        if len(walked) < len(pkt.attributes):
            assert record.anomalies, where
        assert pkt.decoded.transaction_id.hex() == record.transaction_id, where
        for attr in walked:
            value = attr.decoded
            if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
                assert str(record.addresses[attr.attribute_name]).endswith(f":{value[1]}"), where
