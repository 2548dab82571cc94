"""The aioice recordings' three taps in every combination: one story, every check counted once.

Each tap sees part of the call (the left LAN, the public segment, the right LAN); given together,
the same transaction at two taps is one check. A check's pair is named as the controlling (left)
agent sees it, so its name comes from the tap nearest that agent which saw the check: the left LAN,
then the public segment, then the right LAN.
"""

from __future__ import annotations

import itertools

import pytest

import icetrace
from icetrace.analysis import Analysis
from icetrace.ice.addresses import private_address
from icetrace.records.endpoint import Endpoint
from tests.corpus.truth import CAPTURES, load_truth

SCENARIOS = ["aioice-direct", "aioice-relay-only", "aioice-symmetric", "aioice-turn-tcp", "aioice-failure"]
TAPS = ("left-lan", "public", "right-lan")  # nearest the controlling agent first
COMBINATIONS = [c for n in (2, 3) for c in itertools.combinations(TAPS, n)]
_cache: dict[tuple[str, tuple[str, ...]], Analysis] = {}


def analysis(name: str, taps: tuple[str, ...]) -> Analysis:
    if (name, taps) not in _cache:
        _cache[(name, taps)] = icetrace.analyze([CAPTURES / "real" / name / f"{tap}.pcap" for tap in taps])
    return _cache[(name, taps)]


def pair_of_each_check(a: Analysis) -> dict[str, tuple[str, str]]:
    return {
        t.request.transaction_id: (str(pair.controlling.address), str(pair.controlled.address))
        for t, _stream, pair, _sender in a.reconstruction.checks
        if pair is not None
    }


def media_on_selected(a: Analysis) -> set[tuple[str, str]]:
    return {(str(f.src), str(f.dst)) for s in a.streams for f in s.media_flows}


def selected(a: Analysis) -> dict | None:
    doc = a.to_dict()
    return doc["streams"][0]["components"][0]["selected"] if doc["streams"] else None


COUNTS = ("checks_by_controlling", "checks_by_controlled", "answers_to_controlling", "answers_to_controlled")


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("taps", COMBINATIONS, ids="+".join)
def test_taps_together_tell_one_story(name, taps):
    merged = analysis(name, taps)
    alone = {tap: analysis(name, (tap,)) for tap in taps}
    # every check once: as many checks as distinct transactions, and all that any tap saw
    checks = merged.checks
    assert len(checks) == checks.transaction_id.nunique()
    assert set(checks.transaction_id) == set().union(*(set(a.checks.transaction_id) for a in alone.values()))
    assert len(merged.streams) <= 1
    assert "D9" not in {v.code for v in merged.verdict_list}  # no one-way phantom
    # the selected pair's media as every tap saw it, on either side of the NATs
    assert media_on_selected(merged) == set().union(*(media_on_selected(a) for a in alone.values()))
    # each check on the pair the tap nearest the controlling agent names
    named = pair_of_each_check(merged)
    for tid, pair in named.items():
        nearest = next(tap for tap in taps if tid in pair_of_each_check(alone[tap]))
        assert pair == pair_of_each_check(alone[nearest])[tid], (tid, nearest)
    # the selected pair: the same in every combination, with the same counts as each tap alone
    chosen = selected(merged)
    seen = [selected(alone[tap]) for tap in taps if selected(alone[tap]) is not None]
    if not seen:
        assert chosen is None
        return
    assert chosen is not None
    nearest_view = seen[0]
    assert (chosen["controlling"]["address"], chosen["controlled"]["address"]) == (
        nearest_view["controlling"]["address"],
        nearest_view["controlled"]["address"],
    )
    for view in seen:
        assert [chosen[k] for k in COUNTS] == [view[k] for k in COUNTS]
        assert chosen["requests_by_controlling"] >= view["requests_by_controlling"]
        assert chosen["requests_by_controlled"] >= view["requests_by_controlled"]


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("taps", COMBINATIONS, ids="+".join)
def test_nat_mappings_join_each_lan_to_its_public_side(name, taps):
    mappings = {(m.inside, m.outside) for m in analysis(name, taps).reconstruction.nat_mappings}
    for inside, outside in mappings:  # the routers here are the only NATs: LAN side in, public side out
        assert private_address(inside.ip) and not private_address(outside.ip), (inside, outside)
    truth = load_truth(CAPTURES / "real" / name)
    for agent in ("left", "right"):
        if f"{agent}-lan" not in taps or name != "aioice-direct":
            continue
        # the agents' own server-reflexive candidates are what their NATs made of their bases
        (component,) = truth["agents"][agent]["streams"][0]["components"]
        srflx = [c for c in component["local_candidates"] if c["type"] == "srflx"]
        assert srflx
        for c in srflx:
            assert (Endpoint.parse(c["related"]), Endpoint.parse(c["address"])) in mappings
