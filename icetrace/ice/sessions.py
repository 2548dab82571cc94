"""ICE sessions as the checks find them: a check's USERNAME names its session, a signaled one or one
made up from the wire, and [MS-ICE] per-candidate usernames are merged into agents and calls."""

from __future__ import annotations

from dataclasses import dataclass

from icetrace.ice.model import Agent, Pair, Stream
from icetrace.ice.signaled import SignaledStream
from icetrace.ice.transactions import Transaction
from icetrace.ice.usernames import split_username
from icetrace.records.endpoint import Endpoint


class Session:
    def __init__(self, stream: Stream, signaled: SignaledStream | None) -> None:
        self.stream = stream
        self.signaled = signaled
        self.pairs: dict[tuple[Endpoint, Endpoint, str], Pair] = {}
        # the controlling agent's checks: (time sent, whether it nominated: USE-CANDIDATE or NOMINATION)
        self.controlling_checks: list[tuple[float, bool]] = []
        self.icev6_agents: dict[str, Agent] = {}  # [MS-ICE] candidate username -> its agent

    def agents(self) -> list[Agent]:
        return [a for a in (self.stream.controlling, self.stream.controlled) if a is not None]

    def agent_by_key(self, key: str, form: str) -> Agent | None:
        if form == "ms-icev6" and key in self.icev6_agents:
            return self.icev6_agents[key]
        for agent in self.agents():
            if form == "ms-icev6":
                if any(c.foundation == key for c in agent.candidates):
                    return agent
            elif agent.ufrag == key:
                return agent
        return None


class CheckMatcher:
    """Finds the ICE session a check's USERNAME belongs to: a signaled one, or one made up from the
    two ufrags when no signaling fits (remembered, so later checks of the pair find it)."""

    def __init__(self, sessions: list[Session], icev6_sides: Icev6Calls) -> None:
        self.sessions = sessions
        self.signaled_by_ufrag = _index_by_ufrag(sessions)
        self.matching: dict[tuple[str, str, str], list[Session]] = {}  # signaled sessions a USERNAME fits
        self.by_ufrags: dict[frozenset[str], Session] = {}
        self.icev6_sides = icev6_sides
        self.icev6_sessions: dict[int, Session] = {}

    def session_for(self, t: Transaction, form: str, recv_key: str, send_key: str) -> Session:
        if form == "ms-icev6":
            # ICEv6 names candidates, not agents, and candidates are learnt as checks go: search
            session = _find_session(_matching(self.sessions, form, recv_key, send_key), t)
            if session is None and send_key in self.icev6_sides.side:
                session = _icev6_session(self.sessions, self.icev6_sessions, self.icev6_sides, send_key)
        else:
            key3 = (form, recv_key, send_key)
            if key3 not in self.matching:
                self.matching[key3] = _matching(self.signaled_by_ufrag.get(recv_key, []), form, recv_key, send_key)
            session = _find_session(self.matching[key3], t)
        if session is not None:
            return session
        key = frozenset((recv_key, send_key))
        found = self.by_ufrags.get(key)
        if found is None:
            a, b = Agent(name=f"ufrag:{send_key}", ufrag=send_key), Agent(name=f"ufrag:{recv_key}", ufrag=recv_key)
            found = Session(Stream(call_id=None, index=None, media=None, controlling=a, controlled=b), None)
            self.by_ufrags[key] = found
            self.sessions.append(found)
        return found


def _index_by_ufrag(sessions: list[Session]) -> dict[str, list[Session]]:
    """Signaled sessions by each agent's ufrag, in session order: a busy capture holds thousands
    of calls, and searching them all for every check made correlation quadratic."""
    index: dict[str, list[Session]] = {}
    for session in sessions:
        for ufrag in {a.ufrag for a in session.agents() if a.ufrag}:
            index.setdefault(ufrag, []).append(session)
    return index


def _matching(sessions: list[Session], form: str, recv_key: str, send_key: str) -> list[Session]:
    """The signaled sessions with two different agents named by a check's USERNAME."""
    out = []
    for s in sessions:
        if not s.signaled:
            continue
        receiver, sender = s.agent_by_key(recv_key, form), s.agent_by_key(send_key, form)
        if receiver and sender and receiver is not sender:
            out.append(s)
    return out


def _find_session(matches: list[Session], t: Transaction) -> Session | None:
    if len(matches) > 1:
        # shared ufrags across media lines: the one whose candidates hold these addresses
        for s in matches:
            addresses = {c.address for a in s.agents() for c in a.candidates}
            if t.src in addresses or t.dst in addresses:
                return s
    return matches[0] if matches else None


@dataclass
class Icev6Calls:
    """[MS-ICE] candidate usernames grouped into calls, and each call's keys into its two agents."""

    side: dict[str, tuple[int, int]]  # key -> (call, side)
    members: dict[int, dict[int, list[str]]]  # call -> side -> keys, in order of appearance


def icev6_sides(transactions: list[Transaction]) -> Icev6Calls:
    """Group [MS-ICE] per-candidate credentials into agents and calls from the checks alone.

    A check's USERNAME names one candidate of each agent, so its two keys are on opposite sides.
    Keys used from, or checked at, one transport address belong to the agent owning that
    socket (a server-reflexive candidate is checked from its base: libnice in OC2007 mode sends
    checks for its host and srflx candidates from one socket). Every agent a side checked or was
    checked by is that side's single peer.
    """
    parent: dict[object, object] = {}

    def find(x: object) -> object:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: object, b: object) -> bool:
        ra, rb = find(a), find(b)
        if ra == rb:
            return False
        parent[rb] = ra
        return True

    checks: list[tuple[str, str]] = []
    for t in transactions:
        req = t.request
        if req.method != "binding" or req.username is None:
            continue
        parsed = split_username(req.username)
        if parsed is None or parsed[0] != "ms-icev6":
            continue
        _, recv, send = parsed
        union(("at", t.src), ("key", send))
        union(("at", t.dst), ("key", recv))
        checks.append((send, recv))
    changed = True
    while changed:
        changed = False
        peer_of: dict[object, object] = {}
        for send, recv in checks:
            for me, other in ((send, recv), (recv, send)):
                known = peer_of.setdefault(find(("key", me)), ("key", other))
                changed = union(known, ("key", other)) or changed
    agent_of = {key: find(("key", key)) for pair in checks for key in pair}
    for send, recv in checks:  # a call: two agents joined by checks (a second forest, over agents)
        union(("call", agent_of[send]), ("call", agent_of[recv]))
    numbers: dict[object, int] = {}
    out = Icev6Calls({}, {})
    for send, recv in checks:
        for key in (send, recv):
            if key in out.side:
                continue
            number = numbers.setdefault(find(("call", agent_of[key])), len(numbers))
            sides = out.members.setdefault(number, {})
            side = next((i for i, keys in sides.items() if agent_of[keys[0]] == agent_of[key]), len(sides))
            sides.setdefault(side, []).append(key)
            out.side[key] = (number, side)
    return out


def _icev6_session(sessions: list[Session], by_call: dict[int, Session], calls: Icev6Calls, sender_key: str) -> Session:
    """The session of an [MS-ICE] call: the signaled one that knows any of its candidates, or one
    built from the wire with an agent per side (no roles: [MS-ICE] checks carry none)."""
    call, sender_side = calls.side[sender_key]
    if call in by_call:
        return by_call[call]
    members = calls.members[call]
    session: Session | None = None
    agents: dict[int, Agent] = {}
    for candidate in sessions:
        if candidate.signaled is None:
            continue
        for side, keys in members.items():
            for agent in candidate.agents():
                if any(c.foundation in keys for c in agent.candidates):
                    agents[side] = agent
        if agents:
            session = candidate
            others = [a for a in candidate.agents() if a not in agents.values()]
            for side in members:
                if side not in agents and others:
                    agents[side] = others.pop(0)
            break
        agents = {}
    if session is None:
        order = [sender_side] + [side for side in members if side != sender_side]
        agents = {side: Agent(name=f"icev6:{members[side][0]}") for side in order}
        first, second = (agents[side] for side in order[:2]) if len(order) > 1 else (agents[order[0]], None)
        session = Session(Stream(call_id=None, index=None, media=None, controlling=first, controlled=second), None)
        sessions.append(session)
    for side, keys in members.items():
        if side in agents:
            for key in keys:
                session.icev6_agents[key] = agents[side]
    by_call[call] = session
    return session
