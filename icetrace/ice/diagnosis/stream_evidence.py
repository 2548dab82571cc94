"""What the capture shows about one stream, read by the cause rules: its pairs and their checks,
which direct pairs were tried and went unanswered, what the agents' STUN/TURN servers answered,
the NAT mappings the agents got, and where the capture's sight ends.

Worked out from the stream's own checks and its agents' own server traffic (found by the IPs the
agents send from), so deciding a cause per stream stays linear in a busy capture.
"""

from __future__ import annotations

import ipaddress
from functools import cached_property

from icetrace.ice.addresses import private_address
from icetrace.ice.diagnosis.facts import Facts
from icetrace.ice.model import Agent, Mapping, Pair, Stream
from icetrace.ice.transactions import Transaction

UNANSWERED_AFTER = 2.0
"""Seconds after its first check with no answer at all before a pair that is still in progress
counts as unanswered: four times RFC 8489's initial RTO (500 ms) and longer than any round trip a
connectivity check waits for (RFC 8445 §14.3 paces checks tens of milliseconds apart)."""

RTO = 0.5
"""RFC 8489 §6.2.1's initial retransmission timeout: a check sent again after at least this long
without an answer was given up for lost by its sender, as a retransmission (aioice, libnice,
Firefox) or as a new transaction (Chromium never retransmits, it checks again)."""

NO_ANSWER = ("timeout", "unanswered", "cancelled", "icmp-error")

GATHERING_BEFORE = 120.0
"""Seconds before a stream's first check in which its agents' requests to STUN/TURN servers count
as its own: an agent gathers before it signals, and a call may ring a while before it is answered
and checked."""

KEEPING_AFTER = 120.0
"""Seconds after its last check in which they still do: TURN keeps an allocation, its permissions
and channels alive with requests every few minutes (RFC 8656 §7: lifetime 600 s by default,
permissions 300 s, channels 600 s), and the first of them is what shows the relay died too."""


def same_network(a: str, b: str) -> bool:
    """Two private addresses on one LAN, judged without netmasks: the same /24 (IPv4) or /64
    (IPv6), the prefixes LANs use; anything wider is taken as two networks."""
    try:
        x, y = ipaddress.ip_address(a), ipaddress.ip_address(b)
    except ValueError:
        return False
    if x.version != y.version:
        return False
    bits = 24 if x.version == 4 else 64
    return ipaddress.ip_network(f"{a}/{bits}", strict=False) == ipaddress.ip_network(f"{b}/{bits}", strict=False)


class StreamEvidence:
    """The capture's evidence about one stream, each part worked out when first read."""

    def __init__(self, facts: Facts, stream: Stream) -> None:
        self.facts = facts
        self.stream = stream
        self._own: dict[int, set[str]] = {}

    # -- the stream itself ---------------------------------------------------------------------

    @cached_property
    def pairs(self) -> list[Pair]:
        return [p for c in self.stream.components for p in c.pairs]

    @cached_property
    def selected(self) -> Pair | None:
        """The first component's selected pair (RTP's, or the only one)."""
        return next((c.selected for c in self.stream.components if c.selected is not None), None)

    @property
    def connected(self) -> bool:
        return self.stream.outcome == "connected" and self.selected is not None

    @property
    def agents(self) -> list[Agent]:
        return [a for a in (self.stream.controlling, self.stream.controlled) if a is not None]

    def frame(self, frame: int) -> str:
        """A frame as the outputs name it: its number, and its file when several captures were read."""
        return self.facts.rec.captures.frame_text(frame)

    def seconds(self, when: float) -> float:
        """A capture time as seconds from the capture's first STUN/TURN message."""
        return when - self.facts.start

    @cached_property
    def checks(self) -> list[tuple[Transaction, str | None, Pair | None]]:
        """The stream's checks: transaction, sender name and pair."""
        return [(c.transaction, c.sender, c.pair) for c in self.facts.checks_by_stream.get(id(self.stream), [])]

    def checks_on(self, pair: Pair) -> list[tuple[Transaction, str | None]]:
        return [(t, sender) for t, sender, p in self.checks if p is pair]

    # -- direct pairs --------------------------------------------------------------------------

    @cached_property
    def tried_direct(self) -> list[Pair]:
        """Pairs on no relay whose checks the capture holds."""
        return [p for p in self.pairs if not p.is_relay and p.checks_from_controlling + p.checks_from_controlled]

    def unanswered(self, p: Pair) -> bool:
        """Checked, never answered, and given up (failed), refused by the network (ICMP), sent again
        at least an RTO later without an answer, or left without one for UNANSWERED_AFTER seconds
        while the capture went on."""
        if p.state == "succeeded" or p.answers_to_controlling + p.answers_to_controlled:
            return False
        if p.state == "failed" or p.icmp:
            return True
        if p.first_check is None:
            return False
        sent_again = p.requests_by_controlling + p.requests_by_controlled > 1
        if sent_again and p.last_check is not None and p.last_check - p.first_check >= RTO:
            return True
        return self.facts.rec.capture_end - p.first_check >= UNANSWERED_AFTER

    @staticmethod
    def workable(p: Pair) -> bool:
        """Whether a direct pair could carry packets at all: not two private addresses of different
        networks (no router between two LANs forwards to the other's private addresses)."""
        a, b = p.controlling.address.ip, p.controlled.address.ip
        if private_address(a) and private_address(b):
            return same_network(a, b)
        return True

    # -- the agents' own traffic to STUN/TURN servers -----------------------------------------------

    def own_ips(self, agent: Agent) -> set[str]:
        """The IPs an agent's packets leave from outside any relay: its host and server-reflexive
        candidates (and their bases), not addresses on a TURN server."""
        known = self._own.get(id(agent))
        if known is not None:
            return known
        hosts = self.facts.relay_hosts
        out: set[str] = set()
        for c in agent.candidates:
            if c.type == "relay" or hosts.why(c) is not None:
                continue
            out.add(c.address.ip)
            if c.related is not None:
                out.add(c.related.ip)
        self._own[id(agent)] = out
        return out

    @cached_property
    def span(self) -> tuple[float, float] | None:
        """When the stream's checks ran: first sent, last sent."""
        times = [t.request.time for t, _, _ in self.checks]
        times += [p.first_check for p in self.pairs if p.first_check is not None]
        return (min(times), max(times)) if times else None

    def server_requests(self, agent: Agent) -> list[Transaction]:
        """Requests the agent's IPs sent to STUN/TURN servers around the stream's checks, in time order."""
        span = self.span
        if span is None:
            return []
        start, end = span[0] - GATHERING_BEFORE, span[1] + KEEPING_AFTER
        found = [t for ip in sorted(self.own_ips(agent)) for t in self.facts.server_requests_between(ip, start, end)]
        return sorted(found, key=lambda t: t.request.time)

    def public_ips(self, agent: Agent) -> set[str]:
        """The public IPs the agent's NAT presents it as: its server-reflexive candidates, the
        mappings servers reported for its bases, and its public host candidates."""
        out: set[str] = set()
        own = self.own_ips(agent)
        for c in agent.candidates:
            if c.type in ("srflx", "host", "prflx", "unknown") and not private_address(c.address.ip):
                if c.type == "srflx" or c.address.ip in own:
                    out.add(c.address.ip)
        by_base = self.facts.mappings_by_base_ip
        out |= {m.mapped.ip for ip in own for m in by_base.get(ip, ()) if not private_address(m.mapped.ip)}
        return out

    def mappings(self, agent: Agent) -> list[Mapping]:
        """What STUN/TURN servers reported as the mappings of the agent's sockets."""
        by_base = self.facts.mappings_by_base_ip
        return [m for ip in sorted(self.own_ips(agent)) for m in by_base.get(ip, ())]

    def who(self, agent: Agent) -> str:
        """The agent in words: its name and the IPs it sends from."""
        ips = sorted(self.own_ips(agent))
        return f"the agent {agent.name}" + (f" at {', '.join(ips[:2])}" if ips else "")

    # -- what the fallback says ------------------------------------------------------------------------

    def undecided(self) -> str:
        """The sentence for a stream no cause rule decided."""
        sel = self.selected
        if self.connected and sel is not None:
            return self._relayed_undecided(sel)
        if not self.pairs:
            return "No connectivity check of this stream is in the capture: it does not show how ICE went."
        succeeded = sum(1 for p in self.pairs if p.state == "succeeded")
        components = self.stream.components
        chosen = sum(1 for c in components if c.selected is not None)
        selected = "none selected" if not chosen else f"a selected pair in {chosen} of {len(components)} components"
        return (
            f"ICE neither connected nor failed within the capture ({len(self.pairs)} pair(s), {succeeded} "
            f"succeeded, {selected}): the capture ends, or this agent's part of the call ends, before it decided."
        )

    def _relayed_undecided(self, sel: Pair) -> str:
        if self.tried_direct:
            return (
                f"Relayed on {pair_words(sel)} while its direct checks were still waiting for an answer when the "
                "capture ended: it does not show whether they would have worked."
            )
        return (
            f"Relayed on {pair_words(sel)}, but the capture holds no direct check of this call: it does not show "
            "why no direct pair was used (taken where direct checks do not pass, or the agents tried none)."
        )


def pair_words(p: Pair) -> str:
    return f"{p.controlling.address} ({p.controlling.type}) <-> {p.controlled.address} ({p.controlled.type})"
