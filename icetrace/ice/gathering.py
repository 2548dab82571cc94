"""What the STUN and TURN servers handed out: relayed addresses (allocations) and NAT mappings."""

from __future__ import annotations

from icetrace.ice.far_ends import is_ice_check
from icetrace.ice.model import Allocation, Mapping
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
            mapped = (
                r.addresses.get("XOR-MAPPED-ADDRESS")
                or r.addresses.get("MS-XOR-MAPPED-ADDRESS")
                or r.addresses.get("MAPPED-ADDRESS")
            )
            if mapped is not None:
                mappings.append(Mapping(base=r.dst, mapped=mapped, server=r.src, frame=r.frame))
    return allocations, mappings
