"""ICE priority formulas: the pair priority (RFC 8445 §6.1.2.3), the component in a candidate's (§5.1.2.1)."""

from __future__ import annotations


def pair_priority(controlling: int, controlled: int) -> int:
    """RFC 8445 §6.1.2.3: 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D ? 1 : 0), G the controlling side's."""
    g, d = controlling, controlled
    return (1 << 32) * min(g, d) + 2 * max(g, d) + (1 if g > d else 0)


def component_from_priority(priority: int) -> int | None:
    """The component the RFC formula encodes in the low byte, if it is a plausible one."""
    component = 256 - (priority & 0xFF)
    return component if 1 <= component <= 4 else None
