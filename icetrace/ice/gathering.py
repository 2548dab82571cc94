"""What the STUN and TURN servers handed out: relayed addresses (allocations) and NAT mappings."""

from __future__ import annotations

from icetrace.ice.addresses import private_address
from icetrace.ice.far_ends import is_ice_check
from icetrace.ice.model import Allocation, Mapping
from icetrace.ice.relaying import RelayedByLeg
from icetrace.records.endpoint import Endpoint
from icetrace.records.stun_record import StunRecord


def gather(records: list[StunRecord]) -> tuple[list[Allocation], list[Mapping]]:
    """Allocations (relayed addresses) and NAT mappings seen by STUN/TURN servers."""
    allocations: list[Allocation] = []
    mappings: list[Mapping] = []
    # a connectivity check's answer reflects the peer's view (a peer-reflexive address, RFC 8445
    # §7.2.5.3.1), not a STUN server's: responses carry no USERNAME, so tell them by their request
    checks = {r.transaction_id for r in records if is_ice_check(r)}
    allocated: set[tuple[Endpoint, Endpoint, str, Endpoint | None]] = set()
    answers = _answer_views(records)
    for r in records:
        if r.kind != "stun" or r.relay is not None or r.cls != "success":
            continue
        if r.method == "allocate":
            if r.dialect == "ms-turn":
                relayed = r.addresses.get("MAPPED-ADDRESS")  # [MS-TURN] 2.2.2.1: the relayed address
                mapped = r.addresses.get("MS-XOR-MAPPED-ADDRESS") or r.addresses.get("XOR-MAPPED-ADDRESS")
            else:
                relayed = r.addresses.get("XOR-RELAYED-ADDRESS")
                mapped = r.addresses.get("XOR-MAPPED-ADDRESS") or r.addresses.get("MAPPED-ADDRESS")
            key = (r.dst, r.src, r.transport, relayed)
            if key in allocated:
                continue  # a retransmitted Allocate answered twice: one allocation
            allocated.add(key)
            if _seen_nearer(r, answers):
                continue  # another tap saw this answer on the client's side of its NAT: that view tells it
            allocations.append(
                Allocation(
                    client=r.dst,
                    server=r.src,
                    transport=r.transport,
                    relayed=relayed,
                    mapped=mapped,
                    lifetime=r.lifetime,
                    frame=r.frame,
                    dialect=r.dialect,
                )
            )
            if mapped is not None:
                mappings.append(Mapping(base=r.dst, mapped=mapped, server=r.src, frame=r.frame))
        elif r.method == "binding" and r.username is None and r.transaction_id not in checks:
            if _seen_nearer(r, answers):
                continue
            mapped = (
                r.addresses.get("XOR-MAPPED-ADDRESS")
                or r.addresses.get("MS-XOR-MAPPED-ADDRESS")
                or r.addresses.get("MAPPED-ADDRESS")
            )
            if mapped is not None:
                mappings.append(Mapping(base=r.dst, mapped=mapped, server=r.src, frame=r.frame))
    return allocations, mappings


def _answer_views(records: list[StunRecord]) -> dict[tuple[str, int], list[StunRecord]]:
    """Server answers (outside any relay) by transaction id and type: several when several taps saw one."""
    out: dict[tuple[str, int], list[StunRecord]] = {}
    for r in records:
        if r.kind == "stun" and r.relay is None and r.cls == "success" and r.method in ("allocate", "binding"):
            out.setdefault((r.transaction_id, r.type), []).append(r)
    return out


def _seen_nearer(r: StunRecord, answers: dict[tuple[str, int], list[StunRecord]]) -> bool:
    """Whether another tap's copy of this answer tells it better: one that reached the client at a
    private address while this one went to a public address (this view is outside the client's NAT,
    RFC 4787 §4), or, where no copy is that near, an earlier copy."""
    copies = [v for v in answers.get((r.transaction_id, r.type), ()) if v is not r]
    if not copies:
        return False
    nearer = [v for v in copies if private_address(v.dst.ip)]
    if private_address(r.dst.ip):
        return False
    return bool(nearer) or any((v.time, v.frame) < (r.time, r.frame) for v in copies)


def relayed_legs(records: list[StunRecord]) -> RelayedByLeg:
    """(client, server) -> relayed address, for every leg an Allocate success was seen on: each tap's
    view of one allocation (the client's LAN address and its NAT mapping) relays through it."""
    legs = RelayedByLeg()
    for r in records:
        if r.kind == "stun" and r.relay is None and r.cls == "success" and r.method == "allocate":
            relayed = r.addresses.get("MAPPED-ADDRESS" if r.dialect == "ms-turn" else "XOR-RELAYED-ADDRESS")
            if relayed is not None:
                legs[(r.dst, r.src)] = relayed
    return legs
