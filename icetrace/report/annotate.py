"""The analysis as packet comments: what to say on each frame that matters.

Short notes a Wireshark user can filter on (`frame.comment contains "D8"`): each check with
its pair and direction, its answer with the round-trip time, nomination and selection, TURN
allocations and other gathering transactions, each stream's cause and each verdict on its evidence frames.
"""

from __future__ import annotations

from collections import defaultdict

from icetrace.analysis import Analysis
from icetrace.ice.integrity import transaction_key
from icetrace.ice.model import IceCandidate, Pair, Stream
from icetrace.ice.reconstruction import Reconstruction
from icetrace.ice.transactions import Transaction
from icetrace.records.capture_set import capture_index, frame_id, frame_number


def _side(c: IceCandidate) -> str:
    return f"{c.type} {c.address}"


def pair_label(p: Pair) -> str:
    return f"{_side(p.controlling)} → {_side(p.controlled)} {p.transport}"


def _direction(stream: Stream | None, sender: str | None) -> str:
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


class _Notes:
    """Comments by frame number, each said once, in the order they were added."""

    def __init__(self) -> None:
        self.by_frame: dict[int, list[str]] = defaultdict(list)

    def add(self, frame: int | None, text: str) -> None:
        if frame is not None and text not in self.by_frame[frame]:
            self.by_frame[frame].append(text)


def frame_notes(analysis: Analysis) -> dict[int, list[str]]:
    """Comments by frame number, in the order they should read."""
    rec = analysis.reconstruction
    notes = _Notes()
    check_ids = _check_notes(rec, notes)
    _selection_notes(rec, notes)
    _transaction_notes(rec, notes, check_ids)
    for a in rec.allocations:
        lifetime = f", lifetime {a.lifetime} s" if a.lifetime is not None else ""
        notes.add(
            a.frame,
            f"allocation {a.client} → {a.server} {a.transport}: relayed {a.relayed}, mapped {a.mapped}{lifetime}",
        )
    for cause in [s.cause for s in rec.streams if s.cause is not None]:
        for frame in cause.evidence_frames:
            notes.add(frame, f"cause {cause.code}: {cause.summary}")
    for v in analysis.verdict_list:
        for frame in v.frames:
            notes.add(frame, f"{v.code}: {v.message}")
    if rec.captures.several:  # each file's comments say which reading the analysis took
        for index in range(len(rec.captures.names)):
            frames = [f for f in notes.by_frame if capture_index(f) == index]
            notes.add(min(frames) if frames else frame_id(index, 1), rec.captures.note)
    return {frame: texts for frame, texts in notes.by_frame.items() if texts}


def notes_per_capture(analysis: Analysis, captures: int) -> list[dict[int, list[str]]]:
    """`frame_notes` split by the capture each frame is in, numbered as in that capture."""
    out: list[dict[int, list[str]]] = [{} for _ in range(captures)]
    for frame, texts in frame_notes(analysis).items():
        index = capture_index(frame)
        if index < captures:
            out[index][frame_number(frame)] = texts
    return out


def _check_notes(rec: Reconstruction, notes: _Notes) -> set[int]:
    """Each check's requests and answers, with its pair and direction; returns the checks' ids."""
    check_ids = set()
    for check in rec.checks:
        t, stream, pair, sender = check.transaction, check.stream, check.pair, check.sender
        check_ids.add(id(t))
        what = f"pair {pair_label(pair)}" if pair is not None else f"{t.src} → {t.dst} (no pair)"
        how = " relayed" if t.relayed else ""
        integrity = rec.integrity.get(transaction_key(t))
        bad = " integrity bad" if integrity is not None and integrity.request == "bad" else ""
        for view in (t, *t.other_views):  # the copies other taps saw get their notes in their files
            for n, req in enumerate(view.requests):
                again = f" retransmission {n}" if n else ""
                flag = " USE-CANDIDATE" if req.use_candidate else ""
                notes.add(req.frame, f"check {_direction(stream, sender)}{how} {what}{again}{flag}{bad}")
            for n, resp in enumerate(view.responses):
                answer = _answer(t) if n == 0 else f"{resp.cls} (repeated answer)"
                notes.add(resp.frame, f"check {answer} {what}")
            if view.response is None:
                notes.add(view.requests[-1].frame, f"check {t.outcome} {what}")
    return check_ids


def _selection_notes(rec: Reconstruction, notes: _Notes) -> None:
    """Nominations, the selected pair of each component and the media it carried."""
    for stream in rec.streams:
        for comp in stream.components:
            for pair in comp.pairs:
                if pair.nominated:
                    notes.add(pair.nomination_frame, f"nominated ({pair.nominated_by}) pair {pair_label(pair)}")
            chosen = comp.selected
            if chosen is None:
                continue
            flows = [f for f in stream.media_flows or rec.media if chosen.carries(f.src, f.dst)]
            where = chosen.nomination_frame
            if where is None and flows:
                where = min(f.first_frame for f in flows)
            if where is None and chosen.frames:
                where = max(chosen.frames)
            notes.add(where, f"selected pair {pair_label(chosen)} ({chosen.selected_because or comp.selected_by})")
            for f in flows:
                notes.add(f.first_frame, f"media {f.kind} on the selected pair: {f.packets} packets {f.src} → {f.dst}")


def _transaction_notes(rec: Reconstruction, notes: _Notes, check_ids: set[int]) -> None:
    """The other transactions (gathering, TURN), unless a check's note already covers the frame."""
    check_frames = set(notes.by_frame)
    for t in rec.transactions:
        if id(t) in check_ids or t.request.frame in check_frames:
            continue  # a TURN Send that carries a check: the check's note says it all
        name = f"{t.request.method} {t.src} → {t.dst}" + (" relayed" if t.relayed else "")
        for n, req in enumerate(t.requests):
            notes.add(req.frame, f"{name}" + (f" retransmission {n}" if n else ""))
        if t.response is not None:
            notes.add(t.response.frame, f"{name} {_answer(t)}")
        else:
            notes.add(t.requests[-1].frame, f"{name} {t.outcome}")
