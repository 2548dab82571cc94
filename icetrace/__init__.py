"""icetrace: the story of an ICE negotiation, told from packet captures."""

__version__ = "0.1.0"


def analyze(*args, **kwargs):  # type: ignore[no-untyped-def]
    """icetrace.analyze(captures, sdp=[...], logs=[...]) -> Analysis (see icetrace.analysis.analyze)."""
    from icetrace.analysis import analyze as _analyze

    return _analyze(*args, **kwargs)


__all__ = ["analyze", "__version__"]
