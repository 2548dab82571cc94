"""Every capture of a recording with a truth.json against that truth, on everything the truth knows.

Both icetrace's fresh answer (with the companions `icetrace check` gives it) and the committed golden
file are compared, so `icetrace check --update` cannot bless a wrong answer: the selected pair per
component with the roles and candidate types, the succeeded pairs, the pairs the agents saw fail,
the nominated pairs (a golden file writes them where they are not just the selected pair), the
outcome, connectivity, nomination style, cause, the number of ICE streams and the verdicts the truth
requires or rules out; in the fresh answer also the severities, which a golden file does not keep
(tests/corpus/truth_facts.py says how a truth becomes what a capture shows, and which tap must name
the cause itself).
Which facts each truth holds is written down in docs/testing.md, generated from the truth files.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from icetrace.corpus.companions import GOLDEN_SUFFIX, discover
from icetrace.corpus.worker import run_task
from tests import testdata
from tests.corpus import truth_facts as tf
from tests.corpus.truth import CAPTURES, schema_problems

TESTING_DOC = testdata.ROOT / "docs" / "testing.md"


def _truth_folders() -> list[Path]:
    return [p.parent for p in testdata.files(CAPTURES, "*/*/truth.json") if p.parent.parent.name != "public"]


def _captures() -> list:
    """(folder, capture name) for every capture `check` judges in a folder with a truth file."""
    cases = []
    for folder in _truth_folders():
        for golden in sorted(folder.glob(f"*{GOLDEN_SUFFIX}")):
            name = golden.name[: -len(GOLDEN_SUFFIX)]
            cases.append(pytest.param(folder, name, id=f"{folder.parent.name}/{folder.name}/{name}"))
    return cases or [testdata.missing("no golden files beside a truth.json under captures/", arity=2)]


def _fresh(folder: Path, name: str) -> dict:
    """What `icetrace check --update` would write now, with every component's nominated pairs and the
    verdicts' severities beside it (`truth_facts.answer`)."""
    (task,) = [t for t in discover([str(folder)]) if Path(t.capture).name == name]
    outcome = run_task(task, tf.answer, "summary")
    assert outcome.summary is not None, outcome.error or outcome.crash
    return outcome.summary


@pytest.mark.parametrize("folder, name", _captures())
def test_golden_file_agrees_with_the_truth(folder, name):
    truth = tf.load(folder)
    golden = json.loads((folder / f"{name}{GOLDEN_SUFFIX}").read_text())
    assert tf.problems(golden, tf.expected(truth, name)) == []


@pytest.mark.parametrize("folder, name", _captures())
def test_fresh_answer_agrees_with_the_truth(folder, name):
    truth = tf.load(folder)
    answer = _fresh(folder, name)
    assert all("nominated" in c for _, s in tf._streams(answer) for c in s["components"].values())
    assert "severities" in answer
    assert tf.problems(answer, tf.expected(truth, name)) == []


@pytest.mark.parametrize("folder", _truth_folders() or [testdata.missing("no truth.json")], ids=lambda p: p.name)
def test_every_vantage_point_is_judged(folder):
    """Each capture the truth names is checked, or is the same recording as one that is."""
    truth = tf.load(folder)
    assert schema_problems(truth) == []
    judged = {g.name[: -len(GOLDEN_SUFFIX)] for g in folder.glob(f"*{GOLDEN_SUFFIX}")}
    for name in truth["vantage_points"]:
        stem = name.rsplit(".", 1)[0]
        assert name in judged or f"{stem}.pcap" in judged, name
    assert set(truth.get("capture_facts", {})) <= set(truth["vantage_points"])


def test_the_comparison_holds_something_for_every_agent_recording():
    """No truth with agents reduces to nothing: each gives a selected pair, or an outcome of failure."""
    empty = []
    for folder in _truth_folders():
        truth = tf.load(folder)
        if not truth.get("agents"):
            continue
        for name in truth["vantage_points"]:
            exp = tf.expected(truth, name)
            held = [c for c in exp.components if c.selected or c.succeeded or c.failed]
            if exp.streams and not held and exp.outcome != "failed":
                empty.append(f"{folder.name}/{name}")
    assert empty == []


# -- the comparison itself catches what it is for ----------------------------------------------------


def _golden(relative: str) -> tuple[dict, tf.Expected]:
    folder = testdata.require(CAPTURES / relative).parent
    name = Path(relative).name[: -len(GOLDEN_SUFFIX)]
    return json.loads((CAPTURES / relative).read_text()), tf.expected(tf.load(folder), name)


def _only_stream(doc: dict) -> dict:
    (stream,) = [s for call in doc["calls"].values() for s in call["streams"].values()]
    return stream


def _swapped(label: str) -> str:
    pair = tf.Label.parse(label)
    return f"{pair.controlled} {pair.controlled_type} -> {pair.controlling} {pair.controlling_type} {pair.transport}"


def test_swapped_roles_are_caught():
    doc, exp = _golden("real/chromium-direct/left-lan.pcap.expected.json")
    comp = _only_stream(doc)["components"]["1"]
    comp["selected"] = _swapped(comp["selected"])
    assert any("selected" in p for p in tf.problems(doc, exp))


@pytest.mark.parametrize("style", ["regular", "none"])
def test_another_nomination_style_is_caught(style):
    doc, exp = _golden("real/aioice-direct/left-lan.pcap.expected.json")
    _only_stream(doc)["nomination_style"] = style
    assert [p for p in tf.problems(doc, exp) if "nomination_style" in p]


def test_a_failed_pair_shown_succeeded_is_caught():
    doc, exp = _golden("real/baresip-kamailio/left-lan.pcap.expected.json")
    comp = _only_stream(doc)["components"]["1"]
    comp["succeeded"].append(comp["failed"].pop())
    assert [p for p in tf.problems(doc, exp) if "the truth says it failed" in p]


def _host_pairs(comp: dict) -> list[str]:
    return [
        t for t in comp["failed"] if tf.Label.parse(t).controlling_type == tf.Label.parse(t).controlled_type == "host"
    ]


@pytest.mark.parametrize("tap", ["left-lan", "right-lan"])
def test_a_failed_host_pair_shown_succeeded_on_a_lan_tap_is_caught(tap):
    """On an agent's LAN tap the host-to-host pair both agents saw fail has the ends of the srflx
    pair's bases; the truth's segments say whose LAN the tap is on, where only that agent's own
    candidates show by their bases and the peer's private address only as its checks' destination.
    Without the segments the fault would pass."""
    doc, exp = _golden(f"real/baresip-kamailio/{tap}.pcap.expected.json")
    assert tf.problems(doc, exp) == []
    for comp in _only_stream(doc)["components"].values():
        (host,) = _host_pairs(comp)
        comp["failed"].remove(host)
        comp["succeeded"].append(host)
    assert len([p for p in tf.problems(doc, exp) if "the truth says it failed" in p]) == 2
    truth = tf.load(testdata.require(CAPTURES / "real" / "baresip-kamailio" / "truth.json").parent)
    del truth["segments"]
    assert tf.problems(doc, tf.expected(truth, f"{tap}.pcap")) == []


def test_a_selection_moved_to_the_failed_host_pair_on_a_lan_tap_is_caught():
    doc, exp = _golden("real/baresip-kamailio/left-lan.pcap.expected.json")
    comp = _only_stream(doc)["components"]["1"]
    (host,) = _host_pairs(comp)
    comp["selected"] = host
    assert [p for p in tf.problems(doc, exp) if "component 1: selected" in p]
    truth = tf.load(testdata.require(CAPTURES / "real" / "baresip-kamailio" / "truth.json").parent)
    del truth["segments"]
    assert tf.problems(doc, tf.expected(truth, "left-lan.pcap")) == []  # the srflx pair's bases, anywhere


def test_a_pair_the_network_refused_is_failed_where_the_refusal_is_seen():
    """The left router refuses the left agent's checks to the right NAT with ICMP: its LAN tap holds
    the errors, so the pair must read failed there (aioice itself keeps it in progress); the public
    tap never sees those checks."""
    doc, exp = _golden("real/aioice-direct-rejected/left-lan.pcap.expected.json")
    comp = _only_stream(doc)["components"]["1"]
    assert tf.problems(doc, exp) == [] and comp["failed"]
    comp["failed"] = []
    assert [p for p in tf.problems(doc, exp) if "not failed, the network refused it" in p]
    _, public = _golden("real/aioice-direct-rejected/public.pcap.expected.json")
    assert not [p for c in public.components for p in c.refused]


@pytest.mark.parametrize(
    ("relative", "severities", "caught"),
    [
        ("synthetic/agent_error_responses/capture.pcap.expected.json", {"D11": ["error"]}, True),
        ("synthetic/agent_error_responses/capture.pcap.expected.json", {"D11": ["warning"], "D9": ["info"]}, False),
        ("real/aioice-ice-credentials/left-lan.pcap.expected.json", {"D11": ["error"]}, False),  # the call failed
        ("real/baresip-kamailio/left-lan.pcap.expected.json", {"D8": ["info", "warning"]}, True),  # went direct
        ("real/aioice-direct-rejected/left-lan.pcap.expected.json", {"D8": ["warning"]}, False),  # relayed
        ("real/aioice-direct/left-lan.pcap.expected.json", {"D13": ["error"]}, False),  # no check verdict
    ],
)
def test_a_severity_says_whether_it_hurt_the_call(relative, severities, caught):
    """On a call the agents connected, a verdict about their checks is no error; on one that connected
    directly, an unanswered pair (D8) is info. The fresh answer carries each code's severities."""
    doc, exp = _golden(relative)
    doc["severities"] = severities
    assert bool([p for p in tf.problems(doc, exp) if "though the agents connected" in p]) == caught


def test_the_check_verdicts_are_the_checks_family():
    assert {"D8", "D9", "D11", "D11-INTEGRITY", "D12", "CHECK-ERROR"} <= tf.check_verdicts()
    assert not {"D13", "FAILED", "D25"} & tf.check_verdicts()


def test_a_segment_must_name_an_agent_the_public_segment_or_a_server():
    truth = tf.load(testdata.require(CAPTURES / "real" / "baresip-kamailio" / "truth.json").parent)
    assert schema_problems(truth) == []
    truth["segments"]["left-lan.pcap"] = "lan:nobody"
    truth["segments"]["elsewhere.pcap"] = "public"
    assert len(schema_problems(truth)) == 2


def test_a_pair_still_checking_shown_failed_is_caught():
    """aioice lists its check from the host base to the peer's private address as in progress when
    it stops: a golden file calling that pair failed contradicts it."""
    doc, exp = _golden("real/aioice-direct/left-lan.pcap.expected.json")
    _only_stream(doc)["components"]["1"]["failed"].append("192.168.1.10:34076 host -> 192.168.2.10:57325 host udp")
    assert exp.checklists_complete and [p for p in tf.problems(doc, exp) if "no agent lists it as failed" in p]


def test_a_nomination_gone_is_caught():
    """aioice, controlling, nominated its one succeeded pair: an answer without it nominated fails."""
    doc, exp = _golden("real/aioice-direct/left-lan.pcap.expected.json")
    comp = _only_stream(doc)["components"]["1"]
    comp["nominated"] = [comp["selected"]]
    assert tf.problems(doc, exp) == []
    comp["nominated"] = []
    assert [p for p in tf.problems(doc, exp) if "not nominated" in p]


@pytest.mark.parametrize(
    ("relative", "written"),
    [
        ("real/aioice-direct/left-lan.pcap", False),  # the selected pair alone was nominated
        ("real/libnice-direct-rejected/left-lan.pcap", True),  # a relayed pair nominated besides it
        ("synthetic/media_after_success/capture.pcap", True),  # selected by its media, nominated by none
    ],
)
def test_a_golden_file_writes_the_nominated_pairs_where_they_are_not_just_the_selected_one(relative, written):
    folder = testdata.require(CAPTURES / relative).parent
    fresh = _fresh(folder, Path(relative).name)
    golden = json.loads((CAPTURES / f"{relative}{GOLDEN_SUFFIX}").read_text())
    for (_, ours), (_, kept) in zip(tf._streams(fresh), tf._streams(golden), strict=True):
        for key, comp in ours["components"].items():
            assert tf.nominated_pairs(kept["components"][key]) == comp["nominated"]
            assert ("nominated" in kept["components"][key]) == written


def test_a_pair_no_agent_nominated_shown_nominated_is_caught():
    doc, exp = _golden("real/baresip-kamailio/left-lan.pcap.expected.json")
    comp = _only_stream(doc)["components"]["1"]
    comp["nominated"] = [comp["selected"]]
    assert tf.problems(doc, exp) == []
    comp["nominated"].append("203.0.113.254:49182 relay -> 203.0.113.2:32176 srflx udp")  # failed, flagged by none
    assert [p for p in tf.problems(doc, exp) if "no agent flags it nominated" in p]


@pytest.mark.parametrize(
    "relative, verdicts",
    [
        ("real/aioice-failure/left-lan.pcap.expected.json", ["D8"]),  # the agents failed: FAILED gone
        ("real/aioice-direct/left-lan.pcap.expected.json", ["FAILED"]),  # the agents connected
    ],
)
def test_the_failed_verdict_follows_the_agents_outcome(relative, verdicts):
    doc, exp = _golden(relative)
    assert tf.problems(doc, exp) == []
    doc["verdicts"] = verdicts
    assert [p for p in tf.problems(doc, exp) if "verdict FAILED" in p]


def test_a_succeeded_pair_gone_is_caught_for_libnice():
    """libnice keeps its check list to itself; the pair it selected is a pair that succeeded."""
    doc, exp = _golden("real/libnice-rfc5245/public.pcap.expected.json")
    _only_stream(doc)["components"]["1"]["succeeded"] = []
    assert [p for p in tf.problems(doc, exp) if "no succeeded pair" in p]


def test_a_wrong_type_is_caught_where_types_are_signaled():
    doc, exp = _golden("real/libnice-rfc5245/public.pcap.expected.json")
    comp = _only_stream(doc)["components"]["1"]
    comp["selected"] = comp["selected"].replace("srflx", "unknown", 1)
    assert exp.strict_types and [p for p in tf.problems(doc, exp) if "is unknown" in p]


def test_an_extra_stream_is_caught():
    doc, exp = _golden("real/libnice-oc2007/left-lan.pcap.expected.json")
    call = next(iter(doc["calls"].values()))
    call["streams"]["0#2"] = dict(_only_stream(doc), components={}, outcome="unknown")
    assert [p for p in tf.problems(doc, exp) if "ICE streams" in p]


def _with_selected(doc: dict, component: str, label: str) -> dict:
    comp = _only_stream(doc)["components"][component]
    comp["selected"], comp["succeeded"] = label, [label]
    return doc


@pytest.mark.parametrize(
    "relayed",
    [
        "203.0.113.254:0",  # an invented port
        "203.0.113.254:? (relayed for 192.168.99.9:50001; Allocate not in capture)",  # not the agent's
        "198.51.100.7:? (relayed for 192.168.10.20:50001; Allocate not in capture)",  # another server
    ],
)
def test_a_relayed_address_the_capture_never_showed_is_held_to_its_client(relayed):
    """component_priority starts after its Allocates: its relayed address may read in words, for
    the agent's own address at its own relay, and no other way."""
    doc, exp = _golden("synthetic/component_priority/capture.pcap.expected.json")
    assert tf.problems(doc, exp) == []
    _with_selected(doc, "1", f"{relayed} relay -> 203.0.113.60:7000 unknown udp")
    assert [p for p in tf.problems(doc, exp) if "component 1: selected" in p]


@pytest.mark.parametrize("client", ["192.168.2.10:51177", "192.168.7.7:38159"])
def test_a_peer_behind_a_channel_is_held_to_the_client_whose_channel_it_is(client):
    """The late start's left LAN tap sees the peer only as the far end of the left agent's channel;
    behind the right agent's channel (or a stranger's) is the wrong peer."""
    doc, exp = _golden("derived/chromium-relay-late/left-lan.pcap.expected.json")
    assert tf.problems(doc, exp) == []
    peer = f"peer behind channel 0x4000 of {client} (binding not in capture)"
    _with_selected(doc, "1", f"203.0.113.254:49172 relay -> {peer} unknown udp")
    assert [p for p in tf.problems(doc, exp) if "component 1: selected" in p]


def test_an_outcome_the_capture_cannot_show_may_be_unknown_never_the_other():
    doc, exp = _golden("derived/aioice-turn-tcp-halves/client-to-server.pcap.expected.json")
    assert "outcome" in exp.unobservable and _only_stream(doc)["outcome"] == "unknown"
    assert tf.problems(doc, exp) == []
    _only_stream(doc)["outcome"] = "failed"
    assert [p for p in tf.problems(doc, exp) if "outcome failed, the truth says connected" in p]


def test_a_selection_the_capture_cannot_show_may_be_missing_never_another_pair():
    doc, exp = _golden("derived/aioice-turn-tcp-halves/client-to-server.pcap.expected.json")
    assert "selected" in exp.unobservable and _only_stream(doc)["components"]["1"]["selected"] is None
    relayed = "203.0.113.254:? (relayed for 192.168.1.10:60336; Allocate not in capture)"
    _with_selected(doc, "1", f"{relayed} relay -> 203.0.113.254:49160 unknown udp")
    assert tf.problems(doc, exp) == []  # the pair the agents selected
    _with_selected(doc, "1", f"{relayed} relay -> 203.0.113.254:49199 unknown udp")
    assert [p for p in tf.problems(doc, exp) if "component 1: selected" in p]


def test_the_recordings_name_causes():
    """Every recording the lab made names its cause, and the comparison holds a code for its taps."""
    held = [
        (folder, name)
        for folder in _truth_folders()
        if folder.parent.name in ("real", "servers", "derived")
        for name in tf.load(folder)["vantage_points"]
        if tf.expected(tf.load(folder), name).cause is not None
    ]
    real = [f for f in _truth_folders() if f.parent.name == "real"]
    assert all("expected_cause" in tf.load(f) for f in real)
    assert len({f for f, _ in held}) >= len(real) >= 40


def test_another_cause_where_the_cause_lies_is_caught():
    """The left LAN of a call whose left network blocks UDP shows the fallback itself: a cause of the
    same family (relayed) is still wrong there."""
    doc, exp = _golden("real/aioice-udp-blocked/left-lan.pcap.expected.json")
    assert exp.cause is not None and exp.cause.exact and tf.problems(doc, exp) == []
    _only_stream(doc)["cause"] = "relayed:no-direct-path"
    assert [p for p in tf.problems(doc, exp) if "cause relayed:no-direct-path, the truth says" in p]


@pytest.mark.parametrize(
    ("code", "accepted"), [("relayed:direct-blocked", True), (tf.PARTIAL, True), ("direct", False)]
)
def test_a_tap_that_sees_only_the_consequence_may_name_the_family_or_say_partial(code, accepted):
    """The right LAN of the same call sees only that the left agent offered no public address."""
    doc, exp = _golden("real/aioice-udp-blocked/right-lan.pcap.expected.json")
    assert exp.cause is not None and not exp.cause.exact and tf.problems(doc, exp) == []
    _only_stream(doc)["cause"] = code
    assert (tf.problems(doc, exp) == []) == accepted


def test_a_tap_whose_cause_the_truth_names_or_rules_unobservable():
    """capture_facts may name a tap's own code (a one-direction half of a TCP TURN connection is a
    partial capture) or declare the cause unobservable (the gateway's interface cannot tell coturn's
    relay port from a peer)."""
    doc, exp = _golden("derived/aioice-turn-tcp-halves/client-to-server.pcap.expected.json")
    assert exp.cause == tf.ExpectedCause(tf.PARTIAL, exact=True) and tf.problems(doc, exp) == []
    _only_stream(doc)["cause"] = "relayed:policy"
    assert [p for p in tf.problems(doc, exp) if "cause relayed:policy" in p]
    doc, exp = _golden("servers/turn-server-vantage/gateway.pcap.expected.json")
    assert exp.cause is None and _only_stream(doc)["cause"] == "direct" and tf.problems(doc, exp) == []


# -- the truth's nomination facts against the wire ------------------------------------------------


def _wire_nomination(path: Path) -> list[bool]:
    """For each Binding request with ICE-CONTROLLING in frame order as tshark reads it, whether it
    carries USE-CANDIDATE."""
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", "stun.type == 0x0001", "-T", "fields", "-e", "stun.att.type"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    controlling = [set(line.split(",")) for line in out.splitlines() if "0x802a" in line.split(",")]
    return ["0x0025" in attrs for attrs in controlling]


def _agent_captures() -> list:
    return [c for c in _captures() if isinstance(c.values[0], Path) and tf.load(c.values[0]).get("agents")] or [
        testdata.missing("no golden files beside a truth.json with agents", arity=2)
    ]


@pytest.mark.tshark
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
@pytest.mark.parametrize("folder, name", _agent_captures())
def test_the_truths_nomination_style_agrees_with_tshark(folder, name):
    """A cross-check of the nomination facts added to the truth files from the agents' code and logs:
    aggressive means every controlling check tshark decodes up to the last one with USE-CANDIDATE
    carries it (consent checks after the nomination carry none, RFC 7675), regular that not all do,
    none, final-offer and not-captured that none does (TURN-wrapped checks are not counted)."""
    style = tf.expected(tf.load(folder), name).nomination_style
    if style is None:
        pytest.fail(f"{folder.name}/truth.json says nothing about nomination ({name})")
    flags = _wire_nomination(folder / name)
    if style == "aggressive":
        last = max((i for i, nominates in enumerate(flags) if nominates), default=len(flags) - 1)
        assert all(flags[: last + 1])
    elif style == "regular":
        assert not all(flags) or not flags
    else:
        assert not any(flags)


# -- which facts each truth holds (docs/testing.md) -------------------------------------------------


def facts_table() -> str:
    """The table of docs/testing.md: per recording, the facts its truth file holds."""
    rows = ["| recording | captures | facts the truth holds |", "|---|---|---|"]
    for folder in _truth_folders():
        truth = tf.load(folder)
        rows.append(f"| {folder.parent.name}/{folder.name} | {_captures_of(folder)} | {', '.join(held(truth))} |")
    return "\n".join(rows) + "\n"


def _captures_of(folder: Path) -> str:
    return ", ".join(sorted(g.name[: -len(GOLDEN_SUFFIX)] for g in folder.glob(f"*{GOLDEN_SUFFIX}")))


def held(truth: dict) -> list[str]:
    agents = truth.get("agents", {})
    comps = [c for a in agents.values() for s in a["streams"][:1] for c in s["components"]]
    out = []
    if agents:
        out += ["outcome", "roles", "ICE streams"]
        if any(c["selected"] for c in comps):
            out.append("selected pair" + (" and types" if truth.get("candidate_types_signaled") else ""))
        if any(e["state"] == "succeeded" for c in comps for e in c["checklist"]) or any(c["selected"] for c in comps):
            out.append("succeeded pairs" + ("" if all(c["checklist"] for c in comps) else " (selected only)"))
        if any(e["state"] == "failed" for c in comps for e in c["checklist"]):
            out.append("failed pairs")
        if _controlling_nominates(truth):
            out.append("nominated pairs")
        out.append("connectivity")
    if "nomination_style" in truth:
        out.append(f"nomination ({truth['nomination_style']})")
    if any(e.get("requests_sent") is not None for c in comps for e in c["checklist"]):
        out.append("getStats counters")
    if any("datagrams_received" in a for a in agents.values()):
        out.append("datagrams received")
    if "expected_cause" in truth:
        out.append("cause")
    if truth.get("expected_verdicts") or truth.get("forbidden_verdicts"):
        out.append("verdicts")
    if truth.get("capture_facts"):
        out.append("per-capture facts")
    if truth.get("segments"):
        out.append("tap segments")
    return out or ["scenario facts only (tested by its own module)"]


def _controlling_nominates(truth: dict) -> bool:
    """The truth names a pair the controlling agent nominated (truth_facts: `nominated`)."""
    for agent in truth["agents"].values():
        comps = [c for s in agent["streams"][:1] for c in s["components"]] if agent["role"] == "controlling" else []
        for comp in comps:
            if any(e["nominated"] and e["state"] == "succeeded" for e in comp["checklist"]):
                return True
            selected = comp["selected"]
            if selected and selected.get("state", "succeeded") == "succeeded":
                if truth.get("nomination_style") in tf.NOMINATING:
                    return True
    return False


def test_the_facts_table_in_docs_is_the_truth_files():
    text = testdata.require(TESTING_DOC).read_text()
    begin, end = "<!-- truth facts: begin -->\n", "<!-- truth facts: end -->"
    assert begin in text and end in text, "docs/testing.md lost its generated table"
    assert text.split(begin, 1)[1].split(end, 1)[0] == facts_table(), (
        "regenerate: python -c 'from tests.corpus.test_truth_facts import facts_table; print(facts_table())'"
    )
