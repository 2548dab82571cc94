"""`icetrace watch` live. A real tcpdump on an interface of two network namespaces this test makes,
piped into two watches (JSON lines, and stories through a named pipe), while real aioice agents
place calls one after another (two connect, one in between fails: the callee's network drops
everything it sends). Every call is told once, in the order placed, while tcpdump still runs, its
story and cause printed, with the outcome and cause `analyze` gives of the saved capture. And a
real dumpcap writing a ring buffer, a file a second, that watch follows as a folder.

Needs root (namespaces, tcpdump); CI runs as root. Everything is bounded in time and removed after.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.calls.many_calls import without_captures
from tests.testdata import ROOT

AGENT = ROOT / "captures" / "record" / "aioice_agent.py"
ICETRACE = [sys.executable, "-m", "icetrace"]
IDLE = 3.0  # seconds: --idle, short so the test is quick
LEFT, RIGHT = "10.213.0.1", "10.213.0.2"


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=check, capture_output=True, text=True, timeout=30)


@pytest.fixture
def lab() -> Iterator[tuple[str, str]]:
    """Two namespaces joined by a veth pair (left 10.213.0.1, right 10.213.0.2), removed after."""
    if os.geteuid() != 0:
        pytest.fail("the live watch test needs root (network namespaces and tcpdump); CI runs as root")
    assert shutil.which("tcpdump"), "tcpdump is installed by scripts/setup.sh"
    left, right = f"icw{os.getpid()}l", f"icw{os.getpid()}r"
    try:
        for name in (left, right):
            sh("ip", "netns", "add", name)
            sh("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
            sh("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        sh("ip", "link", "add", "icwa", "netns", left, "type", "veth", "peer", "name", "icwb", "netns", right)
        for name, dev, address in ((left, "icwa", LEFT), (right, "icwb", RIGHT)):
            sh("ip", "netns", "exec", name, "ip", "addr", "add", f"{address}/24", "dev", dev)
            sh("ip", "netns", "exec", name, "ip", "link", "set", dev, "up")
        yield left, right
    finally:
        for name in (left, right):
            sh("ip", "netns", "del", name, check=False)


def place_call(lab: tuple[str, str], folder: Path, timeout: float) -> dict[str, str]:
    """One call between an aioice agent in each namespace; the agents' own ufrags and outcome."""
    folder.mkdir()
    agents = []
    for ns, name, peer, role in ((lab[0], "left", "right", "controlling"), (lab[1], "right", "left", "controlled")):
        command = ["ip", "netns", "exec", ns, sys.executable, str(AGENT), "--name", name, "--peer", peer]
        command += ["--role", role, "--dir", str(folder), "--timeout", str(timeout)]
        agents.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    for agent in agents:
        try:
            agent.wait(timeout=timeout + 30)
        finally:
            agent.kill()
    reports = {n: json.loads((folder / f"{n}.report.json").read_text()) for n in ("left", "right")}
    return {
        "left": reports["left"]["ice_ufrag"],
        "right": reports["right"]["ice_ufrag"],
        "connected": str(reports["left"]["error"] is None and reports["right"]["error"] is None),
    }


def read_as_printed(watch: subprocess.Popen[bytes], until: float, done: Callable[[bytes], bool]) -> bytes:
    """What watch prints, read as it comes, until `done` says enough is in or the time is up."""
    assert watch.stdout is not None
    text = b""
    while not done(text) and time.monotonic() < until:
        ready, _, _ = select.select([watch.stdout], [], [], 0.2)
        if not ready:
            continue
        chunk = os.read(watch.stdout.fileno(), 65536)
        if not chunk:
            break
        text += chunk
    return text


def told_lines(watch: subprocess.Popen[bytes], until: float, count: int) -> list[dict]:
    """JSON lines watch prints, read as they come, until `count` are in or the time is up."""
    text = read_as_printed(watch, until, lambda text: text.count(b"\n") >= count)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def story_heads(text: bytes) -> list[str]:
    """The head line of each story watch printed: '== LABEL ended (why, when): OUTCOME, cause CODE'."""
    return [line for line in text.decode().splitlines() if line.startswith("== ")]


def test_watch_tells_live_calls_as_they_end(lab: tuple[str, str], tmp_path: Path) -> None:
    saved = tmp_path / "live.pcap"
    tcpdump = subprocess.Popen(
        ["ip", "netns", "exec", lab[0], "tcpdump", "-i", "icwa", "-U", "-w", "-", "-s", "0", "udp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    stories = tmp_path / "stories.fifo"
    os.mkfifo(stories)
    # the second watch opens the named pipe itself; tee's writing end opens once it reads
    storyteller = subprocess.Popen([*ICETRACE, "watch", str(stories), "--idle", str(IDLE)], stdout=subprocess.PIPE)
    tee = subprocess.Popen(["tee", str(saved), str(stories)], stdin=tcpdump.stdout, stdout=subprocess.PIPE)
    watch = subprocess.Popen(
        [*ICETRACE, "watch", "-", "--idle", str(IDLE), "--json-lines"], stdin=tee.stdout, stdout=subprocess.PIPE
    )
    calls: list[dict[str, str]] = []
    try:
        time.sleep(1.0)  # tcpdump is listening
        calls.append(place_call(lab, tmp_path / "call1", 10))
        # the callee's network drops everything it sends: the caller's checks go unanswered
        sh("ip", "netns", "exec", lab[1], "ip", "route", "add", "blackhole", f"{LEFT}/32")
        calls.append(place_call(lab, tmp_path / "call2", 4))
        sh("ip", "netns", "exec", lab[1], "ip", "route", "del", "blackhole", f"{LEFT}/32")
        calls.append(place_call(lab, tmp_path / "call3", 10))
        # the capture's clock moves on only with packets: other media on the network (RTP from
        # another application) after the last call's idle time, while tcpdump still runs, lets watch
        # see it end; analyze then reads the same capture end from that media
        deadline = time.monotonic() + 60
        for _ in range(12):
            time.sleep(1.0)
            sh(
                "ip",
                "netns",
                "exec",
                lab[1],
                sys.executable,
                "-c",
                f"import socket; socket.socket(2, 2).sendto(bytes([128, 0]) + bytes(10), ('{LEFT}', 9))",
            )
        told = told_lines(watch, deadline, len(calls))
        printed = read_as_printed(storyteller, deadline, lambda text: len(story_heads(text)) >= len(calls))
    finally:
        tcpdump.terminate()
        try:
            tcpdump.wait(timeout=10)
        finally:
            tcpdump.kill()
    rest = told_lines(watch, time.monotonic() + 30, 10)
    watch.wait(timeout=30)
    tee.wait(timeout=10)
    printed_later = read_as_printed(storyteller, time.monotonic() + 30, lambda text: False)
    storyteller.wait(timeout=30)
    assert [c["connected"] for c in calls] == ["True", "False", "True"], "the agents' own outcome"
    assert not rest, "every call was told while tcpdump still ran, none again at the end"
    # once each, in the order placed, each as its call ended (nothing of it for --idle seconds)
    assert [sorted((o["controlling"]["ufrag"], o["controlled"]["ufrag"])) for o in told] == [
        sorted((c["left"], c["right"])) for c in calls
    ]
    assert [o["ended"]["reason"] for o in told] == ["idle"] * 3
    assert [o["outcome"] for o in told] == ["connected", "failed", "connected"]
    # the same calls told as stories while tcpdump ran: head (why it ended, outcome, cause), then
    # the story itself
    heads = story_heads(printed)
    assert not story_heads(printed_later), "every story was printed while tcpdump still ran"
    assert [h.split(" ended (")[0].removeprefix("== ") for h in heads] == [o["session"] for o in told]
    for head, obj in zip(heads, told, strict=True):
        assert f"): {obj['outcome'].upper()}" in head and head.endswith(f", cause {obj['cause_code'] or '-'}")
    assert printed.decode().count("component 1: pairs by priority") == len(calls)
    later = subprocess.run(
        [*ICETRACE, "analyze", str(saved), "--json-lines", "-"], capture_output=True, check=True, timeout=60
    )
    whole = {
        tuple(sorted((o["controlling"]["ufrag"], o["controlled"]["ufrag"]))): o
        for o in map(json.loads, later.stdout.decode().splitlines())
    }
    for obj in told:
        same = whole[tuple(sorted((obj["controlling"]["ufrag"], obj["controlled"]["ufrag"])))]
        for key in ("outcome", "connectivity", "cause_code", "errors", "warnings", "components", "verdicts"):
            assert without_captures(obj[key]) == without_captures(same[key]), (obj["session"], key)


def test_watch_follows_a_dumpcap_ring_buffer(lab: tuple[str, str], tmp_path: Path) -> None:
    """A real dumpcap writes a ring buffer (a new file every second) while two calls are placed;
    watch follows the folder and tells each call once, in order, while dumpcap still runs."""
    assert shutil.which("dumpcap"), "dumpcap comes with tshark (scripts/setup.sh)"
    ring = tmp_path / "ring"
    ring.mkdir()
    dumpcap = subprocess.Popen(
        ["ip", "netns", "exec", lab[0], "dumpcap", "-q", "-i", "icwa", "-f", "udp", "-b", "duration:1"]
        + ["-w", str(ring / "ring.pcapng")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    watch = subprocess.Popen(
        [*ICETRACE, "watch", str(ring), "--idle", str(IDLE), "--json-lines"], stdout=subprocess.PIPE
    )
    try:
        time.sleep(2.0)  # dumpcap is listening
        calls = [place_call(lab, tmp_path / "call1", 10), place_call(lab, tmp_path / "call2", 10)]
        deadline = time.monotonic() + 60
        for _ in range(10):  # traffic after the calls: the capture's clock and the ring move on
            time.sleep(1.0)
            poke = f"import socket; socket.socket(2, 2).sendto(bytes([128, 0]) + bytes(10), ('{LEFT}', 9))"
            sh("ip", "netns", "exec", lab[1], sys.executable, "-c", poke)
        told = told_lines(watch, deadline, len(calls))
        files = sorted(p.name for p in ring.iterdir())
    finally:
        dumpcap.terminate()
        try:
            dumpcap.wait(timeout=10)
        finally:
            dumpcap.kill()
        watch.send_signal(signal.SIGINT)  # watch follows the folder until interrupted
        watch.wait(timeout=30)
    assert len(files) > 3, "dumpcap rotated its ring buffer"
    assert [c["connected"] for c in calls] == ["True", "True"], "the agents' own outcome"
    assert [sorted((o["controlling"]["ufrag"], o["controlled"]["ufrag"])) for o in told] == [
        sorted((c["left"], c["right"])) for c in calls
    ]
    assert [(o["outcome"], o["ended"]["reason"]) for o in told] == [("connected", "idle")] * 2
