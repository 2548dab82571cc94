"""FINGERPRINT of a TURN Send/Data indication whose DATA carries a check (real Chromium traffic).

Chromium sends its relayed checks in Send indications without a FINGERPRINT of their own; the
DATA attribute, the last one, ends with the check's FINGERPRINT. Those last 8 bytes belong to the
inner message, so the indication's own FINGERPRINT is absent, not bad.
"""

from __future__ import annotations

from dissectors.checks import verify_fingerprint
from dissectors.codec import decode_stun
from icetrace.capture.packet_source import PacketSource
from tests.corpus.truth import CAPTURES

SEND, DATA = 0x0016, 0x0017


def _indications():
    for folder in ("chromium-direct", "chromium-relay", "chromium-late-direct"):
        for packet in PacketSource([CAPTURES / "real" / folder / "left-lan.pcap"]):
            payload = packet.payload
            if len(payload) >= 20 and int.from_bytes(payload[:2], "big") in (SEND, DATA):
                yield payload


def test_a_check_inside_data_does_not_lend_its_fingerprint_to_the_indication():
    without_own = 0
    for payload in _indications():
        message = decode_stun(payload)
        if message.nested is None or message.nested.method_name != "binding":
            continue
        assert message.nested.fingerprint == "ok"
        assert not [a for a in message.anomalies if "FINGERPRINT" in a]
        if 0x8028 in {attribute[0] for attribute in message.attributes}:
            assert message.fingerprint == "ok"  # coturn signs its Data indications
            continue
        without_own += 1
        assert payload[-8:-6] == b"\x80\x28"  # the check's FINGERPRINT ends the indication
        assert verify_fingerprint(payload) == "absent"
        assert message.fingerprint == "absent"
    assert without_own >= 5
