"""Which side of a NAT an address lives on: private (RFC 1918, RFC 6598, link-local, ULA) or public."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
    )
)


@lru_cache(maxsize=65536)  # asked for every leg of every check: a capture holds few addresses
def private_address(ip: str) -> bool:
    """RFC 1918, RFC 6598 (CGN), link-local and ULA space; documentation ranges count as public."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr in net for net in _PRIVATE_NETWORKS if net.version == addr.version)
