"""No file of the project's code or tests names a path outside the repository (tests/repository_paths.py).

The samples below write `<up>` for a parent step, `<abs>` for the slash that starts an absolute
path and `<home>` for the home folder's sign, so that this file itself holds no such path.
"""

from __future__ import annotations

import pytest

from tests import testdata
from tests.repository_paths import SCANNED_FOLDERS, problems_in_text, scan_tree, scanned_files


def sample(text: str) -> str:
    return text.replace("<up>", "." * 2).replace("<abs>", "/").replace("<home>", "~")


def test_no_file_refers_outside_the_repository():
    assert [str(p) for p in scan_tree(testdata.ROOT)] == []


def test_the_scan_reads_the_code_and_tests():
    scanned = {p.relative_to(testdata.ROOT).as_posix() for p in scanned_files(testdata.ROOT)}
    assert {"tests/testdata.py", "tests/conftest.py", "scripts/setup.sh", "icetrace/cli.py"} <= scanned
    assert {"icetrace/capture/_walk.c", "benchmarks/RESULTS.md", "tests/data/SOURCES.md"} <= scanned
    assert {name.split("/")[0] for name in scanned} == set(SCANNED_FOLDERS)
    assert not any(name.endswith((".pcap", ".bin", ".stun")) for name in scanned)


OUTSIDE = [
    ("tests/capture/t.py", 'SHARED = Path(__file__).resolve().parents[2] / "<up>" / "shared" / "captures"'),
    ("tests/t.py", 'ROOT = Path(__file__).resolve().parents[1]\nOTHER = ROOT / "<up>" / "other"'),
    ("tests/t.py", "ABOVE = Path(__file__).resolve().parents[2]"),
    ("tests/capture/t.py", "ABOVE = Path(__file__).parent.parent.parent.parent"),
    ("tests/t.py", 'here = os.path.join(os.path.dirname(__file__), "<up>", "<up>", "x")'),
    ("tests/t.py", "here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))"),
    ("icetrace/t.py", 'open("<up>/captures/call.pcap")'),
    ("icetrace/t.py", 'Path("<up>").joinpath("x")'),
    ("tests/t.py", 'def f(base):\n    return base / "<up>" / "x"'),
    ("tests/t.py", 'DATA = "<abs>work/shared/captures"'),
    ("icetrace/t.py", 'capture = Path("<abs>home/alice/call.pcap")'),
    ("benchmarks/t.py", "# the capture is first written to <abs>tmp/bench.pcap"),
    ("tests/t.py", 'p = "<home>/captures/x.pcap"'),
    ("tests/t.py", '"""Read from <up>/shared/captures/public."""'),
    ("scripts/t.sh", 'cd "$(dirname "$0")/<up>/<up>"'),
    ("scripts/t.sh", "cp <up>/shared/captures/*.pcap captures/"),
    ("scripts/t.sh", 'cd "$HERE/<up>"'),
    ("scripts/t.sh", "tcpdump -w <abs>var/tmp/x.pcap"),
    ("benchmarks/t.md", "see [the notes](<up>/<up>/elsewhere.md)"),
    ("icetrace/capture/t.c", '#include "<up>/<up>/<up>/python.h"'),
]


@pytest.mark.parametrize("relpath, text", OUTSIDE, ids=[f"{i}-{p}" for i, (p, _) in enumerate(OUTSIDE)])
def test_paths_outside_are_found(relpath, text):
    problems = problems_in_text(relpath, sample(text))
    assert problems, text
    assert {p.path for p in problems} == {relpath}


INSIDE = [
    ("tests/capture/t.py", 'ROOT = Path(__file__).resolve().parents[2]\nCAPTURES = ROOT / "captures"'),
    ("tests/t.py", 'DATA = Path(__file__).parent / "data" / "<up>" / "data"'),
    ("benchmarks/t.py", "HERE = Path(__file__).resolve().parent\nsys.path.insert(0, str(HERE.parent))"),
    ("tests/t.py", 'path = tmp_path / "x.pcap"\nfolder = capture.parent / "truth.json"'),
    ("tests/t.py", 'subprocess.run(["tshark", "-r", str(path)], stdout=subprocess.DEVNULL)\nopen("/dev/null")'),
    ("dissectors/t.py", "# RFC 5389 6: 0 0 M11..M7 C1 M6..M4 C0 M3..M0 ... and more"),
    ("icetrace/t.py", 'URL = "https://example.org/home/tmp/work"\nrate = size / data'),
    ("benchmarks/t.md", "generates `benchmarks/data/voip-1000.pcap`; `/usr/bin/time` > /dev/null"),
    ("scripts/t.sh", 'cd "$(dirname "$0")/<up>"\npython3 -m venv .venv'),
    ("tests/data/t.md", "see [the captures](<up>/<up>/captures/public/SOURCES.md)"),
]


@pytest.mark.parametrize("relpath, text", INSIDE, ids=[f"{i}-{p}" for i, (p, _) in enumerate(INSIDE)])
def test_paths_inside_are_left_alone(relpath, text):
    assert problems_in_text(relpath, sample(text)) == []


def test_a_planted_file_fails_the_scan(tmp_path):
    for relpath, text in [("tests/capture/test_ok.py", INSIDE[0][1]), ("scripts/setup.sh", INSIDE[-2][1])]:
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_text(sample(text))
    assert scan_tree(tmp_path) == []
    planted = tmp_path / "icetrace" / "capture" / "planted.py"
    planted.parent.mkdir(parents=True)
    planted.write_text(sample('"""A reader."""\n\nDEFAULT = Path(__file__).parents[3] / "shared" / "x.pcap"\n'))
    (problem,) = scan_tree(tmp_path)
    assert (problem.path, problem.line) == ("icetrace/capture/planted.py", 3)
    assert ".parents[3] climbs out" in problem.text
