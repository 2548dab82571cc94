"""Strings a capture carries reach a terminal, a page, a plot, XML and a pcapng comment as text:
shown escaped, drawn as themselves, cut to fit; never acted on, never a crash."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from icetrace.cli import main
from icetrace.corpus.junit import Case, junit_xml
from icetrace.output import drawn_text, shown, utc_text
from tests.hostile import hostile_call

OSC_TITLE = "\x1b]0;pwned\x07"
OSC_LINK = "\x1b]8;;http://evil.example/\x07"


def _cli(*argv: str, tty: bool = False) -> tuple[int, str, str]:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return tty

    out, err = Terminal(), Terminal()
    status = main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def _process(*argv: str) -> subprocess.CompletedProcess[bytes]:
    """The command as a user runs it: stdout and stderr encoded as UTF-8 by Python itself."""
    return subprocess.run([sys.executable, "-m", "icetrace", *argv], capture_output=True, timeout=120, check=False)


def test_shown_escapes_what_terminals_encoders_and_xml_act_on():
    assert shown("a\tb\nc") == "a\tb\nc"
    assert shown(OSC_TITLE + "\x9b2J\x7f") == "\\x1b]0;pwned\\x07\\x9b2J\\x7f"
    assert shown("x\ud800y\u202ez\ufffe") == "x\\ud800y\\u202ez\\ufffe"
    assert shown("caf\u00e9 \u2192 \U0001f600") == "caf\u00e9 \u2192 \U0001f600"  # printable text is kept
    assert drawn_text("$^{$:x") == "\\$^{\\$:x"


@pytest.fixture(scope="module")
def hostile_capture(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    return hostile_call.write(
        folder / "call",
        reason=OSC_TITLE + "\x1b[2J",
        left_host="evil" + OSC_LINK + ".local",
    )


@pytest.mark.parametrize("command", ["analyze", "candidates"])
def test_escape_sequences_from_a_capture_are_shown_escaped(hostile_capture, command):
    status, out, err = _cli(command, str(hostile_capture))
    assert status == 0, err
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert "\\x1b]8;;http://evil.example/\\x07" in out  # the candidate's FQDN, as written
    if command == "analyze":
        assert "\\x1b]0;pwned\\x07\\x1b[2J" in out  # the STUN error reason


def test_on_a_colour_terminal_only_the_reports_own_colours_pass(hostile_capture, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    status, out, _ = _cli("analyze", str(hostile_capture), tty=True)
    assert status == 0
    assert "\x1b[32mCONNECTED\x1b[0m" in out  # painted by icetrace
    assert "\x1b]" not in out and "\x1b[2J" not in out and "\\x1b[2J" in out


def test_warnings_and_check_diffs_show_escapes(tmp_path):
    corpus = tmp_path / "corpus"
    named = corpus / f"call{OSC_TITLE}" / "capture.pcap"
    named.parent.mkdir(parents=True)
    hostile = hostile_call.write(tmp_path / "call", left_ufrag="ho\x1b]0;t\x07")
    named.write_bytes(hostile.read_bytes() + b"\x00" * 7)  # a record header cut short: a warning
    status, out, err = _cli("analyze", str(named))
    assert status == 0 and "record header cut short" in out
    assert "\x1b" not in out + err and "call\\x1b]0;pwned\\x07" in out
    assert _cli("check", "--update", "--jobs", "1", str(corpus))[0] == 0
    golden = named.with_name("capture.pcap.expected.json")
    doc = json.loads(golden.read_text())
    (call,) = doc["calls"]
    doc["calls"]["webrtc:other"] = doc["calls"].pop(call)  # the call now reads as new: its id is in the diff
    golden.write_text(json.dumps(doc))
    status, out, err = _cli("check", "--jobs", "1", str(corpus))
    assert status == 1 and "\x1b" not in out + err
    assert "ho\\x1b]0;t\\x07" in out and "call\\x1b]0;pwned\\x07" in out
    junit = tmp_path / "junit.xml"
    status, _, _ = _cli("check", "--jobs", "1", "--junit", str(junit), str(corpus))
    ET.parse(junit)  # well-formed
    assert "\\x1b]0;pwned\\x07" in junit.read_text()


def test_junit_with_control_characters_is_well_formed():
    cases = [
        Case("corpus/a\x01b\x0b.pcap", "error", "call-id \x01\x0b\ud800 unreadable\nsecond line", 0.5),
        Case("corpus/c.pcap", "changed", "call c\x0c: selected: was A -> now B", 0.25),
        Case("corpus/d\x1b.pcap", "new", "no golden file \x00", 0.0),
    ]
    root = ET.fromstring(junit_xml(cases))
    names = [c.get("name") for c in root.iter("testcase")]
    assert names == ["a\\x01b\\x0b.pcap", "c.pcap", "d\\x1b.pcap"]
    error = next(root.iter("error"))
    assert error.get("message") == "call-id \\x01\\x0b\\ud800 unreadable" and error.text.endswith("second line")
    assert next(root.iter("failure")).get("message") == "call c\\x0c: selected: was A -> now B"


@pytest.fixture(scope="module", params=["http", "websocket"])
def surrogate_corpus(tmp_path_factory, request) -> Path:
    """JSON's \\ud800 in the ufrag and in a candidate's address, posted over HTTP or sent in a
    WebSocket text frame (valid UTF-8: the escape is ASCII): no UTF-8 text can hold what it decodes to."""
    folder = tmp_path_factory.mktemp(f"surrogate-{request.param}")
    hostile_call.write(folder / "call", left_ufrag="ho\ud800", left_host="\udc00.local", signaling=request.param)
    hostile_call.write(folder / "plain", signaling=request.param)
    return folder


@pytest.mark.parametrize("command", ["analyze", "candidates", "analyze --json -", "messages"])
def test_a_lone_surrogate_is_shown_escaped(surrogate_corpus, command):
    result = _process(*command.split(), str(surrogate_corpus / "call" / "capture.pcap"))
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode("utf-8")  # whole and valid
    if command != "messages":
        assert "\\ud800" in text and "udc00.local" in text  # the candidate as signaled, escaped


def test_a_lone_surrogate_in_the_html_page_and_the_corpus_tables(surrogate_corpus, tmp_path):
    pytest.importorskip("pyarrow")
    from icetrace.corpus.tables import read_table

    page = tmp_path / "report.html"
    result = _process("analyze", str(surrogate_corpus / "call" / "capture.pcap"), "--html", str(page))
    assert result.returncode == 0, result.stderr.decode()
    assert "ho\\ud800" in page.read_text(encoding="utf-8")
    result = _process("corpus", str(surrogate_corpus), "--jobs", "1", "--out", str(tmp_path / "c.parquet"))
    assert result.returncode == 0, result.stderr.decode()
    streams = read_table(tmp_path / "c.parquet", "streams")
    assert set(streams["call_id"].dropna()) == {"webrtc:ho\\ud800", "webrtc:hoLf"}  # the good capture too


def test_a_file_name_that_is_no_utf8_in_junit_and_the_corpus_tables(tmp_path):
    """A capture's file name is bytes: one no UTF-8 decodes (Python holds them as lone surrogates)
    and with a control character is named escaped in JUnit XML and in the Parquet dataset."""
    pytest.importorskip("pyarrow")
    import os

    from icetrace.corpus.tables import read_table

    folder = tmp_path / "corpus"
    capture = hostile_call.write(folder / "call")
    odd = capture.with_name(os.fsdecode(b"\xff\xfe\x1b[2J.pcap"))
    capture.rename(odd)
    status, out, err = _cli("check", str(folder), "--jobs", "1", "--junit", str(tmp_path / "j.xml"))
    assert status == 0 and "\\udcff\\udcfe\\x1b[2J.pcap" in out, err
    (case,) = ET.parse(tmp_path / "j.xml").getroot().iter("testcase")
    assert case.get("name") == "\\udcff\\udcfe\\x1b[2J.pcap"
    status, _, err = _cli("corpus", str(folder), "--jobs", "1", "--out", str(tmp_path / "c.parquet"))
    assert status == 0, err
    captures = set(read_table(tmp_path / "c.parquet", "streams")["capture"])
    assert captures == {str(odd.parent / "\\udcff\\udcfe\x1b[2J.pcap")}


def test_a_dollar_in_a_username_is_drawn_as_itself(tmp_path):
    """Without signaling an agent is named by its ufrag, which heads a ladder column: `$^{$` would open
    matplotlib's mathtext and fail half-way through the file."""
    from captures.synthetic.builder import Capture
    from dissectors.codec import encode_stun

    cap = Capture()
    attrs = [("USERNAME", b"$^{$:x_$\\"), ("PRIORITY", 1), ("ICE-CONTROLLING", 1)]
    cap.udp(0.1, hostile_call.LEFT, hostile_call.RIGHT, encode_stun(0x0001, b"m1-hostile12", attrs))
    answer = [("XOR-MAPPED-ADDRESS", hostile_call.LEFT)]
    cap.udp(0.2, hostile_call.RIGHT, hostile_call.LEFT, encode_stun(0x0101, b"m1-hostile12", answer))
    capture = cap.write(tmp_path / "call", {})
    for kind in ("ladder", "timeline"):
        out = tmp_path / f"{kind}.svg"
        status, _, err = _cli("plot", str(capture), "--kind", kind, "--out", str(out))
        assert status == 0, err
        ET.parse(out)  # the whole file written
    status, _, err = _cli("analyze", str(capture), "--html", str(tmp_path / "r.html"))
    assert status == 0, err
    import matplotlib

    matplotlib.use("Agg")
    from icetrace import analyze

    figure = analyze([capture]).plot_ladder()
    figure.canvas.draw()  # the figure a user holds is drawn later, outside icetrace: still plain text
    columns = [t.get_text() for t in figure.findobj(matplotlib.text.Text) if t.get_gid() == "column"]
    assert any("$^{" in c for c in columns)


def test_a_comment_longer_than_a_pcapng_option_is_cut_to_fit(tmp_path):
    """An error reason as long as a UDP datagram allows: the note quoting it is over 65,535 bytes."""
    reason = "\u00e9" * 32700  # 65,400 bytes of UTF-8
    capture = hostile_call.write(tmp_path / "call", reason=reason)
    out = tmp_path / "annotated.pcapng"
    status, _, err = _cli("annotate", str(capture), "-o", str(out))
    assert status == 0, err
    comments = _comments(out)
    longest = max((c for cs in comments.values() for c in cs), key=len)
    assert len(longest) <= 0xFFFF and longest.endswith(" …(cut)".encode())
    longest.decode("utf-8")  # cut at a character boundary
    if shutil.which("tshark"):
        result = subprocess.run(["tshark", "-r", str(out)], capture_output=True, text=True, check=False)
        assert result.returncode == 0 and len(result.stdout.splitlines()) == len(_frames(capture))


def _comments(path: Path) -> dict[int, list[bytes]]:
    data = path.read_bytes()
    pos, number, out = 0, 0, {}
    while pos + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, pos)
        if btype == 6:
            number += 1
            caplen = struct.unpack_from("<I", data, pos + 20)[0]
            opt = pos + 28 + caplen + (-caplen % 4)
            while opt + 4 <= pos + blen - 4:
                code, length = struct.unpack_from("<HH", data, opt)
                if code == 0:
                    break
                out.setdefault(number, []).append(data[opt + 4 : opt + 4 + length])
                opt += 4 + length + (-length % 4)
        pos += blen
    return out


def _frames(pcap: Path) -> list[int]:
    data, pos, frames = pcap.read_bytes(), 24, []
    while pos + 16 <= len(data):
        incl = struct.unpack_from("<I", data, pos + 8)[0]
        frames.append(pos)
        pos += 16 + incl
    return frames


@pytest.mark.parametrize("minor", [0, 3])
def test_a_network_monitor_time_of_all_ones_is_copied(tmp_path, minor):
    from tests.capture.test_fast_reader import frames_for, netmon_bytes

    frames, _ = frames_for("ethernet")
    data = bytearray(netmon_bytes(frames[:6], minor))
    table_at, table_size = struct.unpack_from("<II", data, 24)
    offsets = struct.unpack_from(f"<{table_size // 4}I", data, table_at)
    struct.pack_into("<Q", data, offsets[2], (1 << 64) - 1)  # the time since the capture's start
    if minor == 3:  # and a frame's own UTC FILETIME
        incl = struct.unpack_from("<I", data, offsets[3] + 12)[0]
        struct.pack_into("<Q", data, offsets[3] + 16 + incl + 6, (1 << 64) - 1)
    capture = tmp_path / "all-ones.cap"
    capture.write_bytes(bytes(data))
    out = tmp_path / "copy.pcapng"
    status, _, err = _cli("annotate", str(capture), "-o", str(out))
    assert status == 0, err
    assert "frame 3: frame time past what pcapng holds" in err
    from icetrace.capture.reader import read_frames

    problems: list = []
    assert len(list(read_frames(out, problems))) == 6 and not problems


def test_far_future_frame_times(tmp_path):
    """pcapng holds 64-bit ticks: a frame in the year 584,554 (and one 300,000 years out)."""
    pcap = hostile_call.write(tmp_path / "call")
    far = hostile_call.as_pcapng(pcap, tmp_path / "far.pcapng", {3: (1 << 64) - 1, 4: 300_000 * 31_557_600_000_000})
    for argv in (
        ["analyze", str(far), "--html", str(tmp_path / "r.html")],
        ["plot", str(far), "--kind", "timeline", "--out", str(tmp_path / "t.png")],
        ["plot", str(far), "--out", str(tmp_path / "l.png")],
        ["annotate", str(far), "-o", str(tmp_path / "a.pcapng")],
    ):
        status, _, err = _cli(*argv)
        assert status == 0, (argv, err)
    everything_far = hostile_call.as_pcapng(pcap, tmp_path / "all.pcapng", {n: (1 << 64) - 1 - n for n in range(99)})
    status, _, err = _cli("plot", str(everything_far), "--kind", "timeline", "--out", str(tmp_path / "t2.svg"))
    assert status == 0, err


def test_a_gap_of_years_cut_short_keeps_the_seconds_around_it():
    """The broken time axis adds only differences of nearby times: after a cut of 570,000 years the
    half second that follows is still drawn half a second wide, and the axis has a handful of ticks."""
    from matplotlib.figure import Figure

    from icetrace.plots.time_axis import TimeAxis

    far = 1.8e13
    axis = TimeAxis.of([(0.0, 0.001), (far, far + 0.5)])
    assert axis.cuts == [(0.001, far)]
    assert axis.x(far) == pytest.approx(0.001 + axis.kept)
    assert axis.x(far + 0.5) - axis.x(far) == pytest.approx(0.5)
    ax = Figure().subplots()
    axis.set_ticks(ax, 0.0, far + 0.5)
    assert 2 <= len(ax.get_xticks()) <= 20


def test_utc_text_of_times_no_calendar_holds():
    assert utc_text(1767225600.0) == "2026-01-01 00:00:00.000 UTC"
    assert utc_text(1.8e13) == "18000000000000.000 s after 1970-01-01 UTC"
    assert utc_text(float("inf")) == "inf s (no time)"


@pytest.mark.parametrize("fragment", ["%", "100%25", "%E0%A4%A", "allocate%20401"])
def test_a_filter_fragment_that_is_not_percent_encoding_is_taken_as_written(tmp_path, fragment):
    from tests.report.test_html import _chromium, _console, seed_page

    page = tmp_path / "report.html"
    page.write_text(seed_page(), encoding="utf-8")
    result = _chromium(tmp_path, page.as_uri() + "#filter=" + fragment, "--dump-dom")
    assert result.returncode == 0 and _console(result) == []
    assert " messages shown" in result.stdout  # the script ran to the end
