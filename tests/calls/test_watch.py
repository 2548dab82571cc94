"""`icetrace watch` on a many-calls capture: through a real pipe, and as a ring-buffer folder, every
session is told once with what `analyze` of the whole file says of it; what it holds stays bounded by
the calls open at once. `-` reads standard input in analyze and messages too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from icetrace.capture.packet_source import PacketSource
from icetrace.live.inputs import ring_files
from icetrace.live.tracker import CallTracker, Ended, WatchOptions
from tests.calls.many_calls import capture_names, many_calls_capture, without_captures

ICETRACE = [sys.executable, "-m", "icetrace"]
COMPARED = (
    "outcome",
    "connectivity",
    "cause_code",
    "turn_server",
    "client_subnet",
    "connect_seconds",
    "errors",
    "warnings",
    "components",
    "media_flows",
    "verdicts",
)


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return many_calls_capture(tmp_path_factory.mktemp("calls"))


@pytest.fixture(scope="module")
def analyzed(capture: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], dict]:
    out = tmp_path_factory.mktemp("analyzed") / "sessions.jsonl"
    subprocess.run([*ICETRACE, "analyze", str(capture), "--json-lines", str(out)], check=True, capture_output=True)
    return {(o["call_id"], o["index"]): o for o in map(json.loads, out.read_text().splitlines())}


def same_as_analyze(told: list[dict], analyzed: dict[tuple[str, int], dict], names: set[str]) -> None:
    """Each session told once, as analyze tells it; its captures named by what watch read (`names`)."""
    keys = [(o["call_id"], o["index"]) for o in told]
    assert sorted(keys) == sorted(analyzed), "every session told exactly once"
    for obj in told:
        whole = analyzed[(obj["call_id"], obj["index"])]
        mine = {k: without_captures(obj[k]) for k in COMPARED}
        assert mine == {k: without_captures(whole[k]) for k in COMPARED}, obj["session"]
        assert capture_names(obj) <= names


def test_watch_reads_a_pipe(capture: Path, analyzed: dict[tuple[str, int], dict]) -> None:
    with capture.open("rb") as stdin:
        run = subprocess.run(
            [*ICETRACE, "watch", "-", "--idle", "5", "--json-lines"], stdin=stdin, capture_output=True, check=True
        )
    told = [json.loads(line) for line in run.stdout.decode().splitlines()]
    same_as_analyze(told, analyzed, {"-"})
    reasons = {o["ended"]["reason"] for o in told}
    assert {"BYE", "capture ended"} <= reasons
    # told in the order they ended
    ended = [o["ended"]["at"] for o in told]
    assert ended == sorted(ended)


def test_watch_tells_stories(capture: Path) -> None:
    with capture.open("rb") as stdin:
        run = subprocess.run([*ICETRACE, "watch", "-", "--idle", "5"], stdin=stdin, capture_output=True, check=True)
    text = run.stdout.decode()
    heads = [line for line in text.splitlines() if line.startswith("== ")]
    assert heads and all(" ended (" in h and ", cause " in h for h in heads)
    assert text.count("component 1: pairs by priority") == sum(" CONNECTED" in h or "FAILED" in h for h in heads)


def _frame_refs(obj: object) -> list[object]:
    """Every frame reference in a session object (its 'frames' lists and 'first_frame' values)."""
    if isinstance(obj, list):
        return [ref for item in obj for ref in _frame_refs(item)]
    if not isinstance(obj, dict):
        return []
    refs = [*obj.get("frames", ()), *([obj["first_frame"]] if "first_frame" in obj else [])]
    return refs + [ref for key, value in obj.items() if key != "frames" for ref in _frame_refs(value)]


def _in_one_file(obj: object, before: dict[str, int]) -> object:
    """The object with each 'file#number' reference turned into the frame's number in the unsplit capture."""

    def number(ref: object) -> object:
        if not isinstance(ref, str):
            return ref
        name, _, n = ref.partition("#")
        return before[name] + int(n)

    if isinstance(obj, list):
        return [_in_one_file(item, before) for item in obj]
    if not isinstance(obj, dict):
        return obj
    out = {key: _in_one_file(value, before) for key, value in obj.items()}
    if "frames" in out:
        out["frames"] = [number(ref) for ref in obj["frames"]]
    if "first_frame" in out:
        out["first_frame"] = number(obj["first_frame"])
    return out


def split_pcap(capture: Path, folder: Path, pieces: int) -> tuple[list[Path], list[int]]:
    """The capture cut into `pieces` pcap files at record boundaries, named as dumpcap's ring buffer
    names them; and how many frames each holds."""
    data = capture.read_bytes()
    header, offset, starts = data[:24], 24, []
    while offset < len(data):
        starts.append(offset)
        offset += 16 + int.from_bytes(data[offset + 8 : offset + 12], "little")
    bounds = [starts[len(starts) * i // pieces] for i in range(pieces)] + [len(data)]
    paths = []
    for i in range(pieces):
        path = folder / f"ring_{i + 1:05d}_20240101120000.pcap"
        path.write_bytes(header + data[bounds[i] : bounds[i + 1]])
        paths.append(path)
    frames = [sum(bounds[i] <= start < bounds[i + 1] for start in starts) for i in range(pieces)]
    return paths, frames


def test_watch_reads_a_ring_buffer_folder(capture: Path, analyzed: dict[tuple[str, int], dict], tmp_path: Path) -> None:
    paths, frames = split_pcap(capture, tmp_path, 4)
    (tmp_path / "notes.txt").write_text("not a capture")
    run = subprocess.run(
        [*ICETRACE, "watch", str(tmp_path), "--no-follow", "--idle", "5", "--json-lines"],
        capture_output=True,
        check=True,
    )
    told = [json.loads(line) for line in run.stdout.decode().splitlines()]
    # frame numbers restart in each file: once a second file is read, a reference names its file
    before = {path.name: sum(frames[:i]) for i, path in enumerate(paths)}
    named = {str(ref).split("#")[0] for obj in told for ref in _frame_refs(obj) if isinstance(ref, str)}
    assert len(named) > 1 and named <= set(before)
    same_as_analyze([_in_one_file(obj, before) for obj in told], analyzed, set(before))


def test_ring_files_waits_for_a_file_to_be_complete(tmp_path: Path) -> None:
    first, second = tmp_path / "ring_00001_x.pcapng", tmp_path / "ring_00002_x.pcapng"
    first.write_bytes(b"")
    naps: list[float] = []

    def sleep(seconds: float) -> None:  # the ring buffer rotates while the reader waits
        naps.append(seconds)
        if len(naps) == 1:
            second.write_bytes(b"")
        elif len(naps) > 3:
            raise KeyboardInterrupt

    found = []
    with pytest.raises(KeyboardInterrupt):
        for path in ring_files(tmp_path, follow=True, sleep=sleep):
            found.append((path.name, len(naps)))
    # the first file is read only once the second exists; the second, still written, is not read
    assert found == [(first.name, 1)]


def test_memory_follows_open_calls_not_the_capture(tmp_path: Path) -> None:
    capture = many_calls_capture(tmp_path, 1_000_000, 4)  # about a minute of calls, four at once
    source = PacketSource([], count_relayed=True, live=True)
    told: list[Ended] = []
    tracker = CallTracker(source, capture.name, told.append, WatchOptions(idle=5))
    held: list[tuple[int, int, int]] = []
    records = sip = 0
    for packet in source.read_each([capture]):
        before = len(tracker.records), len(tracker.signaling.sip.messages)
        tracker.feed(packet)
        records += max(0, len(tracker.records) - before[0])
        sip += max(0, len(tracker.signaling.sip.messages) - before[1])
        held.append((len(tracker.records), len(tracker.signaling.sip.messages), len(source.so_far().media_flows)))
    most = [max(h[i] for h in held) for i in range(3)]
    tracker.finish()
    assert len(told) > 30 and records > 200 and sip > 120
    # four calls at once out of some forty: what is held stays well below what went by
    assert most[0] < 0.35 * records and most[1] < 0.35 * sip
    assert len(source.so_far().media_flows) < most[2], "the media counts of told sessions are forgotten"


@pytest.mark.parametrize("command", [["analyze", "--json", "-"], ["messages", "--format", "csv"]])
def test_dash_reads_standard_input(capture: Path, command: list[str]) -> None:
    from_file = subprocess.run([*ICETRACE, command[0], str(capture), *command[1:]], capture_output=True, check=True)
    with capture.open("rb") as stdin:
        from_pipe = subprocess.run(
            [*ICETRACE, command[0], "-", *command[1:]], stdin=stdin, capture_output=True, check=True
        )
    # the pipe is named '-' where the file is named by its name (captures) or path (sources)
    named = from_pipe.stdout.replace(b'"capture": "-"', b'"capture": "' + capture.name.encode() + b'"')
    assert named.replace(b'"-"', b'"' + str(capture).encode() + b'"') == from_file.stdout
