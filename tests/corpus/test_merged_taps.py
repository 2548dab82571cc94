"""Several taps of one call given together tell one story: each message is one event, each flow's
media is counted once (as the tap that saw the most), and every frame reference names its file, in
the text report, the JSON, the HTML page, the ladder and the annotated copies."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest

from icetrace.cli import main
from icetrace.plots.ladder import arrows
from icetrace.plots.story import build
from icetrace.records.capture_set import capture_index
from icetrace.report.html import write_html
from icetrace.report.text import write_report
from tests.corpus.taps import TAPS, media_on_selected, tap_analysis
from tests.corpus.truth import CAPTURES

CALLS = ["chromium-relay", "chromium-direct", "aioice-direct", "aioice-relay-only"]
FRAME_REF = re.compile(r"(left-lan|public|right-lan)\.pcap#\d+")


@pytest.mark.parametrize("name", CALLS)
def test_media_is_counted_once_per_flow(name):
    merged = media_on_selected(tap_analysis(name, TAPS))
    singles = [media_on_selected(tap_analysis(name, (tap,))) for tap in TAPS]
    assert merged == {k: max(s.get(k, 0) for s in singles) for k in set().union(*singles)}
    assert merged, "the call carried media"


@pytest.mark.parametrize("name", CALLS)
def test_an_allocation_seen_at_two_taps_is_one(name):
    merged = tap_analysis(name, TAPS)
    relayed = [a.relayed for a in merged.reconstruction.allocations]
    assert len(relayed) == len(set(relayed))
    singles = {a.relayed for tap in TAPS for a in tap_analysis(name, (tap,)).reconstruction.allocations}
    assert set(relayed) == singles


@pytest.mark.parametrize("name", CALLS)
def test_no_media_on_a_pair_never_answered(name):
    """The host pair shares its sockets with the srflx pair (the NAT mappings join them), but only
    the pair whose checks succeeded carried the media; each lane's count is the flow's, once."""
    a = tap_analysis(name, TAPS)
    lanes = build(a.reconstruction, a.checks).lanes
    assert [lane for lane in lanes if lane.media is not None]
    for lane in lanes:
        if lane.state != "succeeded":
            assert lane.media is None, lane.label
    (selected,) = [lane for lane in lanes if lane.selected and lane.component in (1, None)]
    assert selected.media is not None
    assert selected.media.packets == sum(f.packets for s in a.reconstruction.streams for f in s.media_flows)


@pytest.mark.parametrize("name", CALLS)
def test_one_ladder_arrow_per_message(name):
    a = tap_analysis(name, TAPS)
    rec = a.reconstruction
    by_frame = {r.frame: r for r in rec.records if r.kind == "stun"}
    drawn: dict[tuple[str, int], set[int]] = {}
    drawn_arrows = arrows(a.reconstruction, a.messages, a.transactions)
    for arrow in drawn_arrows:
        if arrow.unit == "pkts":
            continue  # a media flow (ChannelData carrying a check starts one), see below
        record = by_frame.get(arrow.frame)
        if record is not None and record.transaction_id:
            drawn.setdefault((record.transaction_id, record.type), set()).add(capture_index(arrow.frame))
    assert drawn
    assert all(len(taps) == 1 for taps in drawn.values()), {k: v for k, v in drawn.items() if len(v) > 1}
    # a flow is drawn as one tap saw it: no two media arrows of one kind between one socket's names
    joined = [(m.inside, m.outside) for m in rec.nat_mappings] + [(m.base, m.mapped) for m in rec.mappings]
    names: dict[str, str] = {}
    for inside, outside in joined:
        names[str(inside)] = names[str(outside)] = min(str(inside), str(outside))
    media = [(names.get(x.src, x.src), names.get(x.dst, x.dst), x.text) for x in drawn_arrows if x.unit == "pkts"]
    assert len(media) == len(set(media))


def test_every_frame_reference_names_its_file(tmp_path):
    a = tap_analysis("chromium-relay", TAPS)
    doc = a.to_dict()
    refs = [f["first_frame"] for s in doc["streams"] for f in s["media_flows"]]
    refs += [p["first_frame"] for s in doc["streams"] for c in s["components"] for p in c["pairs"]]
    refs += [x["frame"] for x in doc["allocations"]] + [f for m in doc["nat_mappings"] for f in m["frames"]]
    assert refs and all(isinstance(r, str) and FRAME_REF.fullmatch(r) for r in refs), refs
    text = io.StringIO()
    write_report(a, text, colour=False)
    assert FRAME_REF.search(text.getvalue()) and "from frame " in text.getvalue()
    assert not re.search(r"frame \d{6,}", text.getvalue())  # no frame id leaks as a number
    page = io.StringIO()
    write_html(a, page)
    assert FRAME_REF.search(page.getvalue())
    labels = [arrow.label for arrow in arrows(a.reconstruction, a.messages, a.transactions)]
    assert all(FRAME_REF.search(label) for label in labels)


def test_one_tap_keeps_plain_frame_numbers():
    doc = tap_analysis("chromium-relay", ("public",)).to_dict()
    assert all(isinstance(x["frame"], int) for x in doc["allocations"])


def test_annotate_writes_one_copy_per_capture(tmp_path):
    captures = [CAPTURES / "real" / "chromium-relay" / f"{tap}.pcap" for tap in TAPS]
    out = io.StringIO()
    assert main(["annotate", *map(str, captures), "-o", str(tmp_path / "annotated")], stdout=out) == 0
    for capture in captures:
        copy = tmp_path / "annotated" / f"{capture.stem}.pcapng"
        assert f"{copy}:" in out.getvalue()
        listed = subprocess.run(
            ["tshark", "-n", "-r", str(copy), "-T", "fields", "-e", "frame.number", "-e", "frame.comment"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.splitlines()
        original = subprocess.run(
            ["tshark", "-n", "-r", str(capture), "-T", "fields", "-e", "frame.number"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.splitlines()
        assert [line.split("\t")[0] for line in listed] == original  # every frame, numbered as before
        commented = [line for line in listed if "\t" in line and line.split("\t")[1]]
        assert any("check" in line for line in commented), capture.name
        assert any("read as 3 taps of one call" in line for line in commented)


def test_annotate_refuses_a_file_as_the_folder_of_several_copies(tmp_path):
    captures = [str(CAPTURES / "real" / "chromium-relay" / f"{tap}.pcap") for tap in TAPS]
    (tmp_path / "file").write_text("")
    err = io.StringIO()
    assert main(["annotate", *captures, "-o", str(tmp_path / "file")], stderr=err) == 2
    assert "names a folder" in err.getvalue()


def test_annotate_refuses_two_captures_of_one_name(tmp_path):
    # one file given twice: nothing tells the copies apart (two files of one name in different
    # folders keep a folder each: test_capture_column.py)
    capture = CAPTURES / "real" / "chromium-relay" / "public.pcap"
    err = io.StringIO()
    assert main(["annotate", str(capture), str(capture), "-o", str(tmp_path / "out")], stderr=err) == 2
    assert "share a name" in err.getvalue()
    assert not Path(tmp_path / "out").exists()
