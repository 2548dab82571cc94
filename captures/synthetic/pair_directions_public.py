"""The pair_directions exchange captured on a local agent that has a public address and no NAT.

Both agents' addresses are public (198.51.100.10:50000 and 203.0.113.50:40000), so the addresses do
not say on which side the capture was taken; the timing does: the remote agent's checks are
answered 0.26 ms after they arrive while the local agent's take 7.2 and 6.3 ms to come back, so the
capture sits beside the local agent and 0.26 ms is its answering time, not a round trip.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pair_directions  # noqa: E402
from builder import HERE  # noqa: E402

NAME = "pair_directions_public"
LOCAL = ("198.51.100.10", 50000)


def write(folder: Path = HERE / NAME) -> Path:
    where = "on the local (controlled) agent itself, a host with a public address and no NAT"
    return pair_directions.build(LOCAL, LOCAL).write(folder, pair_directions.truth(LOCAL, LOCAL, NAME, where))


if __name__ == "__main__":
    print(write())
