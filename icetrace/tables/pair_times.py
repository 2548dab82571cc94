"""When each candidate pair did what, as the capture shows it: first answered, nominated, carried media.

Read side by side, these tell which pair worked first and when the call moved to another (a relay
answering while the direct pair's checks still go unanswered, then media starting on the direct
pair): the pairs table's timeline columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from icetrace.ice.carried_media import carried_by
from icetrace.ice.model import Pair
from icetrace.ice.reconstruction import Reconstruction
from icetrace.ice.selection import MediaIndex
from icetrace.ice.transactions import Transaction


@dataclass(frozen=True)
class PairTimes:
    first_success: float | None = None  # its first check answered with success
    nominated_at: float | None = None  # the check that nominated it answered (USE-CANDIDATE or NOMINATION)
    media_first: float | None = None  # the first media packet it carried, either way
    media_last: float | None = None
    media_packets: int = 0  # both ways, each flow once however many captures or relay legs saw it


def pair_times(rec: Reconstruction) -> dict[int, PairTimes]:
    """Each pair's times, by id(pair)."""
    checks: dict[int, list[Transaction]] = {}
    for c in rec.checks:
        if c.pair is not None:
            checks.setdefault(id(c.pair), []).append(c.transaction)
    media = MediaIndex([*rec.media, *rec.relayed_media])
    return {
        id(p): _times(p, checks.get(id(p), []), media, rec)
        for s in rec.streams
        for comp in s.components
        for p in comp.pairs
    }


def _times(pair: Pair, checks: list[Transaction], media: MediaIndex, rec: Reconstruction) -> PairTimes:
    answered = [t.response.time for t in checks if t.outcome == "success" and t.response is not None]
    nominating = [
        t.response.time
        for t in checks
        if t.outcome == "success"
        and t.response is not None
        and (t.request.use_candidate or t.request.nomination is not None)
    ]
    by_check = pair.nominated_by in ("use-candidate", "nomination")
    flows = carried_by(pair, media.on(pair), rec.captures.tap)
    return PairTimes(
        first_success=min(answered, default=None),
        nominated_at=min(nominating, default=None) if by_check else None,
        media_first=min((f.first_time for f in flows), default=None),
        media_last=max((f.last_time for f in flows), default=None),
        media_packets=sum(f.packets for f in flows),
    )
