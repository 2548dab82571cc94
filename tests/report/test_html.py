"""The HTML report: one self-contained page with every part of the report, and a real browser
(headless Chromium) that loads it without console errors and shows it."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest

import icetrace
from icetrace.analysis import Analysis
from icetrace.cli import main
from icetrace.report.html import write_html
from tests import testdata

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@cache
def seed() -> Analysis:
    return icetrace.analyze([testdata.SEED_CALL])


@cache
def seed_page() -> str:
    out = io.StringIO()
    write_html(seed(), out)
    return out.getvalue()


class Page(HTMLParser):
    """Tags with their attributes, and the text of every table row by table id/class."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: list[tuple[str, list[list[str]]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "table":
            self.tables.append((attributes.get("id") or attributes.get("class") or "", []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1][1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parsed(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


def test_page_fetches_nothing():
    page = parsed(seed_page())
    for tag, attrs in page.tags:
        assert tag not in ("link", "img", "iframe", "object", "embed"), tag
        if tag == "script":
            assert "src" not in attrs
        if tag in ("image", "use") or tag == "a":
            assert not str(attrs.get("href") or attrs.get("xlink:href") or "#").startswith(("http", "//"))
    assert "@import" not in seed_page() and "url(http" not in seed_page()


def test_page_holds_the_whole_report():
    analysis = seed()
    text = seed_page()
    page = parsed(text)
    tables = dict(page.tables)
    # candidates of both agents, the pair table per component with the selected pairs, verdicts with frames
    candidates = [rows for name, rows in page.tables if name == "candidates"]
    assert [len(rows) - 1 for rows in candidates] == [
        int((analysis.candidates.agent == agent).sum()) for agent in ("caller", "callee:bbbb")
    ]
    pairs = [rows for name, rows in page.tables if name == "pairs"]
    assert sum(len(rows) - 1 for rows in pairs) == len(analysis.pairs)
    selected = [row for rows in pairs for row in rows if row[0] == "selected"]
    assert [row[2] for row in selected] == ["host 192.168.1.100:50036", "host 192.168.1.100:50032"]
    assert all(row[1] == "succeeded" for row in selected)  # the state right after the mark: seen on a phone
    failed = [row for rows in pairs for row in rows if row[1] == "failed"]
    assert failed and all(re.fullmatch(r"0/1 answered, \+6 retransmissions", row[6]) for row in failed)
    verdicts = tables["verdict-table"][1:]
    ids = [attrs["id"] for _, attrs in page.tags if attrs.get("id")]
    assert len(ids) == len(set(ids)) and "f15" in ids  # valid HTML; a message row to link to
    assert 'href="#f15"' in text  # from the ladder's arrow and the verdicts
    assert sorted((row[0], row[3]) for row in verdicts) == sorted(
        (v.code, ", ".join(str(f) for f in v.frames)) for v in analysis.verdict_list
    )
    severities = [row[1] for row in verdicts]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)  # the worst first
    # every message, and both plots as inline SVG
    assert len(tables["messages"]) - 1 == len(analysis.messages)
    assert [tag for tag, _ in page.tags].count("svg") == 2
    assert 'outcome <span class="outcome">CONNECTED</span>' in text


def test_cli_writes_the_page_beside_the_text_report(tmp_path):
    target = tmp_path / "report.html"
    out = io.StringIO()
    assert main(["analyze", str(testdata.SEED_CALL), "--html", str(target)], stdout=out, stderr=io.StringIO()) == 0
    assert "outcome CONNECTED" in out.getvalue()
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # with the JSON on stdout, the page is still written and stdout stays pure JSON
    json_out, second = io.StringIO(), tmp_path / "second.html"
    args = ["analyze", str(testdata.SEED_CALL), "--json", "-", "--html", str(second)]
    assert main(args, stdout=json_out, stderr=io.StringIO()) == 0
    assert json.loads(json_out.getvalue())["streams"] and second.read_text(encoding="utf-8").endswith("</html>\n")
    err = io.StringIO()
    bad = tmp_path / "missing-dir" / "report.html"
    assert main(["analyze", str(testdata.SEED_CALL), "--html", str(bad)], stdout=io.StringIO(), stderr=err) == 2
    assert "cannot write" in err.getvalue()


# -- in a real browser ---------------------------------------------------------------------------


def _chromium(tmp_path: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (scripts/setup.sh installs it)")
        pytest.skip("chromium is not installed: run scripts/setup.sh as root to install it")
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *extra,
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _console(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def test_console_errors_would_be_seen(tmp_path):
    """The check below means something: a page that throws shows up in the log."""
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>")
    result = _chromium(tmp_path, broken.as_uri(), "--dump-dom")
    assert any("undefinedFunction" in line for line in _console(result))


def test_browser_loads_the_page_filters_and_shows_it(tmp_path):
    from PIL import Image

    page = tmp_path / "report.html"
    page.write_text(seed_page(), encoding="utf-8")
    # the filter, given in the address, hides the other messages once the script has run
    result = _chromium(tmp_path, page.as_uri() + "#filter=allocate%20401", "--dump-dom")
    assert result.returncode == 0 and _console(result) == []
    dom = result.stdout
    allocate_401 = int(((seed().messages.method == "allocate") & (seed().messages.error_code == 401)).sum())
    assert allocate_401 == 2
    assert f"{allocate_401} of {len(seed().messages)} messages shown" in dom
    assert dom.count('style="display: none;"') == len(seed().messages) - allocate_401
    # a screenshot: the heading at the top, the pair tables' selected rows and the plots' selected lanes drawn
    shot = tmp_path / "page.png"
    result = _chromium(tmp_path, page.as_uri(), "--window-size=1280,2600", f"--screenshot={shot}", "--hide-scrollbars")
    assert result.returncode == 0 and _console(result) == []
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2600)
    heading = image.crop((0, 0, 640, 60))
    dark = sum(count for count, colour in heading.getcolors(maxcolors=1 << 16) if max(colour) < 100)
    assert dark > 200  # the dark text of the title
    colours = {colour for _, colour in image.getcolors(maxcolors=1 << 20)}
    assert (216, 245, 216) in colours  # tr.selected background (#d8f5d8): the pair tables rendered
    assert (200, 240, 200) in colours  # the timeline's selected lane (#c8f0c8): the SVG rendered


def test_page_reads_at_400_px_without_sideways_scrolling(tmp_path):
    """A support engineer's phone: nothing wider than the screen, each pair's state in view."""
    measure = (
        "<script>var s=[].slice.call(document.querySelectorAll('table.pairs tbody td:nth-child(2)'))"
        ".map(function(c){return Math.round(c.getBoundingClientRect().right);});"
        "document.body.setAttribute('data-measure', JSON.stringify({page: document.documentElement.scrollWidth,"
        " screen: window.innerWidth, state: s}));</script></body>"
    )
    page = tmp_path / "narrow.html"
    page.write_text(seed_page().replace("</body>", measure), encoding="utf-8")
    # headless Chromium's window is at least 500 px wide: the page is read in a 400 px frame
    frame = tmp_path / "phone.html"
    frame.write_text(
        '<!DOCTYPE html><html><body style="margin:0"><iframe id="phone" src="narrow.html" width="400" '
        'height="900" style="border:0"></iframe><script>document.getElementById("phone").onload=function(){'
        "document.body.setAttribute('data-measure',"
        "this.contentWindow.document.body.getAttribute('data-measure'));};</script></body></html>"
    )
    result = _chromium(
        tmp_path, frame.as_uri(), "--allow-file-access-from-files", "--virtual-time-budget=5000", "--dump-dom"
    )
    assert result.returncode == 0 and _console(result) == []
    found = re.search(r'data-measure="([^"]+)"', result.stdout)
    assert found, result.stdout[-500:]
    measured = json.loads(found.group(1).replace("&quot;", '"'))
    assert measured["screen"] == 400 and measured["page"] <= measured["screen"]
    assert measured["state"] and max(measured["state"]) <= measured["screen"]


# -- sessions apart, counts that add up ----------------------------------------------------------

NDPI = testdata.PUBLIC / "ntop_nDPI"
UNSIGNALED = [NDPI / "stun.pcap", NDPI / "stun_signal.pcapng", NDPI / "teams.pcap"]  # 5, 2, 2 sessions


def page_of(*captures: Path) -> tuple[Analysis, str]:
    analysis = icetrace.analyze([testdata.require(c) for c in captures])
    out = io.StringIO()
    write_html(analysis, out)
    return analysis, out.getvalue()


@pytest.mark.parametrize("capture", UNSIGNALED, ids=lambda p: p.name)
def test_each_session_without_signaling_has_its_own_heading(capture):
    analysis, text = page_of(capture)
    streams = analysis.reconstruction.streams
    assert len(streams) > 1 and not any(s.call_id for s in streams)
    headings = re.findall(r'<h2 class="stream" id="(stream-\d+)">([^<]*)</h2>', text)
    assert len(headings) == len(streams)
    assert len({name for _, name in headings}) == len(streams)  # never two sessions under one heading
    for (anchor, name), s in zip(headings, streams, strict=True):
        ufrags = "/".join(a.ufrag for a in (s.controlling, s.controlled) if a is not None and a.ufrag)
        assert name.startswith("Session ") and f"ufrags {ufrags})" in name
        assert f'<a href="#{anchor}">{name[0].lower()}{name[1:]}</a>: ' in text  # the summary's link
        # the lanes of the timeline name the same session
        assert f"{name[0].lower()}{name[1:]}, component" in text


@pytest.mark.parametrize(
    "captures",
    [
        [testdata.SEED_CALL],
        [
            testdata.CAPTURES / "real" / "chromium-relay" / tap
            for tap in ("left-lan.pcap", "public.pcap", "right-lan.pcap")
        ],
        sorted((testdata.CAPTURES / "servers" / "turn-server-vantage").glob("*.pcap")),  # copies at two taps
    ],
    ids=["seed-call", "chromium-relay-taps", "turn-server-vantage"],
)
def test_the_messages_table_says_how_it_adds_up_to_the_summary(captures):
    analysis, text = page_of(*captures)
    summary = int(re.search(r"<li>(\d+) STUN/TURN messages", text).group(1))
    rows = len(dict(parsed(text).tables)["messages"]) - 1
    assert rows == len(analysis.messages)
    note = re.search(r"<p>(\d+) messages here: ([^<]*)</p>", text)
    if summary == rows:
        assert note is None
        return
    assert note and int(note.group(1)) == rows
    if analysis.duplicate_messages:
        assert f"{analysis.duplicate_messages} seen by two captures, listed once" in note.group(2)
    told = sum(int(n) for n in re.findall(r"(\d+) (?:relayed media messages|seen by two captures)", note.group(2)))
    assert rows + told == summary


@pytest.mark.parametrize(
    "capture",
    [
        testdata.SEED_CALL,
        testdata.CAPTURES / "synthetic" / "mid_call" / "capture.pcap",  # media arrows on the ladder
        testdata.CAPTURES / "synthetic" / "many_pairs" / "capture.pcap",
        NDPI / "stun_signal.pcapng",
    ],
    ids=lambda p: p.parent.name if p.name == "capture.pcap" else p.name,
)
def test_every_id_is_unique_and_every_link_in_the_page_leads_to_one(capture):
    _, text = page_of(capture)
    ids = [attrs["id"] for _, attrs in parsed(text).tags if attrs.get("id")]
    assert len(ids) == len(set(ids))
    links = re.findall(r'<a (?:xlink:)?href="#([^"]*)"', text)
    assert [link for link in links if link.startswith("f")], "no frame links: the test would prove nothing"
    assert sorted({link for link in links if link not in set(ids)}) == []
    assert 'target="_blank"' not in text  # a link inside the page stays in its tab
