"""The corpus snapshot (scripts/corpus_snapshot.py) covers every recording and runs like the CLI."""

from __future__ import annotations

import io

from icetrace.cli import main
from tests.testdata import CAPTURE_SUFFIXES, CAPTURES, ROOT, files, script

snapshot = script(ROOT / "scripts" / "corpus_snapshot.py", "corpus_snapshot")


def test_every_capture_stem_is_a_case():
    named = {name for name, _ in snapshot.cases()}
    stems = {(p.parent, p.stem) for p in files(CAPTURES, suffixes=CAPTURE_SUFFIXES)}
    covered = {(ROOT / n.removesuffix("+companions")).parent for n in named}
    assert {folder for folder, _ in stems} <= covered
    assert len({n for n in named if not n.endswith("+companions")}) == len(stems)


def test_companions_are_read_offer_first():
    by_name = dict(snapshot.cases())
    args = by_name["captures/real/chromium-direct/left-lan.pcap+companions"]
    sdp = [args[i + 1] for i, a in enumerate(args) if a == "--sdp"]
    assert [s.rsplit("/", 1)[-1] for s in sdp] == ["offer.sdp", "answer.sdp"]


def test_a_case_is_the_cli_output():
    args = dict(snapshot.cases())["captures/lync/seed-call/capture.pcap"]
    out = io.StringIO()
    assert main(["analyze", "--json", "-", *args], stdout=out, stderr=io.StringIO()) == 0
    assert snapshot.run(args).startswith(out.getvalue() + "\n--- exit 0\n")
