"""The client's own diagnostics (ms-client-diagnostics, *MediaDebug with ICEWarn) beside the packets,
and D26 when they disagree."""

from __future__ import annotations

from pathlib import Path

import icetrace
from icetrace.signaling.client_report import DiagnosticHeader, client_report
from tests import testdata

SEED = testdata.SEED_CALL
FAILED = testdata.CAPTURES / "lync" / "failed-call" / "capture.pcap"
SEED_CALL_ID = "a4c2e79c1f6d4b8f9d1e2c3b4a596877"

CONNECTIVITY_VALUE = (
    '23;reason="Call failed to establish due to a media connectivity failure when one '
    'endpoint is internal and the other is remote";CallerMediaDebug="audio:ICEWarn=0x80012b,'
    "LocalSite=192.168.1.100:50036,LocalMR=198.51.100.20:57309,RemoteSite=10.0.0.20:6000,"
    'RemoteMR=198.51.100.20:53000,PortRange=1025:65000 video:ICEWarn=0x0,LocalSite=192.168.1.100:50040"'
)
CONNECTIVITY = f"ms-client-diagnostics: {CONNECTIVITY_VALUE}"


def bye_log(tmp_path: Path, call_id: str, diagnostics: str) -> Path:
    """A client log holding the BYE (as when SIP ran over TLS and only the client log has it)."""
    text = (
        "BYE sip:bob@contoso.com SIP/2.0\r\n"
        "Via: SIP/2.0/TLS 192.168.1.100:50000;branch=z9hG4bKdiag\r\n"
        "From: <sip:alice@contoso.com>;tag=a1\r\nTo: <sip:bob@contoso.com>;tag=b1\r\n"
        f"Call-ID: {call_id}\r\nCSeq: 3 BYE\r\n{diagnostics}\r\nContent-Length: 0\r\n\r\n"
    )
    path = tmp_path / "client.log"
    path.write_text(text)
    return path


def verdicts(analysis, code):
    return [v for v in analysis.verdict_list if v.code == code]


def test_parse_media_debug_sections():
    report = client_report(DiagnosticHeader(message="BYE", header="ms-client-diagnostics", value=CONNECTIVITY_VALUE))
    assert report is not None
    assert (report.code, report.header) == (23, "ms-client-diagnostics")
    assert report.says_connectivity_failed
    assert [(m.side, m.media, m.ice_warn) for m in report.media] == [
        ("caller", "audio", "0x80012b"),
        ("caller", "video", "0x0"),
    ]
    assert report.media[0].fields["LocalMR"] == "198.51.100.20:57309"
    assert "ICEWarn=0x80012b, LocalSite=192.168.1.100:50036, LocalMR=198.51.100.20:57309" in report.text()
    user = client_report(
        DiagnosticHeader(message="BYE", header="ms-client-diagnostics", value='51004;reason="Action initiated by user"')
    )
    assert user is not None and not user.says_connectivity_failed and user.media == []
    assert (
        client_report(DiagnosticHeader(message="BYE", header="reason", value="Q.850;cause=16")) is None
    )  # not a Microsoft header
    garbage = client_report(DiagnosticHeader(message="BYE", header="ms-diagnostics", value="garbage"))
    assert garbage is not None and (garbage.code, garbage.reason, garbage.media) == (None, None, [])


def test_the_report_shows_what_the_client_said():
    analysis = icetrace.analyze([FAILED])
    (said,) = verdicts(analysis, "CLIENT-REPORT")
    assert said.severity == "info" and '51004 "Action initiated by user"' in said.message
    assert not verdicts(analysis, "D26")  # the user hung up on a failed call: no contradiction


def test_d26_client_claims_a_connectivity_failure_while_media_flowed(tmp_path):
    analysis = icetrace.analyze([SEED], logs=[bye_log(tmp_path, SEED_CALL_ID, CONNECTIVITY)])
    (d26,) = verdicts(analysis, "D26")
    assert d26.severity == "warning" and "media connectivity failure" in d26.message
    assert "flowing after ICE connected" in d26.message and d26.frames
    assert any("ICEWarn=0x80012b" in v.message for v in verdicts(analysis, "CLIENT-REPORT"))
    plain = icetrace.analyze([SEED])  # the same call without the client's claim
    assert not verdicts(plain, "D26") and not verdicts(plain, "CLIENT-REPORT")


def test_d26_client_claims_no_ice_warnings_while_every_pair_failed(tmp_path):
    failed_call_id = next(v.call_id for v in icetrace.analyze([FAILED]).verdict_list if v.code == "FAILED")
    quiet = 'ms-client-diagnostics: 51004;reason="Action initiated by user";CalleeMediaDebug="audio:ICEWarn=0x0"'
    analysis = icetrace.analyze([FAILED], logs=[bye_log(tmp_path, failed_call_id, quiet)])
    (d26,) = verdicts(analysis, "D26")
    assert "no ICE warnings" in d26.message and "every pair" in d26.message
    warned = 'ms-client-diagnostics: 51004;reason="Action initiated by user";CalleeMediaDebug="audio:ICEWarn=0x2"'
    analysis = icetrace.analyze([FAILED], logs=[bye_log(tmp_path, failed_call_id, warned)])
    assert not verdicts(analysis, "D26")
