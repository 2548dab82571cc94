"""What a recording's truth.json says one of its captures must show, and where a summary departs from it.

A summary is what `icetrace check` keeps of an analysis (`icetrace.report.golden.summary`): per call,
stream and component the outcome, connectivity, nomination style, selected pair and the succeeded
and failed pairs, the nominated pairs where they are not just the selected one, and the verdict
codes. The same comparison judges icetrace's fresh answer and the committed golden file, so a wrong
answer written by `check --update` still fails. The fresh answer (`answer`) also names every
component's nominated pairs and the severities each verdict code was given, which a golden file
does not keep: the severities are held to the truth in the fresh answer only. A
severity says whether it hurt the call: on a call the agents connected no verdict about their checks
on each other is an error, and on one that connected directly an unanswered pair (D8) is info.

A stream's cause (docs/causes.md; the code, as the golden file keeps it) is what a capture shows, so
the tap that holds the decisive evidence must name the truth's `expected_cause` code: a recording's
only capture, and the taps of the side(s) the cause is about (an agent's LAN tap `<agent>-...`, or
its own interface `<agent>.pcap`). Another tap may see only the consequence: there the code's family
(before the colon) must agree, or the capture may say `unknown:partial-capture`. A capture's
`capture_facts` may name its code (`cause`) or declare it unobservable.

The truth describes each agent as the agent itself reported it (captures/README.md). A capture shows
an agent's candidate in one of a few forms, all derived here from the agent's own report:

- its own address (a relayed candidate always is seen by its relay address);
- for a server- or peer-reflexive candidate, its base with type host or the candidate's type: what
  the agent's LAN shows (RFC 8445 §6.1.2.4 prunes a pair to its base), and only there where the
  truth's `segments` say where the capture was taken;
- for a host candidate behind a NAT, its mapping: the agent's server-reflexive candidate with that
  base, or, behind a NAT that maps per destination (the peer learned it as peer-reflexive on the
  agent's public address), any port of the public address;
- the other agent's report of the same candidate (its remote candidate), with the type it learned;
- where the truth's `capture_facts` say the capture cannot show it, in the words icetrace uses for
  an address it never saw: a relayed address as `SERVER-IP:? (relayed for CLIENT; Allocate not in
  capture)` (`relayed_address`; the relayed address's IP stands for the server's, CLIENT is one of
  the agent's own addresses, any port), the peer behind another agent's channel as `peer behind
  channel 0x4000 of CLIENT (binding not in capture)` (`peer_address`; CLIENT is that agent's).

Where the truth's `segments` place a capture on an agent's LAN side (`lan:<agent>`), the other agent's
private addresses travel there only as the destinations of the tap's agent's own checks, so two forms
drop out there: the other agent's host candidate in a direct pair that agent reports shows by its
mapping only (its own checks from it leave through its NAT), and the other agent's host candidate as
the tap's agent reports it (its remote candidate) by its own address only (the mapping arrives only
with the other agent's checks, a pair that agent reports). This tells a host-to-host pair apart from
the server-reflexive pair whose bases have the same addresses.

A candidate type may read `unknown` when nothing the analysis was given signals it, unless the truth
says `candidate_types_signaled`; an address the capture never showed has no type it could show.

A pair no agent lists as failed may read failed where the truth's `refused` (the lab's reject rules)
says the network refused its checks with ICMP between its two ends: the capture holds the refusal,
which an agent need not act on (aioice only logs it) while RFC 8445 §7.2.5.2 lets it fail the pair.
On the LAN tap of the agent whose checks were refused, where the ICMP errors are, such a pair that
no agent saw succeed must read failed (docs/correlator.md: an ICMP error quoting a check fails its
pair).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from icetrace.report.golden import _pair_label, summary


@functools.lru_cache(maxsize=4096)
def _pattern(form: str) -> re.Pattern[str]:
    """`*` stands for any port or channel number, everything else for itself."""
    return re.compile(re.escape(form).replace(r"\*", "[0-9a-f]+"))


@dataclass(frozen=True)
class Form:
    """One way a capture may name a candidate: an address (`*` for any port or channel) and its types."""

    address: str
    types: frozenset[str]

    def matches(self, address: str) -> bool:
        if "*" in self.address:
            return _pattern(self.address).fullmatch(address) is not None
        return address == self.address


@dataclass(frozen=True)
class End:
    forms: tuple[Form, ...]

    def matches(self, address: str) -> bool:
        return any(f.matches(address) for f in self.forms)

    def types_for(self, address: str) -> set[str]:
        return {t for f in self.forms if f.matches(address) for t in f.types}

    def __str__(self) -> str:
        return " | ".join(f"{f.address} {'/'.join(sorted(f.types))}" for f in self.forms)


@dataclass(frozen=True)
class Vantage:
    """Where one capture was taken, as far as the truth says: what it cannot show (`unseen`, its
    capture_facts' unobservable) and whose LAN side it is on (the truth's `segments`: `lan:<agent>`,
    `public`, `server:<name>`; None where the truth does not say)."""

    unseen: frozenset[str] = frozenset()
    segment: str | None = None

    def behind_nat_of(self, agent: str) -> bool | None:
        """Whether the capture is on `agent`'s own side of its NAT (its LAN, where its private
        addresses travel); None where the truth does not say where the capture was taken."""
        if self.segment is None:
            return None
        return self.segment == f"lan:{agent}"

    def on_another_lan(self, agent: str) -> bool:
        """Whether the capture is on the LAN side of an agent other than `agent`."""
        return self.segment is not None and self.segment.startswith("lan:") and self.segment != f"lan:{agent}"


NOWHERE = Vantage()  # a capture the truth places nowhere: every form is possible


@dataclass(frozen=True)
class ExpectedPair:
    controlling: End
    controlled: End
    transport: str
    said_by: str  # "left selected", "right checklist succeeded", ...

    def __str__(self) -> str:
        return f"[{self.controlling}] -> [{self.controlled}] {self.transport} ({self.said_by})"


@dataclass(frozen=True)
class Label:
    """A pair as a summary writes it: `controlling-address type -> controlled-address type transport`."""

    controlling: str
    controlling_type: str
    controlled: str
    controlled_type: str
    transport: str

    @classmethod
    def parse(cls, text: str) -> Label:
        left, _, right = text.partition(" -> ")
        a, a_type = left.rsplit(" ", 1)
        b, b_type, transport = right.rsplit(" ", 2)
        return cls(a, a_type, b, b_type, transport)


@dataclass
class ExpectedComponent:
    component: int
    selected: ExpectedPair | None
    succeeded: list[ExpectedPair] = field(default_factory=list)
    failed: list[ExpectedPair] = field(default_factory=list)  # failed for an agent, succeeded for none
    ever_failed: list[ExpectedPair] = field(default_factory=list)  # failed for some agent
    nominated: list[ExpectedPair] = field(default_factory=list)  # the controlling agent's, succeeded
    ever_nominated: list[ExpectedPair] = field(default_factory=list)  # flagged nominated by some agent
    refused: list[ExpectedPair] = field(default_factory=list)  # failed here: the capture holds the ICMP refusal


PARTIAL = "unknown:partial-capture"  # the cause of a capture that lacks what would decide


@dataclass(frozen=True)
class ExpectedCause:
    """The cause one capture must name: the code itself where it shows the decisive evidence (`exact`),
    else the code's family or PARTIAL."""

    code: str
    exact: bool

    def accepts(self, code: str | None) -> bool:
        if code is None:
            return False
        if self.exact:
            return code == self.code
        return code == PARTIAL or code.split(":", 1)[0] == self.code.split(":", 1)[0]

    def __str__(self) -> str:
        return self.code if self.exact else f"{self.code} (its family, or {PARTIAL})"


@dataclass
class Expected:
    """What one capture must show, from its recording's truth."""

    capture: str
    streams: int | None  # ICE streams in the capture (None: the truth names no agent)
    outcome: str | None = None
    connectivity: str | None = None
    nomination_style: str | None = None
    cause: ExpectedCause | None = None
    components: list[ExpectedComponent] = field(default_factory=list)
    checklists_complete: bool = False  # every pair an agent checked is in the truth
    strict_types: bool = False
    required_verdicts: set[str] = field(default_factory=set)
    forbidden_verdicts: set[str] = field(default_factory=set)
    unobservable: set[str] = field(default_factory=set)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (from IP, to IP or "*"), by ICMP

    def refuses(self, label: Label) -> bool:
        """The network refused checks between the pair's two ends, in either direction."""
        ends = {label.controlling.rpartition(":")[0], label.controlled.rpartition(":")[0]}
        return any(src in ends and (dst == "*" or dst in ends - {src}) for src, dst in self.refused)


def load(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text())


# -- forms of a candidate -------------------------------------------------------------------------


def _agent_components(agent: dict) -> dict[int, dict]:
    return {c["component"]: c for s in agent["streams"][:1] for c in s["components"]}


def _own_forms(
    truth: dict, name: str, component: int, address: str, typ: str, peers: list[dict], view: Vantage
) -> list[Form]:
    """The forms of agent `name`'s own candidate `address` (reported by the agent with type `typ`)."""
    agent = truth["agents"][name]
    comp = _agent_components(agent).get(component, {"local_candidates": []})
    locals_ = comp["local_candidates"]
    forms = [Form(address, frozenset({typ}))]
    if typ == "relay" and "relayed_address" in view.unseen:
        server = address.rpartition(":")[0]
        forms += [
            Form(f"{server}:? (relayed for {client}; Allocate not in capture)", frozenset({typ}))
            for client in _client_addresses(agent)
        ]
    related = next((c["related"] for c in locals_ if c["address"] == address and c["related"]), None)
    if typ in ("srflx", "prflx") and related and view.behind_nat_of(name) is not False:
        forms.append(Form(related, frozenset({"host", typ})))  # its base: only where its NAT is not between
    if typ == "host":
        base = address
    elif typ in ("srflx", "prflx") and related:
        base = related
    else:
        base = None
    if base is not None:
        for cand in locals_:
            if cand["type"] == "srflx" and cand["related"] == base and cand["address"] != address:
                forms.append(Form(cand["address"], frozenset({"srflx"})))
        public = agent.get("public_address")
        if public and _mapped_per_destination(agent, peers):
            forms.append(Form(f"{public}:*", frozenset({"prflx", "srflx"})))
    return forms


def _client_addresses(agent: dict) -> list[str]:
    """The addresses an agent's own traffic may be seen from: its LAN address, its public one, any port."""
    ips = dict.fromkeys(ip for ip in (agent.get("lan_address"), agent.get("public_address")) if ip)
    return [f"[{ip}]:*" if ":" in ip else f"{ip}:*" for ip in ips]


def _unknown_peer_forms(agents: dict, owner: str, component: int) -> list[Form]:
    """`owner`'s candidate as the peer behind another agent's TURN channel whose ChannelBind the
    capture lacks: named by that agent's address, with no type."""
    relaying = [
        agent
        for name, agent in agents.items()
        if name != owner
        and any(
            c["type"] == "relay"
            for c in _agent_components(agent).get(component, {"local_candidates": []})["local_candidates"]
        )
    ]
    return [
        Form(text, frozenset({"unknown"}))
        for agent in relaying
        for client in _client_addresses(agent)
        for text in (
            f"peer behind channel 0x* of {client} (binding not in capture)",
            f"peer of {client} (address not in capture)",
        )
    ]


def _mapped_per_destination(agent: dict, peers: list[dict]) -> bool:
    """A peer learned a peer-reflexive candidate on this agent's public address: its NAT gave the
    checks a mapping its STUN server never saw (RFC 8445 §7.3.1.3)."""
    public = agent.get("public_address")
    return any(
        c["type"] == "prflx" and c["address"].rpartition(":")[0] == public
        for peer in peers
        for comp in _agent_components(peer).values()
        for c in comp["remote_candidates"]
    )


def _end(truth: dict, owner: str, reporter: str, component: int, address: str, typ: str, view: Vantage) -> End:
    """A candidate of `owner` as `reporter` named it, with every form a capture may show it in."""
    agents = truth["agents"]
    peers = [a for n, a in agents.items() if n != owner]
    if owner == reporter:
        forms = _own_forms(truth, owner, component, address, typ, peers, view)
    else:
        forms = [Form(address, frozenset({typ}))]
        if owner in agents:
            # the owner's own candidate at that address (the peer may know it by its mapping only)
            own = _agent_components(agents[owner]).get(component, {"local_candidates": []})["local_candidates"]
            cand = next((c for c in own if c["address"] == address), None)
            if cand is not None:
                forms += _own_forms(truth, owner, component, address, cand["type"], peers, view)
    if "peer_address" in view.unseen:
        forms += _unknown_peer_forms(agents, owner, component)
    return End(tuple(forms))


def _addressed(peer: dict, remote: End, host: str) -> End:
    """A peer's host candidate as an agent reports it, on that agent's own LAN: the agent's checks go
    to the host address itself; the peer's mapping of it arrives there only with the peer's own checks,
    a pair the peer reports."""
    public = peer.get("public_address")
    if public is None or public == peer.get("lan_address"):
        return remote
    own = tuple(f for f in remote.forms if f.address == host)
    return End(own) if own else remote


def _sent_through_nat(agent: dict, local: End, host: str) -> End:
    """An agent's host candidate in a direct pair it reports, on another agent's LAN: its checks from
    the host arrive there through its NAT, by its mapping; its private host address travels there only
    as the destination of that LAN's agent's own checks, a pair that agent reports."""
    public = agent.get("public_address")
    if public is None or public == agent.get("lan_address"):
        return local  # no NAT: the host address is what the other LAN sees
    mapped = tuple(f for f in local.forms if f.address != host)
    return End(mapped) if mapped else local


def _peer_of(truth: dict, name: str) -> str:
    others = [n for n in truth["agents"] if n != name]
    return others[0] if len(others) == 1 else f"{name}'s peer"


def expected_pair(
    truth: dict, name: str, component: int, entry: dict, said: str, view: Vantage = NOWHERE
) -> ExpectedPair:
    """An agent's (local, remote) entry as a pair named controlling -> controlled."""
    agent = truth["agents"][name]
    peer = _peer_of(truth, name)
    local = _end(truth, name, name, component, entry["local"], entry["local_type"], view)
    remote = _end(truth, peer, name, component, entry["remote"], entry["remote_type"], view)
    if entry["local_type"] == "host" and entry["remote_type"] != "relay" and view.on_another_lan(name):
        local = _sent_through_nat(agent, local, entry["local"])
    if entry["remote_type"] == "host" and view.behind_nat_of(name) and peer in truth["agents"]:
        remote = _addressed(truth["agents"][peer], remote, entry["remote"])
    a, b = (local, remote) if agent["role"] == "controlling" else (remote, local)
    return ExpectedPair(a, b, entry.get("transport", "udp"), f"{name} {said}")


def merged(pairs: list[ExpectedPair]) -> ExpectedPair:
    """Several agents' reports of one pair: any of their forms names it."""
    return ExpectedPair(
        End(tuple(f for p in pairs for f in p.controlling.forms)),
        End(tuple(f for p in pairs for f in p.controlled.forms)),
        pairs[0].transport,
        " and ".join(p.said_by for p in pairs),
    )


def same_pair(a: ExpectedPair, b: ExpectedPair) -> bool:
    """Two reports name one pair: each end has an address in common."""

    def common(x: End, y: End) -> bool:
        return any(
            fx.matches(fy.address) or fy.matches(fx.address)
            for fx in x.forms
            for fy in y.forms
            if not ("*" in fx.address and "*" in fy.address)
        )

    return a.transport == b.transport and common(a.controlling, b.controlling) and common(a.controlled, b.controlled)


# -- what one capture must show ---------------------------------------------------------------------


def capture_facts(truth: dict, capture: str) -> dict:
    """The truth's facts about one capture (`capture_facts`): what its vantage point can or cannot show."""
    facts: dict = truth.get("capture_facts", {}).get(capture, {})
    return facts


NOMINATING = ("aggressive", "regular", "final-offer")  # nomination styles in which a nomination is made


@dataclass
class _Reports:
    """One component's pairs as the agents reported them."""

    selected: list[ExpectedPair] = field(default_factory=list)
    succeeded: list[ExpectedPair] = field(default_factory=list)
    failed: list[ExpectedPair] = field(default_factory=list)
    nominated: list[ExpectedPair] = field(default_factory=list)  # by the controlling agent, succeeded
    flagged: list[ExpectedPair] = field(default_factory=list)  # flagged nominated by any agent


def _reports(truth: dict, component: int, view: Vantage) -> _Reports:
    out = _Reports()
    for name, agent in truth["agents"].items():
        comp = _agent_components(agent).get(component)
        if comp is None:
            continue
        sel = comp["selected"]
        if sel and sel.get("state", "succeeded") == "succeeded":
            pair = expected_pair(truth, name, component, sel, "selected", view)
            out.selected.append(pair)
            out.succeeded.append(pair)  # an agent selects from its valid pairs (RFC 8445 §8.1.1)
            if agent["role"] == "controlling" and truth.get("nomination_style") in NOMINATING:
                out.nominated.append(pair)  # ... and, nominating, selects the pair it nominated
                out.flagged.append(pair)
        for entry in comp["checklist"]:
            pair = expected_pair(truth, name, component, entry, f"checklist: {entry['state']}", view)
            if entry["state"] == "succeeded":
                out.succeeded.append(pair)
            elif entry["state"] == "failed":
                out.failed.append(pair)
            if entry["nominated"]:
                out.flagged.append(pair)
                # the controlling agent nominates (RFC 8445 §8.1.1); a controlled agent's flag need
                # not follow the wire: baresip 1.0's controlled agent flags a pair whose checks
                # never carried USE-CANDIDATE (baresip-kamailio, component 2)
                if agent["role"] == "controlling" and entry["state"] == "succeeded":
                    out.nominated.append(pair)
    return out


def _grouped(pairs: list[ExpectedPair]) -> list[ExpectedPair]:
    groups: list[list[ExpectedPair]] = []
    for pair in pairs:
        group = next((g for g in groups if any(same_pair(pair, p) for p in g)), None)
        if group is None:
            groups.append([pair])
        else:
            group.append(pair)
    return [merged(g) for g in groups]


def _component(truth: dict, component: int, view: Vantage) -> ExpectedComponent:
    reports = _reports(truth, component, view)
    chosen = _grouped(reports.selected)
    if len(chosen) > 1:
        controlling = [p for p in reports.selected if truth["agents"][p.said_by.split()[0]]["role"] == "controlling"]
        chosen = _grouped(controlling) or chosen[:1]  # the controlling agent's choice is the one that counts
    valid = _grouped(reports.succeeded)
    never_valid = [p for p in _grouped(reports.failed) if not any(same_pair(p, v) for v in valid)]
    every = _grouped(reports.succeeded + reports.failed + reports.flagged)  # each pair with all its forms
    return ExpectedComponent(
        component,
        chosen[0] if chosen else None,
        valid,
        never_valid,
        _grouped(reports.failed),
        nominated=[v for v in valid if any(same_pair(v, n) for n in reports.nominated)],
        ever_nominated=[p for p in every if any(same_pair(p, f) for f in reports.flagged)],
        refused=[p for p in _refused(truth, component, view) if not any(same_pair(p, v) for v in valid)],
    )


def _refused(truth: dict, component: int, view: Vantage) -> list[ExpectedPair]:
    """The pairs whose checks the network refused with ICMP where this capture sees it: on the LAN of
    the agent whose checks a router refused (the truth's `refused`, from its LAN address to an address,
    `*` for any the router forwards: not another agent's LAN, which the lab's routers drop silently),
    each pair that agent checked from its own address (not its relay) to a refused one. The ICMP error
    quoting a check fails its pair (RFC 8445 §7.2.5.2, docs/correlator.md)."""
    out = []
    lans = {a["lan_address"] for a in truth["agents"].values()}
    for name, agent in truth["agents"].items():
        if view.behind_nat_of(name) is not True:
            continue
        targets = {r["to"] for r in truth.get("refused", []) if r["from"] == agent["lan_address"]}
        comp = _agent_components(agent).get(component, {"checklist": []})
        for entry in comp["checklist"]:
            ip = entry["remote"].rpartition(":")[0]
            checked = entry["state"] in ("failed", "in-progress") and entry["local_type"] != "relay"
            if checked and ip not in lans and (ip in targets or "*" in targets):
                out.append(expected_pair(truth, name, component, entry, "checks refused by ICMP", view))
    return out


def _connectivity(truth: dict) -> str | None:
    if "expected_connectivity" in truth:
        value: str | None = truth["expected_connectivity"]
        return value
    if truth["expected_outcome"] == "failed":
        return "FAILED"
    for agent in truth["agents"].values():
        comp = _agent_components(agent).get(1)
        if agent["role"] == "controlling" and comp and comp["selected"]:
            sel = comp["selected"]
            return "RELAY" if "relay" in (sel["local_type"], sel["remote_type"]) else "DIRECT"
    return None


def _nomination_style(truth: dict) -> str | None:
    style: str | None = truth.get("nomination_style")
    if style == "regular" and truth["expected_outcome"] == "failed":
        return "none"  # regular nomination nominates a valid pair, and none was found (RFC 8445 §8.1.1)
    return style


def decisive(truth: dict, capture: str) -> bool:
    """Whether `capture` must show the cause itself: the recording's only tap, or a tap of the side
    the truth's expected_cause is about (`<agent>-lan.pcap`, `<agent>.pcap`)."""
    taps = [t for t in truth["vantage_points"] if not t.endswith((".pcapng", ".cap"))]
    if len(taps) == 1:
        return True
    side = truth["expected_cause"]["side"]
    sides = list(truth.get("agents", {})) if side == "both" else [side]
    stem = capture.rsplit(".", 1)[0]
    return any(stem == s or stem.startswith(f"{s}-") for s in sides)


def expected_cause(truth: dict, capture: str) -> ExpectedCause | None:
    """The cause `capture` must name, or None (the truth names none, or the capture cannot show it)."""
    facts = capture_facts(truth, capture)
    if "expected_cause" not in truth or "cause" in facts.get("unobservable", []):
        return None
    if "cause" in facts:
        return ExpectedCause(facts["cause"], exact=True)
    return ExpectedCause(truth["expected_cause"]["code"], exact=decisive(truth, capture))


def expected(truth: dict, capture: str) -> Expected:
    """What `capture` (a file named in the truth's vantage_points) must show."""
    facts = capture_facts(truth, capture)
    out = Expected(
        capture=capture,
        streams=None,
        required_verdicts=set(facts.get("expected_verdicts", truth.get("expected_verdicts", []))),
        forbidden_verdicts=set(truth.get("forbidden_verdicts", [])),
        unobservable=set(facts.get("unobservable", [])),
        refused=[(r["from"], r["to"]) for r in truth.get("refused", [])],
    )
    agents = truth.get("agents", {})
    if not agents:
        return out
    out.streams = facts.get("ice_streams", max(len(a["streams"]) for a in agents.values()))
    out.outcome = truth["expected_outcome"]
    out.connectivity = facts.get("connectivity", _connectivity(truth))
    out.nomination_style = facts.get("nomination_style", _nomination_style(truth))
    out.cause = expected_cause(truth, capture)
    out.strict_types = bool(truth.get("candidate_types_signaled"))
    numbers = sorted({n for a in agents.values() for n in _agent_components(a)})
    view = Vantage(frozenset(out.unobservable), truth.get("segments", {}).get(capture))
    out.components = [_component(truth, n, view) for n in numbers]
    out.checklists_complete = all(c["checklist"] for a in agents.values() for c in _agent_components(a).values())
    if out.streams and "outcome" not in out.unobservable:  # FAILED: every pair of a stream failed
        (out.required_verdicts if out.outcome == "failed" else out.forbidden_verdicts).add("FAILED")
    return out


# -- where a summary departs from it ----------------------------------------------------------------


def _ends_match(label: Label, pair: ExpectedPair) -> bool:
    return (
        label.transport == pair.transport
        and pair.controlling.matches(label.controlling)
        and pair.controlled.matches(label.controlled)
    )


def _type_problems(label: Label, pair: ExpectedPair, exp: Expected) -> list[str]:
    if "types" in exp.unobservable:
        return []
    out = []
    for side, address, typ, end in (
        ("controlling", label.controlling, label.controlling_type, pair.controlling),
        ("controlled", label.controlled, label.controlled_type, pair.controlled),
    ):
        allowed = end.types_for(address) | (set() if exp.strict_types else {"unknown"})
        if typ not in allowed:
            out.append(f"{side} {address} is {typ}, the truth says {'/'.join(sorted(allowed))}")
    return out


def _streams(summary: dict) -> list[tuple[str, dict]]:
    return [
        (f"call {call} stream {key}", stream)
        for call, body in summary["calls"].items()
        for key, stream in body["streams"].items()
    ]


def _labels(stream: dict) -> list[str]:
    return [
        text
        for comp in stream["components"].values()
        for text in [comp["selected"], *comp["succeeded"], *comp["failed"]]
        if text
    ]


def _score(stream: dict, exp: Expected) -> int:
    pairs = [p for c in exp.components for p in ([c.selected] if c.selected else []) + c.succeeded + c.failed]
    return sum(1 for text in _labels(stream) if any(_ends_match(Label.parse(text), p) for p in pairs))


def problems(summary: dict, exp: Expected) -> list[str]:
    """Every way a summary (fresh or golden) departs from what the truth says the capture shows."""
    out = []
    verdicts = set(summary["verdicts"])
    out += [f"verdict {v} missing" for v in sorted(exp.required_verdicts - verdicts)]
    out += [f"verdict {v} reported, the truth rules it out" for v in sorted(exp.forbidden_verdicts & verdicts)]
    if "severities" in summary:  # the fresh answer's (`answer`); a golden file keeps no severities
        out += _severity_problems(summary["severities"], exp)
    if exp.streams is None:
        return out
    streams = _streams(summary)
    if len(streams) != exp.streams:
        out.append(f"{len(streams)} ICE streams ({', '.join(w for w, _ in streams)}), the truth says {exp.streams}")
    if not streams or exp.streams == 0:
        return out
    where, stream = max(streams, key=lambda s: _score(s[1], exp))
    out += [f"{where}: {p}" for p in _stream_problems(stream, exp)]
    return out


def check_verdicts() -> frozenset[str]:
    """The verdict codes about the agents' checks on each other (the checks family of the verdict
    registry, icetrace/ice/diagnosis/checks.py: unanswered, one-way and refused checks)."""
    from icetrace.ice.diagnosis.registry import RULES

    return frozenset(code for code, r in RULES.items() if r.check.__module__ == "icetrace.ice.diagnosis.checks")


def _severity_problems(severities: dict[str, list[str]], exp: Expected) -> list[str]:
    """A severity says whether it hurt the call: on a call the agents connected, nothing about their
    checks made it fail (no error), and on one that connected directly a pair that went unanswered
    (D8) hurt nothing at all (info)."""
    if exp.outcome != "connected" or "outcome" in exp.unobservable:
        return []
    out = [
        f"verdict {code} is an error, though the agents connected"
        for code in sorted(check_verdicts() & set(severities))
        if "error" in severities[code]
    ]
    if exp.connectivity == "DIRECT" and "connectivity" not in exp.unobservable:
        out += [
            f"verdict D8 is a {severity}, though the agents connected directly"
            for severity in severities.get("D8", [])
            if severity != "info"
        ]
    return out


def _stream_problems(stream: dict, exp: Expected) -> list[str]:
    out = []
    checked = [("outcome", exp.outcome), ("connectivity", exp.connectivity), ("nomination_style", exp.nomination_style)]
    for name, want in checked:
        if want is None or stream[name] == want:
            continue
        if name == "outcome" and name in exp.unobservable and stream[name] == "unknown":
            continue  # the capture cannot show how the call ended; it may say so, never the other outcome
        if name not in exp.unobservable or name == "outcome":
            out.append(f"{name} {stream[name]}, the truth says {want}")
    if exp.cause is not None and not exp.cause.accepts(stream.get("cause")):
        out.append(f"cause {stream.get('cause')}, the truth says {exp.cause}")
    for comp in exp.components:
        got = stream["components"].get(str(comp.component))
        if got is None:
            shown = (comp.selected and "selected" not in exp.unobservable) or (
                comp.succeeded and "succeeded" not in exp.unobservable
            )
            if shown:
                out.append(f"component {comp.component} missing")
            continue
        out += [f"component {comp.component}: {p}" for p in _component_problems(got, comp, exp)]
    return out


def _component_problems(got: dict, comp: ExpectedComponent, exp: Expected) -> list[str]:
    out = []
    if comp.selected is None:
        if exp.outcome == "failed" and got["selected"] is not None:
            out.append(f"selected {got['selected']}, the agents selected nothing")
    elif got["selected"] is None:
        if "selected" not in exp.unobservable:  # unobservable: nothing selected, never another pair
            out.append(f"nothing selected, the truth says {comp.selected}")
    else:
        label = Label.parse(got["selected"])
        if not _ends_match(label, comp.selected):
            out.append(f"selected {got['selected']}, the truth says {comp.selected}")
        else:
            out += [f"selected: {p}" for p in _type_problems(label, comp.selected, exp)]
    succeeded = [Label.parse(t) for t in got["succeeded"]]
    if "succeeded" not in exp.unobservable:
        for pair in comp.succeeded:
            if not any(_ends_match(label, pair) for label in succeeded):
                out.append(f"no succeeded pair for {pair}")
    for pair in comp.failed:
        for label in succeeded:
            if _ends_match(label, pair):
                out.append(f"succeeded {label.controlling} -> {label.controlled}, the truth says it failed: {pair}")
    failed = [Label.parse(t) for t in got["failed"]]
    out += [
        f"not failed, the network refused it: {p}" for p in comp.refused if not any(_ends_match(f, p) for f in failed)
    ]
    if exp.checklists_complete:
        for label in succeeded:
            if not any(_ends_match(label, pair) for pair in comp.succeeded):
                out.append(f"succeeded {label.controlling} -> {label.controlled}, no agent lists it as succeeded")
        for label in failed:
            if not any(_ends_match(label, pair) for pair in comp.ever_failed) and not exp.refuses(label):
                out.append(f"failed {label.controlling} -> {label.controlled}, no agent lists it as failed")
    out += _nomination_problems([Label.parse(t) for t in nominated_pairs(got)], comp, exp)
    return out


def nominated_pairs(component: dict) -> list[str]:
    """A component's nominated pairs: those written (every component of the fresh answer, a golden
    file's where they are not just the selected pair), else the selected pair alone."""
    if "nominated" in component:
        return list(component["nominated"])
    return [component["selected"]] if component["selected"] else []


def _nomination_problems(nominated: list[Label], comp: ExpectedComponent, exp: Expected) -> list[str]:
    """The controlling agent's nominated pairs nominated, and no pair nominated that no agent flags."""
    out = []
    if not {"nomination_style", "succeeded"} & exp.unobservable:  # a nomination is a check that succeeded
        for pair in comp.nominated:
            if not any(_ends_match(label, pair) for label in nominated):
                out.append(f"not nominated: {pair}")
    if exp.checklists_complete:
        for label in nominated:
            if not any(_ends_match(label, pair) for pair in comp.ever_nominated):
                out.append(f"nominated {label.controlling} -> {label.controlled}, no agent flags it nominated")
    return out


# -- icetrace's answer, as compared -----------------------------------------------------------------


def answer(analysis: Any) -> dict:
    """The summary `icetrace check --update` would write for `analysis` (an icetrace Analysis), with
    each component's nominated pairs beside it, keyed as the summary keys them, and the severities
    each verdict code was given."""
    doc = summary(analysis)
    whole = analysis.to_dict()
    severities: dict[str, set[str]] = {}
    for verdict in whole["verdicts"]:
        severities.setdefault(verdict["code"], set()).add(verdict["severity"])
    doc["severities"] = {code: sorted(found) for code, found in sorted(severities.items())}
    seen: dict[tuple[str, str], int] = {}
    for stream in whole["streams"]:
        call = "-" if stream["call_id"] is None else str(stream["call_id"])
        base = "-" if stream["index"] is None else str(stream["index"])
        seen[(call, base)] = seen.get((call, base), 0) + 1
        key = base if seen[(call, base)] == 1 else f"{base}#{seen[(call, base)]}"
        shown = doc["calls"][call]["streams"][key]
        keys: list[str] = []
        for comp in stream["components"]:
            ckey = str(comp["component"])
            while ckey in keys:
                ckey += "'"
            keys.append(ckey)
            shown["components"][ckey]["nominated"] = sorted({_pair_label(p) for p in comp["pairs"] if p["nominated"]})
    return doc
