"""Per-message decode cost: the Scapy-free codec against the Scapy layer, on one 6-attribute ICE check.

Usage: python benchmarks/dissect_speed.py
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dissectors.codec import decode_stun, encode_stun  # noqa: E402
from dissectors.stun import STUN  # noqa: E402

CHECK = encode_stun(
    0x0001,
    b"\x01" * 12,
    [("USERNAME", b"abcd:efgh"), ("PRIORITY", 1845494271), ("ICE-CONTROLLING", 42), ("USE-CANDIDATE", True)],
    integrity_key=b"k" * 22,
    fingerprint=True,
)


def main() -> None:
    n = 20000
    codec = timeit.timeit(lambda: decode_stun(CHECK), number=n) / n * 1e6
    scapy = timeit.timeit(lambda: STUN(CHECK), number=n // 20) / (n // 20) * 1e6
    print(f"codec decode_stun: {codec:6.1f} us/message")
    print(f"Scapy STUN(bytes): {scapy:6.1f} us/message ({scapy / codec:.0f}x slower)")


if __name__ == "__main__":
    main()
