"""The correlator: STUN records + signaling -> agents, candidates, pairs, nomination, outcome.

Rules: RFC 8445 §6-8 (pairs, checks, nomination), RFC 5245 §8 (aggressive
nomination, updated offer), RFC 8656 §10-12 (relayed data), [MS-TURN] (MAPPED-ADDRESS
is the relayed address), [MS-ICE2] (USERNAME padding), [MS-ICE] (binary usernames).
Each step is a module of its own; `correlate` runs them in order.
"""

from __future__ import annotations

from collections.abc import Iterable

from icetrace.ice.directions import vantage_notes, vantage_point
from icetrace.ice.gathering import gather
from icetrace.ice.integrity import verify_checks, verify_turn
from icetrace.ice.matching import attach_icmp, match_transactions, merge_views, orphan_responses
from icetrace.ice.midcall import mark_mid_call
from icetrace.ice.nomination import ended_early, nominate_by_final_offer, nomination_style
from icetrace.ice.pairs import KnownAddresses, alias_across_nats, key_contexts, place_check, vantage_from_timing
from icetrace.ice.reconstruction import ChecksByPair, Reconstruction
from icetrace.ice.relaying import RelayedByLeg, effective_addresses, relayed_media
from icetrace.ice.selection import MediaIndex, pair_checks, pair_state, select_components, stream_outcome
from icetrace.ice.sessions import CheckMatcher, Session, icev6_sides
from icetrace.ice.signaled import ServerHandouts, infer_types, streams_from_signaling
from icetrace.ice.transactions import Transaction
from icetrace.ice.views import nat_mappings
from icetrace.records.endpoint import Endpoint
from icetrace.records.icmp_error import IcmpError
from icetrace.records.media_flow import MediaFlow
from icetrace.records.relayed import RelayedCount, RelayedCounter
from icetrace.records.stun_record import StunRecord
from icetrace.signaling.model import SignalingModel


def correlate(
    records: list[StunRecord],
    signaling: SignalingModel | None = None,
    media: list[MediaFlow] | None = None,
    capture_end: float | None = None,
    icmp_errors: list[IcmpError] | None = None,
    relayed: Iterable[RelayedCount] = (),
) -> Reconstruction:
    """Rebuild every ICE session found in the records (and the signaling, when given).

    Relayed media among the records is counted (`relayed` holds what the reader counted already)."""
    counter = RelayedCounter()
    records = sorted((r for r in records if not counter.add(r)), key=lambda r: (r.time, r.frame))
    end = capture_end if capture_end is not None else (records[-1].time if records else 0.0)
    allocations, mappings = gather(records)
    relayed_by_leg = RelayedByLeg({(a.client, a.server): a.relayed for a in allocations if a.relayed is not None})
    transactions = _transactions(records, relayed_by_leg, end, icmp_errors or [])
    signaled = streams_from_signaling(signaling) if signaling else []
    handouts = ServerHandouts.of(allocations, mappings)
    for s in signaled:
        infer_types(s.stream, handouts)
    known = KnownAddresses({a.relayed for a in allocations if a.relayed is not None}, {m.mapped for m in mappings})
    matcher = CheckMatcher([Session(s.stream, s) for s in signaled], icev6_sides(transactions))
    checks = [c for t in transactions if (c := place_check(matcher, t, known)) is not None]
    vantage_from_timing(checks)
    found_mappings = nat_mappings(transactions)
    alias_across_nats(matcher.sessions, found_mappings)
    checks_by_pair = pair_checks(checks)
    relayed_counts = [*relayed, *counter.counts()]
    through_relays = relayed_media(relayed_counts, records, relayed_by_leg)
    carried = MediaIndex([*(media or []), *through_relays])
    early_notes: list[str] = []
    for session in matcher.sessions:
        nominate_by_final_offer(session, known.relayed, known.mapped)
        _finish(session, carried, checks_by_pair)
        early_notes += ended_early(session.stream, checks_by_pair, end)
    streams = [session.stream for session in matcher.sessions]
    reconstruction = Reconstruction(
        records, transactions, allocations, mappings, streams, checks, media or [], signaling=signaling, capture_end=end
    )
    reconstruction.relayed_media = through_relays
    reconstruction.relayed_messages = sum(c.packets for c in relayed_counts)
    reconstruction.integrity = verify_turn(transactions, signaling.relay_credentials if signaling else [])
    reconstruction.integrity.update(verify_checks(key_contexts(checks)))
    reconstruction.nat_mappings = found_mappings
    reconstruction.orphans = orphan_responses(records, transactions)
    mark_mid_call(reconstruction)
    reconstruction.vantage = vantage_point(reconstruction) + early_notes + vantage_notes(reconstruction)
    return reconstruction


def _transactions(
    records: list[StunRecord],
    relayed_by_leg: dict[tuple[Endpoint, Endpoint], Endpoint],
    end: float,
    icmp_errors: list[IcmpError],
) -> list[Transaction]:
    """The records' transactions, between effective addresses (a relayed check's relayed address and
    peer), one per check seen at several points, with the ICMP errors that quote them."""
    effective = [(r, *effective_addresses(r, relayed_by_leg)) for r in records]
    transactions = merge_views(match_transactions(effective, end))
    attach_icmp(transactions, icmp_errors)
    return transactions


def _finish(session: Session, media: MediaIndex, checks_by_pair: ChecksByPair) -> None:
    """Once every check is accounted: each pair's state, each component's selected pair, the
    stream's nomination style and outcome, and the media on the selected pairs."""
    stream = session.stream
    for pair in session.pairs.values():
        pair.state = pair_state(pair)
    stream.components = select_components(session, media, checks_by_pair)
    stream.nomination_style = nomination_style(session)
    stream.outcome = stream_outcome(stream, list(session.pairs.values()))
    chosen_pairs = [c.selected for c in stream.components if c.selected]
    flows = {id(f): f for p in chosen_pairs for f in media.on(p)}
    stream.media_flows = sorted(flows.values(), key=lambda f: (f.first_frame, str(f.src), f.kind))
