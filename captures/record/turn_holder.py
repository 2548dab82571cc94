"""Hold one TURN allocation on the lab's coturn for a while (another user's call, say), so that a
server with a quota of one refuses the agents' own Allocates with 486 Allocation Quota Reached.

Run by netlab.py inside the public namespace, where it reaches coturn over loopback: none of its
packets cross the bridge, so no capture holds them. Writes `held` into --dir once it has the
allocation.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from aioice import turn


class _Quiet(asyncio.DatagramProtocol):
    pass


async def hold(args: argparse.Namespace) -> None:
    transport, _ = await turn.create_turn_endpoint(
        _Quiet, server_addr=(args.server, 3478), username=args.user, password=args.password
    )
    (Path(args.dir) / "held").touch()
    await asyncio.sleep(args.seconds)
    transport.close()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--seconds", type=float, required=True)
    asyncio.run(hold(p.parse_args()))


if __name__ == "__main__":
    main()
