"""icetrace: the story of an ICE negotiation, told from packet captures.

>>> import icetrace
>>> a = icetrace.analyze(["call.pcapng"], sdp=["offer.sdp"])
>>> a.streams  # one row per ICE session: outcome, selected pair, time to connect, relay
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from icetrace.version import __version__

if TYPE_CHECKING:
    from icetrace.analysis import Analysis, analyze, verdict_codes

__all__ = ["Analysis", "analyze", "verdict_codes", "__version__"]


def __getattr__(name: str) -> Any:
    """`icetrace.analyze`, `icetrace.Analysis` and `icetrace.verdict_codes` are the real ones (signature,
    docstring), imported on first use so that `import icetrace` (and the CLI's start) stays light."""
    if name in ("analyze", "Analysis", "verdict_codes"):
        import icetrace.analysis

        return getattr(icetrace.analysis, name)
    raise AttributeError(f"module 'icetrace' has no attribute {name!r}")
