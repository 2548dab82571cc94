"""The cause rules tried first: a capture that cannot tell, an agent's network lost, consent lost on
a call that connected, a call without media, and a direct call.

Each rule reads one stream's evidence (stream_evidence.py) and says which fact explains how the
call ended up, with the frames that prove it; the registry (cause_registry.py) tries them in the
order of `CauseCode`. Why a call relayed: relay_causes.py; why it failed: failure_causes.py.
"""

from __future__ import annotations

from icetrace.ice.diagnosis.cause_registry import Found, cause
from icetrace.ice.diagnosis.stream_evidence import NO_ANSWER, StreamEvidence, pair_words
from icetrace.ice.diagnosis.wording import cite
from icetrace.ice.midcall import CONSENT_MIN_INTERVAL
from icetrace.ice.model import Pair
from icetrace.ice.transactions import Transaction
from icetrace.records.endpoint import Endpoint

Direction = tuple[Endpoint, Endpoint]


@cause(
    "unknown:partial-capture",
    "the capture lacks what would decide: it holds one direction of the stream's checks only, or nothing "
    "addressed to the agents that checked, or it starts after ICE completed on a relayed pair; also the "
    "answer when no other rule's evidence is in the capture",
    "the responses whose requests the capture lacks; the pair in use",
    "RFC 8489 §6.3 (a response echoes its request), RFC 7675 §5.1 (consent checks on the pair in use)",
    "capture where both directions of the call pass (each agent's LAN side), from before the call starts",
)
def _partial_capture(ev: StreamEvidence) -> Found | None:
    sel = ev.selected
    if ev.stream.mid_call and sel is not None and sel.is_relay:
        return Found(
            f"The capture starts after ICE completed, with the call on the relayed pair {pair_words(sel)}: "
            "why it relayed was decided before the capture began.",
            cite(sel.frames),
        )
    tried = [p for p in ev.pairs if p.checks_from_controlling + p.checks_from_controlled]
    if ev.connected or not tried or any(p.state == "succeeded" for p in tried):
        return None
    lacking = ev.facts.lacking
    blind = [(p, unseen) for p in tried if (unseen := _unseen_direction(ev, p, lacking)) is not None]
    if blind and len(blind) == len(tried):
        src, dst = blind[0][1]
        missing = [f for f in ev.facts.missing_directions if f.whole_direction]
        return Found(
            f"The capture lacks one direction of the call ({src} -> {dst} is not in it): the checks' answers "
            "would travel where it cannot see, so their silence proves nothing.",
            cite([r.frame for f in missing for r in f.responses], *[p.frames[:3] for p, _ in blind[:3]]),
        )
    senders = {a.ip for p in tried for a in (p.controlling.wire_addresses | p.controlled.wire_addresses)}
    if not any(p.relayed for p in tried) and not senders & ev.facts.addressed:
        return Found(
            f"The capture holds nothing addressed to {', '.join(sorted(senders))}: taken on one direction of "
            "the link, it cannot show whether the checks were answered.",
            cite(*[p.frames for p in tried]),
        )
    return None


def _unseen_direction(ev: StreamEvidence, p: Pair, lacking: set[Direction]) -> Direction | None:
    """The direction the capture lacks that the answers to the pair's checks would travel: between the
    pair's own ends, or, for a relayed check, back from the TURN server on the client's leg."""
    ends = (p.controlling.address, p.controlled.address)
    for direction in (ends, ends[::-1]):
        if direction in lacking:
            return direction
    for t, _ in ev.checks_on(p):
        for r in t.requests:
            if (r.dst, r.src) in lacking:
                return r.dst, r.src
    return None


@cause(
    "failed:network-lost",
    "an agent's checks and its own STUN/TURN traffic (refresh, permission, channel bind) stopped being "
    "answered together, after the server had answered it: the agent's own network died",
    "the server's last answer, the unanswered server requests and checks after it",
    "RFC 8656 §7-§12 (a TURN client's requests), RFC 8489 §6.2.1 (retransmissions), RFC 8445 §7.2.5.2",
    "check the network of the agent named: its link, Wi-Fi, VPN or firewall state went down after gathering",
)
def _network_lost(ev: StreamEvidence) -> Found | None:
    for agent in ev.agents:
        requests = ev.server_requests(agent)
        answered = [t.response.time for t in requests if t.response is not None]
        if not answered:
            continue
        last_ok = max(answered)
        after = [t for t in requests if t.request.time > last_ok]
        if not after or not any(t.outcome == "timeout" or t.icmp or len(t.requests) > 1 for t in after):
            continue
        # its checks from a second before the server's last answer on: the loss may predate that answer
        checks = [t for t, sender, _ in ev.checks if sender == agent.name and t.request.time > last_ok - 1.0]
        if not any(t.request.time > last_ok for t in checks) or any(t.outcome not in NO_ANSWER for t in checks):
            continue
        if any(t.outcome == "success" and t.request.time > last_ok for t, _, _ in ev.checks):
            continue
        last = next(t for t in requests if t.response is not None and t.response.time == last_ok)
        methods = ", ".join(sorted({t.request.method for t in after}))
        return Found(
            f"{ev.who(agent)} lost its network after {ev.seconds(last_ok):.1f} s: after the server's last answer "
            f"(frame {ev.frame(last.response.frame) if last.response else '?'}), its {len(after)} request(s) to the "
            f"STUN/TURN server ({methods}) and its {len(checks)} check(s) all went unanswered together.",
            cite(
                [last.response.frame] if last.response else [],
                [t.request.frame for t in after],
                [t.request.frame for t in checks],
            ),
            f"Check the network of {ev.who(agent)}: it went dark after gathering (link, Wi-Fi, VPN or firewall "
            "state); the far side and the servers were not at fault.",
        )
    return None


@cause(
    "failed:consent-lost",
    "the call connected, then the checks on the selected pair (consent freshness) stopped being answered "
    "and the agent gave the path up",
    "the last answered check on the selected pair and the unanswered ones after it",
    "RFC 7675 §5.1 (consent expires 30 s after the last answer)",
    "the path that carried the call was cut mid-call: check the firewalls and NATs on it (state timeouts, "
    "a rule change, a route change)",
)
def _consent_lost(ev: StreamEvidence) -> Found | None:
    """Agents check consent differently, and the rule reads only what RFC 7675 has them all do, checks
    on the selected pair that stop being answered. Tested on real/aioice-consent-lost (a check every
    ~5 s, each retransmitted; the call given up ~30 s after the cut), real/chromium-consent-lost (fresh
    transactions, no retransmissions, 130 in the 15 s before its connectionState fails) and
    real/libnice-consent-lost (consent freshness on: two unanswered checks 4.3 s apart, then the
    component fails)."""
    sel = ev.selected
    if not ev.connected or sel is None:
        return None
    checks = sorted((t for t, _ in ev.checks_on(sel)), key=lambda t: t.request.time)
    answered = [t for t in checks if t.outcome == "success"]
    if not answered:
        return None
    last_ok = answered[-1]
    lost = [t for t in checks if t.request.time > last_ok.request.time]
    if len(lost) < 2 or any(t.outcome not in NO_ANSWER for t in lost):
        return None
    if (
        not any(t.outcome != "unanswered" for t in lost)
        and lost[-1].request.time - lost[0].request.time < CONSENT_MIN_INTERVAL
    ):
        return None  # only the capture's last moments: the answers may simply be after its end
    return Found(
        f"The call connected on {pair_words(sel)}, then its consent checks stopped being answered: the last "
        f"answer at {ev.seconds(_answered_at(last_ok)):.1f} s (frame {ev.frame(_frame(last_ok))}), then {len(lost)} "
        f"check(s) from {ev.seconds(lost[0].request.time):.1f} s to {ev.seconds(lost[-1].request.time):.1f} s "
        "went unanswered.",
        cite([_frame(last_ok)], [t.request.frame for t in lost]),
    )


def _answered_at(t: Transaction) -> float:
    return t.response.time if t.response is not None else t.request.time


def _frame(t: Transaction) -> int:
    return t.response.frame if t.response is not None else t.request.frame


@cause(
    "connected:no-media",
    "ICE connected and the selected pair stayed alive (its checks still answered, or its keepalives still sent, at "
    "least one consent interval after it was chosen), but no media, DTLS or other data went over it",
    "the selected pair's nomination and its later answered checks or keepalives",
    "RFC 8445 §12 (media on the selected pair) and §11 (keepalives), RFC 7675 §5.1 (consent every 4-6 s)",
    "ICE is not the problem: check the media and DTLS set-up above it (codecs, DTLS fingerprints, SRTP keys, "
    "the application starting its media)",
)
def _no_media(ev: StreamEvidence) -> Found | None:
    """Agents keep an idle pair alive in two ways, and either shows the capture went on with the call
    up: consent checks, answered Binding requests every ~5 s (aioice, real/aioice-no-media; libnice
    with consent freshness, real/libnice-no-media), or keepalives, Binding indications after a quiet
    spell (libnice by default: one each way 25 s after the last packet). Chromium always starts
    DTLS, so its calls never lack media."""
    sel = ev.selected
    if not ev.connected or sel is None or ev.stream.media_flows:
        return None
    successes = sorted(t.response.time for t, _ in ev.checks_on(sel) if t.outcome == "success" and t.response)
    if not successes:
        return None
    if successes[-1] - successes[0] >= CONSENT_MIN_INTERVAL:
        return Found(
            f"ICE connected on {pair_words(sel)} and its checks were still answered "
            f"{successes[-1] - successes[0]:.1f} s later, but no RTP, RTCP, DTLS or other data went over it in the "
            "capture.",
            cite(sel.frames),
        )
    kept = [(t, frame) for t, frame in _keepalives(ev, sel) if t - successes[0] >= CONSENT_MIN_INTERVAL]
    if not kept:
        return None
    return Found(
        f"ICE connected on {pair_words(sel)} and its agents still sent keepalives on it "
        f"{kept[-1][0] - successes[0]:.1f} s later, but no RTP, RTCP, DTLS or other data went over it in the capture.",
        cite(sel.frames, [frame for _, frame in kept]),
    )


def _keepalives(ev: StreamEvidence, sel: Pair) -> list[tuple[float, int]]:
    """(time, frame) of the Binding indications between the pair's two ends (outside relays)."""
    by_src = ev.facts.keepalives_by_src
    ends = sel.controlling.wire_addresses | sel.controlled.wire_addresses
    return sorted((t, frame) for src in ends for dst, t, frame in by_src.get(src, ()) if sel.carries(src, dst))


@cause(
    "direct",
    "connected on a pair with no relay on its path: nothing blocked the call",
    "the selected pair's nomination and first media",
    "RFC 8445 §8.1.1 (the selected pair), §5.1.2.2 (host and server-reflexive candidates)",
    "nothing to change",
)
def _direct(ev: StreamEvidence) -> Found | None:
    sel = ev.selected
    if not ev.connected or sel is None or sel.is_relay:
        return None
    text = f"Connected directly on {pair_words(sel)}"
    frames = [sel.nomination_frame or 0, *[f.first_frame for f in ev.stream.media_flows[:2]]]
    for component in ev.stream.components[:1]:
        for change in component.selection_changes:
            old = "relay" if change.before.is_relay else "another direct pair"
            text += f"; {old} first, switched to direct at {ev.seconds(change.time):.1f} s"
            frames.append(change.frame or 0)
    return Found(text + ": nothing blocked the call.", cite(frames, sel.frames[:2]))
