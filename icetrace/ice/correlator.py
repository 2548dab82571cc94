"""The correlator: STUN records + signaling -> agents, candidates, pairs, nomination, outcome.

Rules: RFC 8445 §6-8 (pairs, checks, nomination), RFC 5245 §8 (aggressive
nomination, updated offer), RFC 8656 §10-12 (relayed data), [MS-TURN] (MAPPED-ADDRESS
is the relayed address), [MS-ICE2] (USERNAME padding), [MS-ICE] (binary usernames).
Each step is a module of its own; `correlate` runs them in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from icetrace.ice.call_media import call_endpoints, call_media
from icetrace.ice.cancellation import cancel_after_nomination
from icetrace.ice.candidates import unproven_reflexive
from icetrace.ice.carried_media import carried_by
from icetrace.ice.directions import vantage_notes, vantage_point
from icetrace.ice.far_ends import relay_roles
from icetrace.ice.gathering import gather, relayed_legs
from icetrace.ice.integrity import verify_checks, verify_turn
from icetrace.ice.matching import attach_icmp, match_transactions, merge_views, orphan_responses
from icetrace.ice.midcall import mark_mid_call
from icetrace.ice.model import Agent, Allocation, Mapping, NatMapping
from icetrace.ice.multiplexed_turn import peer_legs, session_relayed_addresses, without_frame_counts
from icetrace.ice.nomination import ended_early, nominate_by_final_offer, nomination_style
from icetrace.ice.pairs import KnownAddresses, alias_across_nats, key_contexts, place_check, vantage_from_timing
from icetrace.ice.reconstruction import ChecksByPair, Reconstruction
from icetrace.ice.relay_paths import RelayHosts, mark_relay_paths
from icetrace.ice.relayed_checks import indication_legs, relayed_checks, stream_legs
from icetrace.ice.relaying import (
    ChannelBinds,
    channel_binds,
    effective_addresses,
    on_relay_ports,
    oriented_channels,
    peers_across_the_relay,
    relay_ports,
    relayed_media,
)
from icetrace.ice.selection import MediaIndex, pair_checks, pair_state, select_components, stream_outcome
from icetrace.ice.sessions import CheckMatcher, Session, icev6_sides
from icetrace.ice.signaled import ServerHandouts, infer_types, streams_from_signaling
from icetrace.ice.switches import selection_changes
from icetrace.ice.transactions import Transaction
from icetrace.ice.views import nat_mappings
from icetrace.records.capture_set import CaptureSet
from icetrace.records.endpoint import Endpoint
from icetrace.records.icmp_error import IcmpError
from icetrace.records.media_flow import MediaFlow
from icetrace.records.relayed import RelayedCount
from icetrace.records.stun_record import StunRecord
from icetrace.signaling.model import SignalingModel


def correlate(
    records: list[StunRecord],
    *,
    capture_end: float,
    signaling: SignalingModel | None = None,
    media: list[MediaFlow] | None = None,
    icmp_errors: list[IcmpError] | None = None,
    relayed: Iterable[RelayedCount] = (),
    captures: CaptureSet | None = None,
) -> Reconstruction:
    """Rebuild every ICE session found in the records (and the signaling, when given).

    `records` hold no relayed media: the reader counted it into `relayed` (reading.py);
    `capture_end` is when the capture stopped, which decides whether an unanswered request timed out;
    `captures` says how several captures were read together (taps, or one timeline)."""
    captures = captures or CaptureSet()
    records = sorted(records, key=lambda r: (r.time, r.frame))
    roles = relay_roles(records)
    relayed_by_leg = relayed_legs(records)
    legs = peer_legs(records, relayed_by_leg)
    oriented_channels(records, roles, legs)
    allocations, mappings = gather(records)
    counts = list(relayed)
    flows = _calls_media([*(media or []), *stream_legs(counts)], records, allocations, signaling, relayed_by_leg)
    binds = peers_across_the_relay(records, relayed_by_leg, channel_binds(records))
    transactions = _transactions(records, relayed_by_leg, capture_end, icmp_errors or [], binds)
    signaled = streams_from_signaling(signaling) if signaling else []
    handouts = ServerHandouts.of(allocations, mappings)
    for s in signaled:
        infer_types(s.stream, handouts)
    relayed_addresses = {a.relayed for a in allocations if a.relayed is not None} | session_relayed_addresses(records)
    known = KnownAddresses(relayed_addresses, {m.mapped for m in mappings})
    matcher = CheckMatcher([Session(s.stream, s) for s in signaled], icev6_sides(transactions))
    checks = [c for t in transactions if (c := place_check(matcher, t, known)) is not None]
    vantage_from_timing(checks)
    found_mappings = _across_nats(matcher.sessions, transactions, mappings)
    checks_by_pair = pair_checks(checks)
    through_relays = relayed_media(counts, records, relayed_by_leg, captures.tap, binds, roles, legs)
    carried = MediaIndex([*without_frame_counts(flows, legs), *through_relays])
    early_notes: list[str] = []
    for session in matcher.sessions:
        nominate_by_final_offer(session, known.relayed, known.mapped)
        _finish(session, carried, checks_by_pair, captures.tap)
        early_notes += ended_early(session.stream, checks_by_pair, capture_end)
    streams = [session.stream for session in matcher.sessions]
    mark_relay_paths(streams, RelayHosts.of(allocations, transactions, captures.frame_text))
    reconstruction = Reconstruction(records, transactions, allocations, mappings, streams, checks, flows)
    reconstruction.signaling, reconstruction.capture_end, reconstruction.captures = signaling, capture_end, captures
    reconstruction.relayed_media = through_relays
    reconstruction.relayed_messages = sum(c.packets for c in counts)
    reconstruction.relayed_checks = relayed_checks(records, captures.tap)
    reconstruction.indication_legs = indication_legs(counts)
    reconstruction.nat_mappings = found_mappings
    _conclude(reconstruction, early_notes)
    return reconstruction


def _calls_media(
    flows: list[MediaFlow],
    records: list[StunRecord],
    allocations: list[Allocation],
    signaling: SignalingModel | None,
    relayed_by_leg: dict[tuple[Endpoint, Endpoint], Endpoint],
) -> list[MediaFlow]:
    """The flows of the calls' endpoints, a relay port seen at the server named by the relayed
    address it stands for."""
    flows = call_media(flows, call_endpoints(records, allocations, signaling))
    return on_relay_ports(flows, relay_ports(relayed_by_leg))


def _across_nats(sessions: list[Session], transactions: list[Transaction], mappings: list[Mapping]) -> list[NatMapping]:
    """The NAT mappings checks seen at two taps reveal, joined to the candidates they name; and the
    server-reflexive candidates that no NAT shows to be one, retyped."""
    found = nat_mappings(transactions)
    alias_across_nats(sessions, found)
    translated = {m.mapped for m in mappings if m.base != m.mapped} | {m.outside for m in found}
    unproven_reflexive(_agents(sessions), translated)
    return found


def _conclude(rec: Reconstruction, early_notes: list[str]) -> None:
    """Integrity verified, orphans found, a mid-call start told, and the vantage notes, the reading
    of several captures first."""
    signaling = rec.signaling
    rec.integrity = verify_turn(rec.transactions, signaling.relay_credentials if signaling else [])
    rec.integrity.update(verify_checks(key_contexts(rec.checks)))
    rec.orphans = orphan_responses(rec.records, rec.transactions)
    mark_mid_call(rec)
    reading = [rec.captures.note] if rec.captures.note else []
    rec.vantage = reading + vantage_point(rec) + early_notes + vantage_notes(rec)


def _transactions(
    records: list[StunRecord],
    relayed_by_leg: dict[tuple[Endpoint, Endpoint], Endpoint],
    end: float,
    icmp_errors: list[IcmpError],
    binds: ChannelBinds,
) -> list[Transaction]:
    """The records' transactions, between effective addresses (a relayed check's relayed address and
    peer), one per check seen at several points, with the ICMP errors that quote them."""
    ports = relay_ports(relayed_by_leg)
    effective = [(r, *effective_addresses(r, relayed_by_leg, binds, ports)) for r in records]
    transactions = merge_views(match_transactions(effective, end))
    attach_icmp(transactions, icmp_errors)
    return transactions


def _agents(sessions: list[Session]) -> list[Agent]:
    return [a for session in sessions for a in (session.stream.controlling, session.stream.controlled) if a]


def _finish(session: Session, media: MediaIndex, checks_by_pair: ChecksByPair, tap_of: Callable[[int], int]) -> None:
    """Once every check is accounted: each pair's state, each component's selected pair, the
    stream's nomination style and outcome, and the media on the selected pairs."""
    stream = session.stream
    controlling = stream.controlling.name if stream.controlling else None
    cancel_after_nomination(session.pairs.values(), checks_by_pair, controlling)
    for pair in session.pairs.values():
        pair.state = pair_state(pair)
    stream.components = select_components(session, media, checks_by_pair)
    for component in stream.components:
        component.selection_changes = selection_changes(component, checks_by_pair, media.on)
    stream.nomination_style = nomination_style(session)
    stream.outcome = stream_outcome(stream, list(session.pairs.values()))
    chosen_pairs = list({id(c.selected): c.selected for c in stream.components if c.selected}.values())
    stream.media_flows = [f for p in chosen_pairs for f in carried_by(p, media.on(p), tap_of)]
