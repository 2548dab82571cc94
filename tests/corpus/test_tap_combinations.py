"""The aioice recordings' three taps in every combination: one story, every check counted once.

Each tap sees part of the call (the left LAN, the public segment, the right LAN); given together,
the same transaction at two taps is one check. A check's pair is named as the controlling (left)
agent sees it, so its name comes from the tap nearest that agent which saw the check: the left LAN,
then the public segment, then the right LAN.
"""

from __future__ import annotations

import itertools

import pytest

from icetrace.analysis import Analysis
from icetrace.ice.addresses import private_address
from icetrace.records.endpoint import Endpoint
from tests.corpus.taps import TAPS, media_on_selected, tap_analysis
from tests.corpus.truth import CAPTURES, load_truth

SCENARIOS = [
    "aioice-direct",
    "aioice-relay-only",
    "aioice-symmetric",
    "aioice-turn-tcp",
    "aioice-failure",
    "libnice-rfc5245",
    "libnice-ice-lite",
    "libnice-oc2007r2",
    "baresip-kamailio",
    "baresip-relay-only",
]  # libnice-oc2007 puts no role on the wire: which agent controls is a guess that depends on the taps
COMBINATIONS = [c for n in (2, 3) for c in itertools.combinations(TAPS, n)]


def pair_of_each_check(a: Analysis) -> dict[str, tuple[str, str]]:
    """Transaction id -> the pair its check landed on, for ids sent once (not on two paths)."""
    counts = a.checks.transaction_id.value_counts()
    return {
        c.transaction.request.transaction_id: (str(c.pair.controlling.address), str(c.pair.controlled.address))
        for c in a.reconstruction.checks
        if c.pair is not None and counts[c.transaction.request.transaction_id] == 1
    }


def on_selected(a: Analysis) -> dict[str, set[str]]:
    """The transaction ids of the first component's selected pair's checks, by sender and by whether
    they were answered."""
    out: dict[str, set[str]] = {"controlling": set(), "controlled": set(), "answered": set()}
    for check in a.reconstruction.checks:
        t, stream, pair, sender = check.transaction, check.stream, check.pair, check.sender
        if stream is None or pair is None or stream.components[0].selected is not pair:
            continue
        role = "controlling" if stream.controlling is not None and stream.controlling.name == sender else "controlled"
        out[role].add(t.request.transaction_id)
        if t.response is not None:
            out["answered"].add(t.request.transaction_id)
    return out


def selected(a: Analysis) -> dict | None:
    doc = a.to_dict()
    return doc["streams"][0]["components"][0]["selected"] if doc["streams"] else None


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("taps", COMBINATIONS, ids="+".join)
def test_taps_together_tell_one_story(name, taps):
    merged = tap_analysis(name, taps)
    alone = {tap: tap_analysis(name, (tap,)) for tap in taps}
    # every check once: a transaction id as often as the tap that saw it most often has it (once,
    # unless the agent sent it on two paths), and every one any tap saw
    per_tap = [a.checks.transaction_id.value_counts() for a in alone.values()]
    counts = merged.checks.transaction_id.value_counts()
    assert set(counts.index) == set().union(*(set(c.index) for c in per_tap))
    for tid, count in counts.items():
        assert count == max(c.get(tid, 0) for c in per_tap), tid
    assert len(merged.reconstruction.streams) <= 1
    assert "D9" not in {v.code for v in merged.verdict_list}  # no one-way phantom
    # the selected pair's media counted once per direction and kind: as the tap that saw the most of it
    singles = [media_on_selected(a) for a in alone.values()]
    assert media_on_selected(merged) == {k: max(m.get(k, 0) for m in singles) for k in set().union(*singles)}
    # each check on the pair the tap nearest the controlling agent names
    named = pair_of_each_check(merged)
    for tid, pair in named.items():
        nearest = next((tap for tap in taps if tid in pair_of_each_check(alone[tap])), None)
        if nearest is not None:
            assert pair == pair_of_each_check(alone[nearest])[tid], (tid, nearest)
    # the selected pair: named as by the tap nearest the controlling agent, holding every check
    # that any tap put on its own selected pair, each counted once
    chosen = selected(merged)
    seen = [selected(alone[tap]) for tap in taps if selected(alone[tap]) is not None]
    if not seen:
        assert chosen is None
        return
    assert chosen is not None
    assert (chosen["controlling"]["address"], chosen["controlled"]["address"]) == (
        seen[0]["controlling"]["address"],
        seen[0]["controlled"]["address"],
    )
    everywhere = {k: set().union(*(on_selected(a)[k] for a in alone.values())) for k in on_selected(merged)}
    assert on_selected(merged) == everywhere
    assert chosen["checks_by_controlling"] == len(everywhere["controlling"])
    assert chosen["checks_by_controlled"] == len(everywhere["controlled"])
    assert chosen["answers_to_controlling"] + chosen["answers_to_controlled"] == len(everywhere["answered"])
    for view in seen:
        assert chosen["requests_by_controlling"] >= view["requests_by_controlling"]
        assert chosen["requests_by_controlled"] >= view["requests_by_controlled"]


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("taps", COMBINATIONS, ids="+".join)
def test_nat_mappings_join_each_lan_to_its_public_side(name, taps):
    mappings = {(m.inside, m.outside) for m in tap_analysis(name, taps).reconstruction.nat_mappings}
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


def test_one_transaction_sent_on_two_paths_is_two_checks():
    """baresip 1.0 sent one transaction through its relay and directly; the public tap saw both.
    No NAT turns a relayed address into a server-reflexive one: two checks on two pairs, no mapping."""
    a = tap_analysis("baresip-kamailio", ("public",))
    counts = a.checks.transaction_id.value_counts()
    reused = [tid for tid, n in counts.items() if n > 1]
    assert reused
    for tid in reused:
        checks = [
            (c.transaction, c.pair) for c in a.reconstruction.checks if c.transaction.request.transaction_id == tid
        ]
        assert len({id(pair) for _t, pair in checks}) == len(checks)
        assert {t.relayed for t, _pair in checks} == {True, False}
        assert all(not t.other_views for t, _pair in checks)
    assert a.reconstruction.nat_mappings == []
