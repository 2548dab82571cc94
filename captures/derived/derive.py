"""Captures cut from the project's own recordings (captures/real/) the way captures reach users:
started late, holding one direction of a TCP connection, or split into the pieces of a ring buffer.

Run `python captures/derived/derive.py [OUT_DIR]` (default: this folder); the cutting is done by
Wireshark's own tools (editcap, tshark), writing pcap, so the same inputs give the same bytes
(`tests/corpus/test_derived_captures.py` regenerates every folder and compares). Each folder's
`truth.json` is its recording's truth (the agents' own report of the call) with what the cut
leaves visible, written from how the cut was made, never from icetrace's output.

| folder | cut from | how |
|---|---|---|
| chromium-relay-late | real/chromium-relay left-lan.pcap, public.pcap | every frame after the ChannelBind success (the last one on the public tap): the capture starts after the Allocates and ChannelBinds, mid-call |
| aioice-turn-tcp-halves | real/aioice-turn-tcp left-lan.pcap | the left agent's packets only (`client-to-server.pcap`) and the packets to it only (`server-to-client.pcap`): each direction of its TCP TURN connection captured apart |
| chromium-relay-ring | real/chromium-relay public.pcap | `editcap -c 500`: three consecutive files of one capture, as a ring buffer (dumpcap `-b`) leaves them |
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTIAL = "unknown:partial-capture"  # docs/causes.md: the capture lacks what would decide (one direction)
REAL = HERE.parent / "real"


def _run(*command: str) -> str:
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return done.stdout


def _frames_of(capture: Path, display_filter: str) -> list[int]:
    """Frame numbers tshark shows for a display filter."""
    out = _run("tshark", "-r", str(capture), "-Y", display_filter, "-T", "fields", "-e", "frame.number")
    return [int(line) for line in out.split()]


def _from_frame(source: Path, first: int, out: Path) -> None:
    """Every frame from `first` on, as pcap."""
    _run("editcap", "-F", "pcap", "-r", str(source), str(out), f"{first}-{1 << 31}")


def _filtered(source: Path, display_filter: str, out: Path) -> None:
    _run("tshark", "-r", str(source), "-Y", display_filter, "-F", "pcap", "-w", str(out))


def _truth(recording: str, scenario: str, description: str, vantage: dict, facts: dict, cut_from: dict) -> dict:
    """The recording's truth about the call, with what this cut is and what it leaves out; each cut
    (`cut_from`: the recording's tap it was cut from) sits where that tap does."""
    source = json.loads((REAL / recording / "truth.json").read_text())
    truth = {
        "scenario": scenario,
        "description": description,
        "derived_from": f"real/{recording}",
        "expected_outcome": source["expected_outcome"],
        "vantage_points": vantage,
        "segments": {name: source["segments"][cut_from[name]] for name in vantage},
        "capture_facts": facts,
        "agents": source["agents"],
    }
    keys = ("expected_connectivity", "expected_cause", "nomination_style", "nomination_style_source")
    for key in (*keys, "candidate_types_signaled"):
        if key in source:
            truth[key] = source[key]
    return truth


def _write_truth(folder: Path, truth: dict) -> None:
    (folder / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")


CHANNEL_BIND_SUCCESS = "stun.type == 0x0109"


def late_start(out: Path) -> None:
    """The relayed call from after its ChannelBinds: ChannelData whose channel and relayed address
    the capture never names."""
    source = REAL / "chromium-relay"
    folder = out / "chromium-relay-late"
    folder.mkdir(parents=True, exist_ok=True)
    cuts = {}
    for tap in ("left-lan", "public"):
        first = max(_frames_of(source / f"{tap}.pcap", CHANNEL_BIND_SUCCESS)) + 1
        _from_frame(source / f"{tap}.pcap", first, folder / f"{tap}.pcap")
        cuts[tap] = first
    facts = {
        "left-lan.pcap": {
            "unobservable": ["relayed_address", "peer_address"],
            "why": "the capture starts after the TURN Allocate and ChannelBind: no Allocate answer names the "
            "relayed address, no ChannelBind the peer behind the channel, and only this client's leg is in it",
        },
        "public.pcap": {
            "unobservable": ["relayed_address"],
            "why": "the capture starts after the TURN Allocates and ChannelBinds: no Allocate answer names a "
            "relayed address (both clients' legs are in it, so each check shows the channel it leaves by and "
            "the one it arrives by)",
        },
    }
    vantage = {
        f"{tap}.pcap": f"real/chromium-relay {tap}.pcap from frame {first} (after the last ChannelBind success)"
        for tap, first in cuts.items()
    }
    _write_truth(
        folder,
        _truth(
            "chromium-relay",
            "chromium-relay-late",
            "Two Chromium browsers relayed through coturn, captured from after the ChannelBinds: checks and media "
            "ride ChannelData whose relayed address and peer the capture never shows.",
            vantage,
            facts,
            {f"{tap}.pcap": f"{tap}.pcap" for tap in cuts},
        ),
    )


def tcp_halves(out: Path) -> None:
    """One TCP TURN connection, each direction captured apart."""
    source = REAL / "aioice-turn-tcp" / "left-lan.pcap"
    folder = out / "aioice-turn-tcp-halves"
    folder.mkdir(parents=True, exist_ok=True)
    client = "192.168.1.10"
    _filtered(source, f"ip.src == {client}", folder / "client-to-server.pcap")
    _filtered(source, f"ip.dst == {client}", folder / "server-to-client.pcap")
    facts = {
        "client-to-server.pcap": {
            "unobservable": ["relayed_address", "succeeded", "connectivity", "outcome", "selected"],
            "cause": PARTIAL,
            "why": "only the left agent's own packets: no answer from coturn or the peer is in it, so no check "
            "is seen to succeed and nothing to be selected (its own checks, nominations and media are all in it); "
            "the capture lacks what would decide a cause: one direction",
        },
        "server-to-client.pcap": {
            "unobservable": ["peer_address", "succeeded", "connectivity", "nomination_style", "outcome", "selected"],
            "cause": PARTIAL,
            "why": "only the packets to the left agent: no request of its own (no check of the controlling agent, "
            "so no nomination), no ChannelBind request naming the peer; the answers to its checks arrive without "
            "the requests they answer, so no check is seen to succeed; the capture lacks what would decide a "
            "cause: one direction",
        },
    }
    vantage = {
        "client-to-server.pcap": f"real/aioice-turn-tcp left-lan.pcap, packets from {client} only",
        "server-to-client.pcap": f"real/aioice-turn-tcp left-lan.pcap, packets to {client} only",
    }
    _write_truth(
        folder,
        _truth(
            "aioice-turn-tcp",
            "aioice-turn-tcp-halves",
            "Two aioice agents relayed through coturn over TCP; the left agent's LAN tap holds one direction of "
            "its TCP connection to coturn in each file.",
            vantage,
            facts,
            dict.fromkeys(vantage, "left-lan.pcap"),
        ),
    )


RING_PACKETS = 500


def ring_buffer(out: Path) -> None:
    """The public tap as the consecutive files of a ring buffer: one timeline, not three taps."""
    source = REAL / "chromium-relay" / "public.pcap"
    folder = out / "chromium-relay-ring"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("public_*.pcap"):
        old.unlink()  # pieces of an earlier cut (their golden files stay: `icetrace check` keeps those)
    with tempfile.TemporaryDirectory() as tmp:
        _run("editcap", "-F", "pcap", "-c", str(RING_PACKETS), str(source), str(Path(tmp) / "public.pcap"))
        pieces = sorted(Path(tmp).glob("public_*.pcap"))
        for piece in pieces:
            shutil.copyfile(piece, folder / piece.name)
    names = [p.name for p in pieces]
    vantage = {
        name: f"real/chromium-relay public.pcap frames {i * RING_PACKETS + 1}-{(i + 1) * RING_PACKETS} "
        f"(editcap -c {RING_PACKETS}, piece {i + 1} of {len(names)})"
        for i, name in enumerate(names)
    }
    why = (
        "a later piece of the ring buffer: the Allocates and ChannelBinds are in the first piece; its checks "
        "(consent checks) ride ChannelData, on both clients' legs, and no Allocate answer names a relayed address"
    )
    facts = {name: {"unobservable": ["relayed_address"], "why": why} for name in names[1:]}
    _write_truth(
        folder,
        _truth(
            "chromium-relay",
            "chromium-relay-ring",
            f"The public tap of a relayed Chromium call split by editcap -c {RING_PACKETS}, as a ring buffer leaves "
            "it: given together, the pieces are one capture's timeline.",
            vantage,
            facts,
            dict.fromkeys(vantage, "public.pcap"),
        ),
    )


def write(out: Path = HERE) -> None:
    late_start(out)
    tcp_halves(out)
    ring_buffer(out)


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
