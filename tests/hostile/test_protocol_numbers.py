"""Protocol numbers with Unicode digits or thousands of digits are refused, never raised on."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from icetrace.cli import main
from icetrace.protocol_number import ascii_number
from icetrace.signaling.candidate import CandidateSyntaxError, parse_candidate_line, parse_remote_candidates
from icetrace.signaling.mras import parse_mras_response
from icetrace.signaling.sdp import parse_sdp
from icetrace.signaling.sip import SipStreamSplitter, parse_sip
from icetrace.signaling.sources import sip_from_text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from captures.synthetic.builder import Capture  # noqa: E402

HUGE = "9" * 5000  # beyond Python's int-string limit (4300 digits)
BAD = ["\u00b2", "1\u00b9", "\u0663", HUGE, "-1", "+5", "1_0", " 1"]


def test_ascii_number_takes_ascii_digits_only():
    assert ascii_number("0") == 0
    assert ascii_number("65535", 5) == 65535
    assert ascii_number("123456", 5) is None
    for text in [*BAD, ""]:
        assert ascii_number(text) is None, text


@pytest.mark.parametrize("bad", BAD)
def test_candidate_numbers(bad):
    good = "1 1 UDP 2130706431 10.0.0.1 5000 typ host".split()
    for position in (1, 3, 5):
        tokens = list(good)
        tokens[position] = bad if not bad.startswith(" ") else bad.strip() + "\u00b2"
        with pytest.raises(CandidateSyntaxError):
            parse_candidate_line(" ".join(tokens))
    with pytest.raises(CandidateSyntaxError):
        parse_candidate_line(f"user {bad.strip() or 'x'}\u00b2 pwd UDP 0.5 10.0.0.1 5000")
    with pytest.raises(CandidateSyntaxError):
        parse_remote_candidates(f"{bad.strip()}\u00b2 10.0.0.1 5000")
    with pytest.raises(CandidateSyntaxError):
        parse_remote_candidates(f"1 10.0.0.1 {bad.strip()}\u00b2")


@pytest.mark.parametrize("bad", ["\u00b2", HUGE, "5\u00b9"])
def test_sdp_ports(bad):
    desc = parse_sdp(f"v=0\r\nm=audio {bad} RTP/AVP 0\r\na=rtcp:{bad} IN IP4 10.0.0.1\r\n")
    assert desc.media[0].port == 0 and desc.media[0].rtcp is None
    assert any("bad m= line" in p for p in desc.problems)
    assert any("bad a=rtcp" in p for p in desc.problems)
    assert all(len(p) < 200 for p in desc.problems)
    assert parse_sdp("v=0\r\nm=audio 5004 RTP/AVP 0\r\na=rtcp:5005\r\n").media[0].rtcp.port == 5005


@pytest.mark.parametrize("bad", ["\u00b2", HUGE])
def test_sip_content_length_and_cseq(bad):
    head = f"INVITE sip:a@b SIP/2.0\r\nCSeq: {bad} INVITE\r\nContent-Length: {bad}\r\n\r\nbody"
    message = parse_sip(head.encode())
    assert message.cseq == (0, "")
    assert message.body == b"body"
    parsed = list(sip_from_text(head, "log"))
    assert parsed[0][1] is not None and parsed[0][1].cseq == (0, "")


def test_sip_status_code_must_be_ascii():
    from icetrace.signaling.sip import SipSyntaxError

    with pytest.raises(SipSyntaxError):
        parse_sip("SIP/2.0 \u0662\u0660\u0660 OK\r\n\r\n".encode())


def test_sip_stream_with_latin1_superscript_length():
    # over TCP the head is read as Latin-1, where the byte 0xB2 is '²'
    splitter = SipStreamSplitter()
    out = splitter.feed(
        b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: \xb2\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n\r\n"
    )
    assert len(out) == 2


def test_mras_numbers():
    problems: list[str] = []
    body = (
        "<credentialsResponse><credentials><username>u</username><password>p</password>"
        f"<duration>\u00b2</duration></credentials><mediaRelayList><mediaRelay><location>internet</location>"
        f"<hostName>relay</hostName><udpPort>\u00b2</udpPort><tcpPort>{HUGE}</tcpPort></mediaRelay>"
        "<mediaRelay><hostName>r2</hostName><udpPort>3478</udpPort></mediaRelay>"
        "</mediaRelayList></credentialsResponse>"
    ).encode()
    creds = parse_mras_response(body, None, problems)
    assert creds is not None
    assert creds.duration_minutes is None
    assert [r[2] for r in creds.relays] == [3478]


def test_capture_with_superscript_numbers_is_analysed(tmp_path):
    """SIP over UDP (UTF-8 '²') and over TCP (byte 0xB2) in one capture: analysed, exit 0."""
    sdp = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio \u00b2 RTP/AVP 0\r\n"
    sdp += "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n"
    sdp += "a=candidate:1 \u00b9 UDP \u00b2 10.0.0.1 5000 typ host\r\na=rtcp:\u00b2\r\n"
    sdp += "a=remote-candidates:\u00b9 10.0.0.2 \u00b2\r\n"
    body = sdp.encode()
    invite = (
        "INVITE sip:b@example.org SIP/2.0\r\nCall-ID: c1\r\nFrom: <sip:a@example.org>;tag=1\r\n"
        "To: <sip:b@example.org>\r\nCSeq: \u00b9 INVITE\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    tcp_msg = b"INVITE sip:b@example.org SIP/2.0\r\nCall-ID: c2\r\nCSeq: \xb2 INVITE\r\nContent-Length: \xb2\r\n\r\n"
    cap = Capture()
    cap.udp(0.0, ("10.0.0.1", 5060), ("10.0.0.2", 5060), invite)
    cap.tcp(0.1, ("10.0.0.1", 5061), ("10.0.0.2", 5060), tcp_msg)
    path = cap.write(tmp_path, {})
    out, err = io.StringIO(), io.StringIO()
    assert main(["analyze", str(path)], stdout=out, stderr=err) == 0, err.getvalue()
    sdp_file = tmp_path / "offer.sdp"
    sdp_file.write_text(sdp, encoding="utf-8")
    assert main(["candidates", str(sdp_file)], stdout=io.StringIO(), stderr=err) in (0, 2), err.getvalue()
    assert "Traceback" not in err.getvalue()


# -- HTTP signaling: Content-Length, status codes and chunk sizes ------------------------------


@pytest.mark.parametrize(
    "head, problem",
    [
        (b"POST / HTTP/1.1\r\nContent-Length: \xb2\r\n\r\n", "Content-Length '\xb2' is not a number"),
        (b"POST / HTTP/1.1\r\nContent-Length: " + HUGE.encode() + b"\r\n\r\n", "Content-Length '9999"),
        (b"HTTP/1.1 \xb9\xb2\xb3 OK\r\n\r\n", "has no 3-digit status code"),
        (b"HTTP/1.1 " + HUGE.encode() + b" OK\r\n\r\n", "has no 3-digit status code"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\xb2\r\n", "chunk size b'\\xb2' is not hexadecimal"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 5000 + b"\r\n", "is not hexadecimal"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+1_0\r\n", "is not hexadecimal"),
    ],
)
def test_http_numbers_that_are_not_ascii_numbers_end_that_direction(head, problem):
    """The message boundaries after a bad length are unknown (RFC 9112 §6.3): one problem, and the
    other direction and other connections are still read."""
    from icetrace.signaling.http_stream import HttpReader

    reader = HttpReader()
    _, problems = reader.feed(head + b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nok", 1, 0.0)
    assert len(problems) == 1 and problem in problems[0] and "connection no longer read" in problems[0]
    assert len(problems[0]) < 200
    assert reader.feed(b"more", 2, 0.0) == ([], [])


def test_http_superscripts_in_a_capture_are_analysed(tmp_path):
    from tests.hostile import hostile_call

    cap = hostile_call.build()
    cap.tcp(0.001, ("192.168.1.30", 40003), hostile_call.SERVER, b"POST /x HTTP/1.1\r\nContent-Length: \xb2\r\n\r\n")
    cap.tcp(0.002, hostile_call.SERVER, ("192.168.1.30", 40003), b"HTTP/1.1 \xb9\xb2\xb3 OK\r\n\r\n")
    path = cap.write(tmp_path, {})
    out, err = io.StringIO(), io.StringIO()
    assert main(["analyze", str(path)], stdout=out, stderr=err) == 0, err.getvalue()
    assert "CONNECTED" in out.getvalue()  # the call posted on another connection is read whole
    assert "is not a number: connection no longer read" in out.getvalue()


def test_a_candidate_priority_above_2_to_the_31_is_refused_and_the_rest_tabulated(tmp_path):
    """RFC 8445 §5.1.2 bounds a priority by 2^31 - 1, which keeps a pair's priority inside 63 bits."""
    import icetrace
    from tests.hostile import hostile_call

    path = hostile_call.write(tmp_path / "call", left_priority=0xFFFFFFFF, right_priority=0xFFFFFFFF)
    analysis = icetrace.analyze([path])
    assert any("priority '4294967295' is not a number 1-2147483647" in p for p in analysis.problems)
    pairs = analysis.pairs
    assert len(pairs) == 1 and (pairs["priority"].isna() | (pairs["priority"] < 1 << 63)).all()
    hostile_call.write(tmp_path / "good")
    pytest.importorskip("pyarrow")
    out, err = io.StringIO(), io.StringIO()
    status = main(["corpus", str(tmp_path), "--jobs", "1", "--out", str(tmp_path / "c.parquet")], out, err)
    assert status == 0, err.getvalue()
    assert f"{tmp_path / 'c.parquet'}: 2 streams, 2 pairs" in out.getvalue()
    from icetrace.corpus.tables import read_table

    assert len(read_table(tmp_path / "c.parquet", "pairs")) == 2
