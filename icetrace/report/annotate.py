"""The analysis as packet comments: what to say on each frame that matters.

Short notes a Wireshark user can filter on (`frame.comment contains "D8"`): each check with
its pair and direction, its answer with the round-trip time, nomination and selection, TURN
allocations and other gathering transactions, and each verdict on its evidence frames.
"""

from __future__ import annotations

from collections import defaultdict

from icetrace.analysis import Analysis
from icetrace.ice.integrity import transaction_key
from icetrace.ice.model import IceCandidate, Pair, Stream
from icetrace.ice.transactions import Transaction


def _side(c: IceCandidate) -> str:
    return f"{c.type} {c.address}"


def pair_label(p: Pair) -> str:
    return f"{_side(p.controlling)} → {_side(p.controlled)} {p.transport}"


def _direction(stream: Stream | None, sender: str) -> str:
    if stream is not None and stream.controlling is not None and sender == stream.controlling.name:
        return "c→d"
    if stream is not None and stream.controlled is not None and sender == stream.controlled.name:
        return "d→c"
    return "?→?"


def _answer(t: Transaction) -> str:
    response = t.response
    if response is None:
        return ""
    if response.cls == "success":
        return f"success rtt {t.rtt_ms:.1f} ms" if t.rtt_ms is not None else "success"
    reason = f" {response.error_reason}" if response.error_reason else ""
    return f"error {response.error_code}{reason}"


def frame_notes(analysis: Analysis) -> dict[int, list[str]]:
    """Comments by frame number, in the order they should read."""
    rec = analysis.reconstruction
    notes: dict[int, list[str]] = defaultdict(list)

    def add(frame: int | None, text: str) -> None:
        if frame is not None and text not in notes[frame]:
            notes[frame].append(text)

    check_ids = set()
    for t, stream, pair, sender in rec.checks:
        check_ids.add(id(t))
        what = f"pair {pair_label(pair)}" if pair is not None else f"{t.src} → {t.dst} (no pair)"
        how = " relayed" if t.relayed else ""
        integrity = rec.integrity.get(transaction_key(t))
        bad = " integrity bad" if integrity is not None and integrity.request == "bad" else ""
        for n, req in enumerate(t.requests):
            again = f" retransmission {n}" if n else ""
            flag = " USE-CANDIDATE" if req.use_candidate else ""
            add(req.frame, f"check {_direction(stream, sender)}{how} {what}{again}{flag}{bad}")
        for n, resp in enumerate(t.responses):
            answer = _answer(t) if n == 0 else f"{resp.cls} (repeated answer)"
            add(resp.frame, f"check {answer} {what}")
        if t.response is None:
            add(t.requests[-1].frame, f"check {t.outcome} {what}")

    for stream in rec.streams:
        for comp in stream.components:
            for pair in comp.pairs:
                if pair.nominated:
                    add(pair.nomination_frame, f"nominated ({pair.nominated_by}) pair {pair_label(pair)}")
            chosen = comp.selected
            if chosen is None:
                continue
            flows = [f for f in stream.media_flows or rec.media if chosen.carries(f.src, f.dst)]
            where = chosen.nomination_frame
            if where is None and flows:
                where = min(f.first_frame for f in flows)
            if where is None and chosen.frames:
                where = max(chosen.frames)
            add(where, f"selected pair {pair_label(chosen)} ({chosen.selected_because or comp.selected_by})")
            for f in flows:
                add(f.first_frame, f"media {f.kind} on the selected pair: {f.packets} packets {f.src} → {f.dst}")

    check_frames = set(notes)
    for t in rec.transactions:
        if id(t) in check_ids or t.request.frame in check_frames:
            continue  # a TURN Send that carries a check: the check's note says it all
        name = f"{t.request.method} {t.src} → {t.dst}" + (" relayed" if t.relayed else "")
        for n, req in enumerate(t.requests):
            add(req.frame, f"{name}" + (f" retransmission {n}" if n else ""))
        if t.response is not None:
            add(t.response.frame, f"{name} {_answer(t)}")
        else:
            add(t.requests[-1].frame, f"{name} {t.outcome}")

    for a in rec.allocations:
        lifetime = f", lifetime {a.lifetime} s" if a.lifetime is not None else ""
        add(
            a.frame,
            f"allocation {a.client} → {a.server} {a.transport}: relayed {a.relayed}, mapped {a.mapped}{lifetime}",
        )

    for v in analysis.verdict_list:
        for frame in v.frames:
            add(frame, f"{v.code}: {v.message}")
    return {frame: texts for frame, texts in notes.items() if texts}
