"""TransportPacket is built by keyword only; the per-frame loops' `new_packet` builds the same object."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from icetrace.records.endpoint import Endpoint
from icetrace.records.transport_packet import TransportPacket, new_packet


def test_new_packet_takes_exactly_the_fields_by_keyword():
    parameters = inspect.signature(new_packet).parameters
    assert list(parameters) == [f.name for f in dataclasses.fields(TransportPacket)]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())


def test_new_packet_is_the_class_call():
    fields = dict(
        frame=7,
        time=1.5,
        src=Endpoint("10.0.0.1", 5000),
        dst=Endpoint("10.0.0.2", 3478),
        transport="tcp",
        payload=b"\x00\x01",
    )
    assert new_packet(**fields, gap_before=3) == TransportPacket(**fields, gap_before=3)
    assert new_packet(**fields) == TransportPacket(**fields)
    with pytest.raises(TypeError):
        TransportPacket(7, 1.5, fields["src"], fields["dst"], "tcp", b"")  # type: ignore[misc]
