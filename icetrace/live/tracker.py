"""Calls followed as a capture is written: each ICE session is told once, when it ends, and what it
needed is then forgotten, so memory follows the calls open at once, not the hours read.

The tracker keeps the STUN/TURN records, SIP messages and media counts read so far. Now and then
(every `tick` seconds of capture time, at once when a BYE goes by, and at the end) it correlates and
diagnoses what it holds, exactly as `analyze` does, and tells the sessions that have ended: their
call said BYE (or CANCEL, or refused the INVITE), or nothing of theirs (checks, media, signaling)
has been seen for `idle` seconds (RFC 7675: consent expires 30 s after the last answered check).
What only told sessions used, and anything older than the horizon that no open session uses, is
dropped.
"""

from __future__ import annotations

import time as wall
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from icetrace.capture.packet_source import PacketSource
from icetrace.ice.correlator import correlate
from icetrace.ice.diagnosis import diagnose
from icetrace.ice.model import Stream, Verdict
from icetrace.ice.transactions import FINAL_WAIT
from icetrace.live.forked import ForkedLook
from icetrace.live.forked import available as forked_looks_available
from icetrace.records.capture_set import CaptureSet, display_names
from icetrace.records.endpoint import Endpoint
from icetrace.records.extract import RecordExtractor
from icetrace.records.icmp_error import IcmpError
from icetrace.records.media_flow import MediaFlow
from icetrace.records.relayed import RelayedCount, RelayedCounter
from icetrace.records.stun_record import StunRecord
from icetrace.records.transport_packet import TransportPacket
from icetrace.report.summary import SessionLine, session_lines
from icetrace.signaling.app_model import build_app_model
from icetrace.signaling.collect import SignalingCollector
from icetrace.signaling.dialogs import build_model
from icetrace.signaling.model import SignalingModel

ENDING_METHODS = ("BYE", "CANCEL")
CHILD_SHARE = 0.75
"""The share of a quick look's calls a forked child analyses (WatchOptions.parallel): this process
reads the capture besides analysing the rest, and reading takes about half as long as analysing."""
REMEMBERED = 65536
"""Sessions remembered as told, so a late packet of one does not tell it again."""


@dataclass(frozen=True)
class WatchOptions:
    idle: float = 30.0  # seconds of capture time without checks, media or signaling that end a session
    tick: float = 1.0  # seconds of capture time between quick looks at the calls that said BYE
    full_tick: float = 1.0  # seconds of capture time between looks at everything held (idle sessions)
    prompt: bool = True  # a quick look at once when a call ends (watch), not only every tick (a file)
    ordered: bool = True  # tell in the order sessions ended (watch); a file's analysis need not wait
    app_signaling: bool = True
    # decide each look but the last in a forked child while reading goes on (a file's analysis:
    # nobody waits for a story, so it may come a look later); applied in the order looks began
    parallel: bool = False


@dataclass
class Ended:
    """A session told: its summary line (stream, cause, verdicts) and why and when it ended."""

    line: SessionLine
    reason: str  # "BYE", "CANCEL", "refused", "idle", "capture ended"
    at: float
    captures: CaptureSet = CaptureSet()  # the files read when it was told: how its frames read
    prepared: Any = None  # what the tracker's `prepare` made of it where it was analysed


@dataclass
class Telling:
    """A session a look found ended: told when the look's decision is applied."""

    ended: Ended
    key: int  # session_key
    used: frozenset[Endpoint]  # the addresses its packets used, let go once it is released
    call_id: str | None
    until: float  # capture time its data is kept to, for capture-wide findings about it to settle


@dataclass
class Decision:
    """What one look decided from what was held when it began (its capture time `now`)."""

    now: float
    full: bool = False  # a look at everything held, not only the calls that ended
    tellings: list[Telling] = field(default_factory=list)
    barrier: float | None = None  # tell what ended up to then (None: nothing to tell)
    capture_verdicts: dict[tuple[str, str], Verdict] = field(default_factory=dict)  # newly settled
    skipped: set[Endpoint] = field(default_factory=set)  # the young calls' addresses, kept as in use
    # a full look: every session held, by key, the addresses it uses and its call
    sessions: list[tuple[int, frozenset[Endpoint], str | None]] = field(default_factory=list)

    def joined(self, other: Decision) -> Decision:
        """This quick look's decision and `other`'s, about other calls of the same look."""
        barriers = [b for b in (self.barrier, other.barrier) if b is not None]
        verdicts = dict(self.capture_verdicts)
        for key, verdict in other.capture_verdicts.items():
            verdicts.setdefault(key, verdict)
        return Decision(
            self.now,
            tellings=self.tellings + other.tellings,
            barrier=min(barriers) if barriers else None,
            capture_verdicts=verdicts,
            skipped=self.skipped | other.skipped,
        )


def session_key(stream: Stream) -> int:
    """A session by its call, stream and agents' usernames, hashed: hours of told sessions are
    remembered in a few bytes each (two of 65,536 sharing a 64-bit hash is a 1e-10 chance)."""
    agents = tuple(a.ufrag if a else None for a in (stream.controlling, stream.controlled))
    return hash((stream.call_id, stream.index, *agents))


def stream_endpoints(stream: Stream) -> set[Endpoint]:
    """Every address the session's packets can use: its candidates, their bases and the pairs'."""
    out: set[Endpoint] = set()
    for agent in (stream.controlling, stream.controlled):
        for c in agent.candidates if agent else []:
            out |= c.wire_addresses
            if c.related is not None:
                out.add(c.related)
    for component in stream.components:
        for pair in component.pairs:
            out |= pair.controlling.wire_addresses | pair.controlled.wire_addresses
    return out


def last_activity(stream: Stream) -> float | None:
    times = [p.last_check for c in stream.components for p in c.pairs if p.last_check is not None]
    times += [f.last_time for f in stream.media_flows]
    times += [
        c.signaled_at for a in (stream.controlling, stream.controlled) if a for c in a.candidates if c.signaled_at
    ]
    return max(times) if times else None


class CallTracker:
    """Feed it every packet of a live capture; `emit` hears each ended session once, in end order."""

    def __init__(
        self,
        source: PacketSource,
        name: str,
        emit: Callable[[Ended], None],
        options: WatchOptions = WatchOptions(),
        prepare: Callable[[Ended], None] | None = None,
    ) -> None:
        """`prepare` hears each told session where it was analysed (a forked child, with
        options.parallel), before `emit` hears it in the order told."""
        self.source = source
        self.name = name
        self.emit = emit
        self.prepare = prepare
        self.options = options
        self.extractor = RecordExtractor(all_bytes=False)
        self.signaling = SignalingCollector(name, app_signaling=options.app_signaling)
        self.records: list[StunRecord] = []
        self.relayed = RelayedCounter()
        self.told: OrderedDict[int, None] = OrderedDict()
        self.pending: list[Ended] = []  # ended, waiting for an earlier session still settling
        # told sessions' data is kept FINAL_WAIT longer, so capture-wide findings about it settle
        self.release: dict[int, tuple[float, frozenset[Endpoint], str | None]] = {}
        self.told_calls: set[str] = set()  # calls whose sessions are all told
        self.quick_looked = 0.0  # capture time of the last quick look
        self.quick_seconds = 0.0  # how long the last quick look took (wall clock)
        self.capture_verdicts: dict[tuple[str, str], Verdict] = {}  # call_id None, settled, once each
        self.call_ended: dict[str, tuple[str, float]] = {}  # Call-ID -> (BYE/CANCEL/refused, time)
        self.call_started: dict[str, float] = {}  # Call-ID -> its first SIP message's time
        self.now = 0.0
        self.looked = 0.0  # capture time of the last look
        self.look_seconds = 0.0  # how long the last look took (wall clock): looks are spaced to it
        self.look_ended = 0.0  # wall clock (monotonic) at the end of the last look
        self.sessions_told = 0
        self.records_seen = 0  # STUN/TURN messages and ChannelData read, relayed media included
        self.start: float | None = None  # the first STUN/TURN message's time: stories count from it
        self._captures = CaptureSet()
        self._named = -1  # the index of the file the signaling collector names as its source
        # the look deciding in a forked child, with the part of it decided here
        self._forked: tuple[ForkedLook, Decision | None] | None = None
        source.clock = self.advance

    def captures(self) -> CaptureSet:
        """The files read so far as one timeline (a ring buffer's), how their frame ids read."""
        names = self.source.read_names
        if len(names) != len(self._captures.names):
            self._captures = CaptureSet(display_names(names), timeline=True)
        return self._captures

    def feed(self, packet: TransportPacket) -> None:
        self.now = max(self.now, packet.time)
        for record in self.extractor.feed(packet):
            self.records_seen += 1
            if not self.relayed.add(record):
                self.records.append(record)
                if self.start is None or record.time < self.start:
                    self.start = record.time
        if self.source.reading != self._named:  # a ring buffer's next file: its signaling named by it
            self._named = self.source.reading
            self.signaling.rename(self.captures().names[self._named])
        before = len(self.signaling.sip.messages)
        self.signaling.feed(packet)
        ending = False
        for _, message in self.signaling.sip.messages[before:]:
            ending |= self._note_ending(message, packet.time)
            if message.call_id:
                self.call_started.setdefault(message.call_id, packet.time)
        # a BYE is looked at at once (watch: told as it ends), unless looks would then take more
        # than half the time: a busy server's calls end hundreds a second
        prompt = ending and self.options.prompt and wall.monotonic() - self.look_ended >= self.look_seconds
        if prompt or self.now - self.quick_looked >= self.options.tick:
            self.quick_look()
        self._maybe_look()

    def advance(self, now: float) -> None:
        """The time of a frame the packet source may not hand on (media, other traffic): the
        capture's clock moves on without STUN or SIP."""
        if now > self.now:
            self.now = now
            if self.now - self.quick_looked >= self.options.tick:
                self.quick_look()
            self._maybe_look()

    def _maybe_look(self) -> None:
        if self.now - self.looked >= max(self.options.full_tick, 2 * self.look_seconds):
            self.look()

    def _note_ending(self, message: object, time: float) -> bool:
        call_id = getattr(message, "call_id", None)
        method, status = getattr(message, "method", None), getattr(message, "status", None)
        cseq_method = getattr(message, "cseq", (None, None))[1]
        if not call_id:
            return False
        if method in ENDING_METHODS:
            self.call_ended.setdefault(call_id, (method, time))
            return True
        if status is not None and status >= 300 and cseq_method == "INVITE":
            self.call_ended.setdefault(call_id, ("refused", time))
            return True
        return False

    def finish(self) -> None:
        """The capture ended: every session still open is told."""
        self.signaling.finish()
        self.look(final=True)

    def close(self) -> None:
        """Stop a look still running in a forked child (reading stopped early)."""
        if self._forked is not None:
            self._forked[0].cancel()
            self._forked = None

    def look(self, final: bool = False) -> None:
        """Analyse what is held; tell the sessions that ended, in the order they ended. One that
        ended after a session still settling (its last checks may yet be answered or time out)
        waits for that one, so the order holds."""
        started = wall.monotonic()
        self.looked = self.now
        self._collect()
        if self._parallel() and not final:
            self._forked = (ForkedLook(lambda: self._decide_all(final)), None)
        else:
            self._apply(self._decide_all(final))
        self.look_ended = wall.monotonic()
        self.look_seconds = self.look_ended - started

    def quick_look(self) -> None:
        """Analyse only the calls that said BYE (CANCEL, refused) and are not told yet, with the
        records, media and signaling of their own addresses: each such call once, whatever else
        is held; then let go of what released sessions used. In parallel, a forked child takes
        CHILD_SHARE of the calls while this process takes the rest and then reads on."""
        started = wall.monotonic()
        self.quick_looked = self.now
        self._collect()
        wanted = sorted(c for c in self.call_ended if c not in self.told_calls)
        if self._parallel() and wanted:
            cut = round(len(wanted) * CHILD_SHARE)
            theirs, mine = set(wanted[:cut]), set(wanted[cut:])
            forked = ForkedLook(lambda: self._decide_ended(theirs))
            self._forked = (forked, self._decide_ended(mine))
        else:
            self._apply(self._decide_ended(set(wanted)))
        self.look_ended = wall.monotonic()
        self.quick_seconds = self.look_ended - started

    def _parallel(self) -> bool:
        return self.options.parallel and forked_looks_available()

    def _collect(self) -> None:
        """Apply the look decided (in part) in a forked child, before the next look is decided."""
        if self._forked is None:
            return
        (forked, own), self._forked = self._forked, None
        decision = forked.result()
        self._apply(decision if own is None else decision.joined(own))

    def _decide_all(self, final: bool) -> Decision:
        decision = Decision(self.now, full=True)
        skip = set() if final else self._young_calls()
        settling: list[float] = []
        for line in self._analyse(decision, final, skip=skip):
            story = line.story
            key = session_key(story)
            decision.sessions.append((key, frozenset(stream_endpoints(story)), story.call_id))
            if key in self.told:
                continue
            if not final and self._settling(story):
                settling.append(last_activity(story) or self.now)
                continue
            ending = self._ending(story) or (("capture ended", self.now) if final else None)
            if ending is not None:
                decision.tellings.append(self._telling(line, ending, FINAL_WAIT))
        decision.barrier = min(settling, default=float("inf"))
        return decision

    def _decide_ended(self, wanted: set[str]) -> Decision:
        decision = Decision(self.now)
        if wanted:
            settling: list[float] = []
            for line in self._analyse(decision, False, wanted):
                if session_key(line.story) in self.told:
                    continue
                if self._settling(line.story):
                    settling.append(last_activity(line.story) or self.now)
                elif (ending := self._ending(line.story)) is not None:
                    decision.tellings.append(self._telling(line, ending, 0.0))  # capture-wide findings in hand
            # a session gone idle since the last full look is found at the next one: what ended
            # after that look waits for it, so the order holds
            decision.barrier = min([*settling, self.looked])
        return decision

    def _telling(self, line: SessionLine, ending: tuple[str, float], grace: float) -> Telling:
        stream = line.story
        ended = Ended(line, *ending, self.captures())
        used = frozenset(stream_endpoints(stream))
        telling = Telling(ended, session_key(stream), used, stream.call_id, self.now + grace)
        if self.prepare is not None:
            self.prepare(ended)  # where the story is: the listener may keep what it needs of it
        return telling

    def _apply(self, decision: Decision) -> None:
        for key, verdict in decision.capture_verdicts.items():
            self.capture_verdicts.setdefault(key, verdict)
        for telling in decision.tellings:
            self._tell(telling)
        if not decision.full:
            if decision.barrier is not None:
                self._emit_pending(decision.barrier)
            self._let_go(self._released_data(decision.now))
            return
        released = self._released(decision.now)
        sessions = decision.sessions
        open_sessions = [(used, call_id) for key, used, call_id in sessions if key not in released]
        told_sessions = [(used, call_id) for key, used, call_id in sessions if key in released]
        self._emit_pending(decision.barrier if decision.barrier is not None else float("inf"))
        self._forget(open_sessions, told_sessions, decision)

    def _tell(self, telling: Telling) -> None:
        self._remember(telling.key)
        self.release[telling.key] = (telling.until, telling.used, telling.call_id)
        if telling.call_id:
            self.told_calls.add(telling.call_id)
        self.pending.append(telling.ended)

    def _released(self, now: float) -> set[int]:
        """The told sessions whose FINAL_WAIT has passed by `now`: their data may go."""
        out = {key for key, (until, _, _) in self.release.items() if until <= now}
        for key in out:
            del self.release[key]
        return out

    def _emit_pending(self, barrier: float) -> None:
        if not self.options.ordered:
            barrier = float("inf")
        self.pending.sort(key=lambda e: (e.at, e.line.label))
        while self.pending and self.pending[0].at <= barrier:
            self.sessions_told += 1
            self.emit(self.pending.pop(0))  # the listener may let the story go

    def _released_data(self, now: float) -> tuple[set[Endpoint], set[str]]:
        endpoints: set[Endpoint] = set()
        calls: set[str] = set()
        for key, (until, used, call_id) in list(self.release.items()):
            if until <= now:
                del self.release[key]
                endpoints |= used
                if call_id:
                    calls.add(call_id)
        return endpoints, calls

    def _let_go(self, released: tuple[set[Endpoint], set[str]]) -> None:
        """Drop what released sessions alone used (their addresses and calls)."""
        done, calls = released
        if not done and not calls:
            return

        def keep(src: Endpoint, dst: Endpoint, last: float) -> bool:
            return src not in done and dst not in done

        self.records = [r for r in self.records if r.src not in done and r.dst not in done]
        for key in [k for k, flow in self.relayed.flows.items() if not keep(flow.src, flow.dst, flow.last_time)]:
            del self.relayed.flows[key]
        self.source.forget(keep)
        self.extractor.forget(lambda client, server: keep(client, server, self.now))
        self.signaling.sip.messages = [(ref, m) for ref, m in self.signaling.sip.messages if m.call_id not in calls]
        for call_id in calls:
            self.call_ended.pop(call_id, None)
            self.call_started.pop(call_id, None)
            self.told_calls.discard(call_id)

    def _young_calls(self) -> set[str]:
        """Calls whose first SIP message is less than --idle seconds old and that have not ended:
        none of their sessions can have gone idle, so a look at everything held need not analyse
        them (their BYE brings a quick look)."""
        young = self.now - self.options.idle
        return {c for c, t in self.call_started.items() if t > young and c not in self.call_ended}

    def _analyse(
        self, decision: Decision, final: bool, calls: set[str] | None = None, skip: set[str] | None = None
    ) -> list[SessionLine]:
        """Correlate and diagnose what is held, or only `calls` and what their addresses carried;
        without the calls `skip` names and what their addresses carried (kept as in use: the
        decision's `skipped`)."""
        messages = self.signaling.sip_messages
        if calls is not None:
            messages = [(ref, m) for ref, m in messages if m.call_id in calls]
        if skip:
            skipped = [(ref, m) for ref, m in messages if m.call_id in skip]
            decision.skipped = _signaled_endpoints(build_model(skipped, SignalingModel()))
            messages = [(ref, m) for ref, m in messages if m.call_id not in skip]
        model = build_model(messages, SignalingModel())
        if calls is None:
            build_app_model(self.signaling.signals, model)
        mine = _signaled_endpoints(model) if calls is not None else None
        held = self.source.so_far(mine)  # only what the calls' own addresses carried, for a few calls
        records, media, icmp = self.records, held.media_flows, held.icmp_errors
        relayed = [*(replace(c) for c in self.relayed.flows.values()), *held.relayed]
        if mine is not None:
            records = [r for r in records if r.src in mine or r.dst in mine or _relay_peer_live(r, mine)]
            relayed = [c for c in relayed if c.src in mine or c.dst in mine]
        if decision.skipped:
            records, media, icmp, relayed = _without(decision.skipped, records, media, icmp, relayed)
        counts = RelayedCounter()
        for count in relayed:
            counts.include(count)
        rec = correlate(
            list(records),
            capture_end=self.now,
            signaling=model,
            media=media,
            icmp_errors=icmp,
            relayed=counts.counts(),
            captures=self.captures(),
        )
        verdicts = diagnose(rec)
        # calls that said BYE are over: what the capture shows of them is settled
        self._keep_capture_verdicts(decision, verdicts, final or calls is not None)
        return session_lines(rec, verdicts)

    def _keep_capture_verdicts(self, decision: Decision, verdicts: Iterable[Verdict], final: bool) -> None:
        """Findings about the capture, not one call: each kept once, when every frame it cites is
        FINAL_WAIT old (an answer still on its way would change it), or at the end."""
        times = {r.frame: r.time for r in self.records}
        settled = self.now - FINAL_WAIT
        for v in verdicts:
            key = (v.code, v.message)
            if v.call_id is not None or key in self.capture_verdicts or key in decision.capture_verdicts:
                continue
            if final or all(times.get(frame, float("inf")) <= settled for frame in v.frames):
                decision.capture_verdicts[key] = v

    def _settling(self, stream: Stream) -> bool:
        """Whether a check of the session is still unanswered and may yet be (RFC 5389 §7.2.1: the
        last wait is FINAL_WAIT after the last transmission), so its outcome is not known yet."""
        return any(
            o == "unanswered" and p.last_check is not None and self.now - p.last_check < FINAL_WAIT
            for c in stream.components
            for p in c.pairs
            for o in p.outcomes
        )

    def _ending(self, stream: Stream) -> tuple[str, float] | None:
        """(why, when) the session ended, or None while it is open."""
        if stream.call_id is not None and stream.call_id in self.call_ended:
            return self.call_ended[stream.call_id]
        last = last_activity(stream)
        if last is not None and self.now - last >= self.options.idle:
            return "idle", last + self.options.idle  # ended when its silence had lasted that long
        return None

    def _remember(self, key: int) -> None:
        self.told[key] = None
        while len(self.told) > REMEMBERED:
            self.told.popitem(last=False)

    def _forget(
        self,
        open_sessions: Iterable[tuple[frozenset[Endpoint], str | None]],
        told_sessions: Iterable[tuple[frozenset[Endpoint], str | None]],
        decision: Decision,
    ) -> None:
        """Drop what told sessions used, unless an open one uses it too, and what no open session
        uses and the horizon (the look's time less --idle) no longer covers (it may still become
        part of a session). Sessions by the addresses they use and their call."""
        live: set[Endpoint] = set(decision.skipped)  # the young calls' addresses: not looked at, in use
        open_calls: set[str] = set()
        for used, call_id in open_sessions:
            live |= used
            if call_id:
                open_calls.add(call_id)
        done: set[Endpoint] = set()
        told_calls: set[str] = set()
        for used, call_id in told_sessions:
            done |= used
            if call_id:
                told_calls.add(call_id)
        done -= live
        horizon = decision.now - self.options.idle

        def keep(src: Endpoint, dst: Endpoint, last: float) -> bool:
            if src in live or dst in live:
                return True
            return last >= horizon and src not in done and dst not in done

        self.records = [r for r in self.records if keep(r.src, r.dst, r.time) or _relay_peer_live(r, live)]
        for key in [k for k, flow in self.relayed.flows.items() if not keep(flow.src, flow.dst, flow.last_time)]:
            del self.relayed.flows[key]
        self.source.forget(keep)
        self.extractor.forget(lambda client, server: keep(client, server, self.now))
        self.signaling.sip.messages = [
            (ref, message)
            for ref, message in self.signaling.sip.messages
            if message.call_id in open_calls
            or (message.call_id not in told_calls and (ref.time is None or ref.time >= horizon))
        ]
        for call_id in [c for c, (_, t) in self.call_ended.items() if c not in open_calls and t < horizon]:
            del self.call_ended[call_id]
        for call_id in [c for c, t in self.call_started.items() if c not in open_calls and t < horizon]:
            del self.call_started[call_id]
        self.told_calls -= told_calls


def _signaled_endpoints(model: SignalingModel) -> set[Endpoint]:
    """Every candidate address (and base) the calls' SDP names."""
    out: set[Endpoint] = set()
    for call in model.calls:
        for exchange in call.exchanges:
            for body in exchange.bodies:
                for media in body.media:
                    for c in media.candidates:
                        out.add(c.address)
                        if c.related is not None:
                            out.add(c.related)
    return out


def _without(
    skipped: set[Endpoint],
    records: list[StunRecord],
    media: list[MediaFlow],
    icmp: list[IcmpError],
    relayed: list[RelayedCount],
) -> tuple[list[StunRecord], list[MediaFlow], list[IcmpError], list[RelayedCount]]:
    """What is held, less what went to or from the skipped addresses."""
    return (
        [r for r in records if not (r.src in skipped or r.dst in skipped or _relay_peer_live(r, skipped))],
        [f for f in media if not (f.src in skipped or f.dst in skipped)],
        [e for e in icmp if not (e.quoted_src in skipped or e.quoted_dst in skipped)],
        [c for c in relayed if not (c.src in skipped or c.dst in skipped)],
    )


def _relay_peer_live(record: StunRecord, live: set[Endpoint]) -> bool:
    hop = record.relay
    return hop is not None and hop.peer is not None and hop.peer in live
