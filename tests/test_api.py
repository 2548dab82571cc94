"""The library as a user meets it: a real signature and docstring, a short repr with nothing secret,
streams as a table, and bad input refused with a message that says what to check."""

from __future__ import annotations

import inspect
import io

import pandas as pd
import pytest

import icetrace
from icetrace.cli import main
from tests import testdata


def test_analyze_has_its_real_signature_and_docstring():
    parameters = inspect.signature(icetrace.analyze).parameters
    assert list(parameters)[:3] == ["captures", "sdp", "logs"] and "display_filter" in parameters
    assert "Read the captures" in (icetrace.analyze.__doc__ or "")
    assert icetrace.Analysis.pairs.__doc__ and icetrace.Analysis.streams.__doc__


def test_repr_is_a_short_summary_without_bytes_or_credentials():
    analysis = icetrace.analyze([testdata.SEED_CALL])
    text = repr(analysis)
    assert len(text) < 300 and "stream 0 audio: connected RELAY" in text and "46 messages" in text
    usernames = set(analysis.messages.username.dropna())
    assert usernames and not any(u in text for u in usernames) and "b'" not in text


def test_streams_is_a_table_with_time_to_connect_and_relay():
    analysis = icetrace.analyze([testdata.CAPTURES / "real" / "chromium-turn-tcp" / "public.pcap"])
    (row,) = analysis.streams.itertuples()
    assert isinstance(analysis.streams, pd.DataFrame)
    assert row.connectivity == "RELAY" and row.relay_protocol == "tcp" and row.relay_server.endswith(":3478")
    checks = analysis.checks
    first = checks.time.min()
    answered = checks[checks.outcome.eq("success") & checks.controlling.notna()]
    assert 0 < row.time_to_connect_ms <= (answered.time.max() - first) * 1000 + 1000
    allocations = analysis.allocations
    assert set(allocations.transport) == {"tcp"} and all(e == ["401 Unauthorized"] for e in allocations.errors)


def _analyze(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(args), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_verdict_codes_are_the_registry_s_with_their_meanings():
    from icetrace.ice.diagnosis import verdict_table

    codes = icetrace.verdict_codes()
    assert list(codes.columns) == ["code", "severity", "connected_severity", "meaning", "reference"]
    table = verdict_table().splitlines()[2:]  # the docs' table, written from the same registry
    severities = [
        r.severity
        + (f" ({r.connected_severity} on a connected stream)" if isinstance(r.connected_severity, str) else "")
        for r in codes.itertuples()
    ]
    lines = [f"| {r.code} | {s} | {r.meaning} | {r.reference} |" for r, s in zip(codes.itertuples(), severities)]
    assert lines == table and codes.connected_severity.notna().any()
    seen = icetrace.analyze([testdata.SEED_CALL]).verdicts.merge(codes, on="code", how="left")
    assert len(seen) and seen.meaning.notna().all()  # every verdict given is one the registry explains


def test_junk_sdp_file_is_refused(tmp_path):
    junk = tmp_path / "offer.sdp"
    junk.write_text("hello\n")
    status, out, err = _analyze("analyze", str(testdata.SEED_CALL), "--sdp", str(junk))
    assert status == 2 and out == "" and f"{junk}: not an SDP body" in err


def test_a_capture_without_stun_says_what_to_check():
    (capture,) = sorted(testdata.NETMON_FORMAT_ONLY.rglob("*.cap"))[:1]
    status, out, _ = _analyze("analyze", str(capture))
    assert status == 0 and "no STUN or TURN message in the capture (seen:" in out
    assert "capture filter" in out and "tunnel" in out


def test_the_report_ends_with_a_whole_sentence():
    status, out, _ = _analyze("analyze", str(testdata.SEED_CALL))
    assert status == 0 and out.rstrip().endswith("(ctl or ctd).")


@pytest.mark.parametrize("command", ["check", "corpus"])
def test_a_capture_file_is_a_corpus_of_one(command, tmp_path):
    args = [command, str(testdata.SEED_CALL), "--jobs", "1"]
    if command == "corpus":
        pytest.importorskip("pyarrow")
        args += ["--out", str(tmp_path / "c.parquet")]
    status, out, err = _analyze(*args)
    assert status in (0, 1) and "no such directory" not in err and ("1 streams" in out or "ok" in out)
    status, _, err = _analyze(command, str(tmp_path / "missing"), *args[2:])
    assert status == 2 and "no such file or directory" in err
