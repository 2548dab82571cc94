"""What to check when a capture holds no STUN or TURN at all: say what it did hold, and the usual
reasons ICE is missing from a capture (a capture filter, a port, a tunnel)."""

from __future__ import annotations

from collections import Counter

from icetrace.ice.reconstruction import Reconstruction

CHECK = (
    "check the capture filter (it must keep UDP and TCP 3478, 5349 and 443 and the media ports), "
    "that the capture was taken where the call's traffic passes, and whether the call ran inside an "
    "encrypted tunnel (a VPN, or TURN over TLS on 443, shows as TLS, not STUN)"
)


def no_stun_hint(rec: Reconstruction) -> str | None:
    """None when the capture has STUN/TURN; otherwise what was seen instead and what to check."""
    if rec.records or rec.relayed_messages:
        return None
    kinds = Counter(f.kind for f in rec.media)
    seen = [f"{n} {kind} flow(s)" for kind, n in sorted(kinds.items())]
    calls = len(rec.signaling.calls) if rec.signaling is not None else 0
    if calls:
        seen.append(f"{calls} call(s) in the signaling")
    what = ", ".join(seen) if seen else "no media and no signaling either"
    return f"no STUN or TURN message in the capture (seen: {what}); {CHECK}"
