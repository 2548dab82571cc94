"""icetrace: the story of an ICE negotiation, told from packet captures."""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
