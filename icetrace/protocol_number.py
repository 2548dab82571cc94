"""Decimal numbers in protocol text (SDP, SIP, candidates, MRAS XML): ASCII digits only, length-bounded.

`str.isdigit()` accepts superscripts and other Unicode digits that `int()` then refuses, and
`int()` refuses strings longer than Python's int-string limit: a protocol number is neither.
"""

from __future__ import annotations

MAX_DIGITS = 20  # longer than any protocol number (a 64-bit value has 20 digits)
_ASCII_DIGITS = frozenset("0123456789")


def ascii_number(text: str, max_digits: int = MAX_DIGITS) -> int | None:
    """The value of `text` when it is 1 to `max_digits` ASCII digits, else None."""
    if not text or len(text) > max_digits or not _ASCII_DIGITS.issuperset(text):
        return None
    return int(text)
