"""icetrace: the story of an ICE negotiation, told from packet captures.

>>> import icetrace
>>> a = icetrace.analyze(["call.pcapng"], sdp=["offer.sdp"])
>>> a.streams  # one row per ICE session: outcome, selected pair, time to connect, relay
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from icetrace.version import __version__

if TYPE_CHECKING:
    from icetrace.analysis import Analysis, analyze

__all__ = ["Analysis", "analyze", "__version__"]


def __getattr__(name: str) -> Any:
    """`icetrace.analyze` and `icetrace.Analysis` are the real ones (signature, docstring), imported
    on first use so that `import icetrace` (and the CLI's start) stays light."""
    if name in ("analyze", "Analysis"):
        import icetrace.analysis

        return getattr(icetrace.analysis, name)
    raise AttributeError(f"module 'icetrace' has no attribute {name!r}")
