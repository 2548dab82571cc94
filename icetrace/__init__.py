"""icetrace: the story of an ICE negotiation, told from packet captures."""

from icetrace.version import __version__


def analyze(*args, **kwargs):  # type: ignore[no-untyped-def]
    """icetrace.analyze(captures, sdp=[...], logs=[...]) -> Analysis (see icetrace.analysis.analyze)."""
    from icetrace.analysis import analyze as _analyze

    return _analyze(*args, **kwargs)


__all__ = ["analyze", "__version__"]
