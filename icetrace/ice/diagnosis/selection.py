"""Rules about nomination and selection: nothing nominated, a capture joined mid-call, a better pair
passed over, relayed or TCP pairs chosen, no media on the selected pair, a failed stream."""

from __future__ import annotations

from collections.abc import Iterator

from icetrace.ice.diagnosis.facts import Facts
from icetrace.ice.diagnosis.registry import Finding, rule
from icetrace.ice.diagnosis.wording import cite, pair_text, stream_pairs
from icetrace.ice.midcall import consent_summary
from icetrace.ice.model import Stream


@rule(
    "D13",
    "error",
    "pairs succeeded but nothing was nominated, no media followed, and the capture went on long enough "
    "for a nomination to show",
    "RFC 8445 §8.1.1 (nomination), RFC 5245 §9.1.2.2 (updated offer)",
)
def _not_nominated(facts: Facts, stream: Stream) -> Iterator[Finding]:
    """Media after a success proves the agents connected (the selection says "media-only"), and a
    capture that stops soon after the checks succeeded may simply miss the nomination: the vantage
    notes say so. Neither is an error."""
    pairs = stream_pairs(stream)
    valid = [p for p in pairs if p.state == "succeeded"]
    by_media = any(c.selected is not None and c.selected.selected_because == "media-only" for c in stream.components)
    if (
        valid
        and not any(p.nominated for p in pairs)
        and not by_media
        and not stream.ended_before_nomination
        and not stream.mid_call
    ):
        yield Finding(
            f"{len(valid)} pair(s) succeeded but none was nominated: the controlling "
            "agent never sent USE-CANDIDATE nor a final offer.",
            cite(*[p.frames for p in valid]),
        )


@rule(
    "MID-CALL",
    "info",
    "the capture starts after ICE completed (no gathering, no signaling, no nomination; consent checks and "
    "media on one pair): the pair in use is taken as selected",
    "RFC 7675 §5.1 (consent freshness on the selected pair), RFC 8445 §8 (nomination ends checking)",
)
def _mid_call(facts: Facts, stream: Stream) -> Iterator[Finding]:
    if not stream.mid_call:
        return
    count, gap = consent_summary(facts.rec, stream)
    pace = f", every {gap:.1f} s" if gap is not None else ""
    chosen = [c.selected for c in stream.components if c.selected is not None]
    packets = sum(f.packets for f in stream.media_flows)
    media = (
        f" and {packets} media packets from frame "
        f"{facts.rec.captures.frame_text(min(f.first_frame for f in stream.media_flows))}"
        if stream.media_flows
        else ""
    )
    yield Finding(
        "The capture starts after ICE completed: it holds no candidate gathering, no signaling and no "
        f"nomination, only {count} consent check(s){pace} on {', '.join(pair_text(p) for p in chosen)}{media}. "
        "That pair is the one in use; how it was chosen is not in the capture.",
        cite(*[p.frames for p in chosen]),
    )


@rule(
    "SHOULD-HAVE-WON",
    "info",
    "a succeeded pair with a higher priority than the selected one",
    "RFC 8445 §6.1.2.3 (pair priority), §8.1.1",
)
def _should_have_won(facts: Facts, stream: Stream) -> Iterator[Finding]:
    for component in stream.components:
        sel = component.selected
        if sel is None or sel.priority is None:
            continue
        for p in component.pairs:
            if p is not sel and p.state == "succeeded" and p.priority is not None and p.priority > sel.priority:
                yield Finding(
                    f"Pair {pair_text(p)} succeeded and has a higher priority than the selected {pair_text(sel)}.",
                    cite(p.frames),
                )


@rule(
    "D14",
    "warning",
    "a relay pair was selected although a direct pair succeeded",
    "RFC 8445 §5.1.2.2 (type preferences: relayed lowest)",
)
def _relay_over_direct(facts: Facts, stream: Stream) -> Iterator[Finding]:
    for component in stream.components:
        sel = component.selected
        if sel is None or not sel.is_relay:
            continue
        direct = [p for p in component.pairs if p.state == "succeeded" and not p.is_relay]
        if direct:
            yield Finding(
                f"Relay pair {pair_text(sel)} was selected although direct pair {pair_text(direct[0])} succeeded.",
                cite(sel.frames, direct[0].frames),
            )


@rule(
    "D16",
    "warning",
    "all UDP pairs failed and a TCP relay pair was selected",
    "RFC 6544 (ICE-TCP), RFC 6062 (TURN over TCP)",
)
def _tcp_fallback(facts: Facts, stream: Stream) -> Iterator[Finding]:
    for component in stream.components:
        sel = component.selected
        if sel is None or not sel.is_relay or sel.transport != "tcp":
            continue
        udp = [p for p in component.pairs if p.transport == "udp"]
        if any(p.state == "failed" for p in udp) and not any(p.state == "succeeded" for p in udp):
            yield Finding(f"All UDP pairs failed; media fell back to TCP relay {pair_text(sel)}.", cite(sel.frames))


@rule(
    "D25",
    "warning",
    "nothing captured on the selected pair, or media in one direction only",
    "RFC 8445 §12 (media on the selected pair)",
)
def _media_on_selected(facts: Facts, stream: Stream) -> Iterator[Finding]:
    rec = facts.rec
    for component in stream.components:
        sel = component.selected
        if sel is None:
            continue
        on_sel = [f for f in stream.media_flows if sel.carries(f.src, f.dst)]
        if not on_sel:
            # a relayed pair's media is seen only where the TURN-wrapped data is: judge it when
            # the capture holds relayed data at all
            if (rec.media and not sel.relayed) or (sel.relayed and rec.relayed_media):
                text = f"Pair {pair_text(sel)} was selected but no RTP, RTCP, DTLS or other data was captured on it."
                elsewhere = [
                    p
                    for p in component.pairs
                    if p is not sel and any(p.carries(f.src, f.dst) for f in [*rec.media, *rec.relayed_media])
                ]
                if elsewhere:
                    text += f" Media flowed on {pair_text(elsewhere[0])} instead."
                yield Finding(text, cite(sel.frames))
        elif len({(f.src, f.dst) for f in on_sel}) == 1:
            yield Finding(
                f"Media on the selected pair {pair_text(sel)} flows in one direction only.",
                [on_sel[0].first_frame],
            )


@rule(
    "SDP-REMOTE-CANDIDATES",
    "info",
    "the updated offer lists several remote candidates per component, so it is not read as a nomination",
    "RFC 5245 §9.1.2.2, §15.2 (a=remote-candidates)",
)
def _remote_candidates_list(facts: Facts, stream: Stream) -> Iterator[Finding]:
    if stream.final_offer_ignored:
        yield Finding(
            "The controlling agent's updated offer lists several "
            "remote candidates per component (RFC 5245 §15.2 wants one): it was not used as a "
            "nomination."
        )


@rule(
    "FAILED",
    "error",
    "every pair of a stream failed",
    "RFC 8445 §8.1.2 (ICE state Failed)",
)
def _stream_failed(facts: Facts, stream: Stream) -> Iterator[Finding]:
    if stream.outcome == "failed":
        pairs = stream_pairs(stream)
        yield Finding(
            f"ICE failed for {stream.media or 'the session'}: every one of {len(pairs)} pair(s) failed.",
            cite(*[p.frames for p in pairs]),
        )
