"""One aioice ICE agent for a recording: exchange candidates through files, connect, report.

Run inside a network namespace by netlab.py. Writes <name>.offer.json (what it
would signal), reads the peer's, connects, sends a little data on the selected
pair (unless --no-data), and writes <name>.report.json: the agent's own account
(candidates, credentials, role, check list with states, selected pair), read from
aioice's objects after connect(). Nothing here looks at the capture.

For the lab's cause scenarios: --hold-file waits for the lab before the checks
start (so it can change the network between gathering and checking), <name>.connected
tells the lab the call is up, --linger keeps the call open (consent checks every
~5 s) and notes when aioice gives it up, --signal-wrong-pwd signals a password that
is not the agent's own (so the peer's checks and answers fail integrity).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from importlib.metadata import version
from pathlib import Path

from aioice import Candidate, Connection, ConnectionClosed, TransportPolicy


def cand_dict(c: Candidate) -> dict:
    related = f"{c.related_address}:{c.related_port}" if c.related_address else None
    return {
        "foundation": c.foundation,
        "component": c.component,
        "transport": c.transport.lower(),
        "priority": c.priority,
        "address": f"{c.host}:{c.port}",
        "type": c.type,
        "related": related,
    }


async def run(args: argparse.Namespace) -> None:
    folder = Path(args.dir)
    conn = Connection(
        ice_controlling=args.role == "controlling",
        components=1,
        stun_server=(args.stun, 3478) if args.stun else None,
        turn_server=(args.turn, 3478) if args.turn else None,
        turn_username=args.turn_user,
        turn_password=args.turn_password,
        turn_transport=args.turn_transport,
        use_ipv6=False,
        transport_policy=TransportPolicy.RELAY if args.relay_only else TransportPolicy.ALL,
    )
    await conn.gather_candidates()
    # a password of the same length and alphabet, but not the one aioice checks integrity with
    signaled_pwd = conn.local_password[::-1] if args.signal_wrong_pwd else conn.local_password
    offer = {
        "ufrag": conn.local_username,
        "pwd": signaled_pwd,
        "candidates": [c.to_sdp() for c in conn.local_candidates],
    }
    (folder / f"{args.name}.offer.json").write_text(json.dumps(offer))
    peer_file = folder / f"{args.peer}.offer.json"
    deadline = time.monotonic() + 30
    while not peer_file.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{args.name}: no offer from {args.peer}")
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.2)
    peer = json.loads(peer_file.read_text())
    conn.remote_username, conn.remote_password = peer["ufrag"], peer["pwd"]
    for line in peer["candidates"]:
        await conn.add_remote_candidate(Candidate.from_sdp(line))
    await conn.add_remote_candidate(None)
    if args.hold_file:
        await wait_for(Path(args.hold_file), 30)
    error = None
    started = time.time()
    try:
        await asyncio.wait_for(conn.connect(), timeout=args.timeout)
        (folder / f"{args.name}.connected").touch()
        if not args.no_data:
            for i in range(20):
                await conn.send(f"{args.name} data {i}".encode())
                await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
    except (ConnectionError, asyncio.TimeoutError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    report = snapshot(conn, args, error, started)
    extra: dict = {}
    if signaled_pwd != conn.local_password:
        extra["signaled_pwd"] = signaled_pwd
    if args.linger and error is None:
        # when aioice gave the call up (its check list as it stood before), or None: still up
        extra["consent_expired"] = await linger(conn, args.linger)
        if extra["consent_expired"] is None:
            report = snapshot(conn, args, error, started)
    report.update(extra, ended=time.time())
    (folder / f"{args.name}.report.json").write_text(json.dumps(report, indent=2))
    await conn.close()


async def wait_for(path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"no {path.name} from the lab")
        await asyncio.sleep(0.01)


async def linger(conn: Connection, seconds: float) -> float | None:
    """Keep the call open; aioice closes it after 6 unanswered consent checks (RFC 7675):
    the time it did, or None if it stayed up."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            event = await asyncio.wait_for(conn.get_event(), timeout=left)
        except asyncio.TimeoutError:
            return None
        if isinstance(event, ConnectionClosed) or event is None:
            return time.time()
    return None


def snapshot(conn: Connection, args: argparse.Namespace, error: str | None, started: float) -> dict:
    """The agent's own account, read from aioice's objects (before close() empties them)."""
    checklist = []
    for pair in conn._check_list:  # the agent's own check list, states as aioice holds them
        checklist.append(
            {
                "local": f"{pair.local_candidate.host}:{pair.local_candidate.port}",
                "local_type": pair.local_candidate.type,
                "remote": f"{pair.remote_candidate.host}:{pair.remote_candidate.port}",
                "remote_type": pair.remote_candidate.type,
                "state": pair.state.name.lower().replace("_", "-"),
                "nominated": bool(pair.nominated),
            }
        )
    selected = None
    nominated = conn._nominated.get(1)
    if nominated is not None:
        selected = {
            "local": f"{nominated.local_candidate.host}:{nominated.local_candidate.port}",
            "local_type": nominated.local_candidate.type,
            "remote": f"{nominated.remote_candidate.host}:{nominated.remote_candidate.port}",
            "remote_type": nominated.remote_candidate.type,
            "transport": nominated.local_candidate.transport.lower(),
        }
    return {
        "software": f"aioice {version('aioice')}",
        "role": args.role,
        "ice_ufrag": conn.local_username,
        "ice_pwd": conn.local_password,
        "lan_address": args.lan,
        "public_address": args.public,
        "error": error,
        "started": started,
        "ended": time.time(),
        "streams": [
            {
                "media": "data",
                "components": [
                    {
                        "component": 1,
                        "local_candidates": [cand_dict(c) for c in conn.local_candidates],
                        "remote_candidates": [cand_dict(c) for c in conn._remote_candidates],
                        "checklist": checklist,
                        "selected": selected,
                    }
                ],
            }
        ],
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("--peer", required=True)
    p.add_argument("--role", choices=("controlling", "controlled"), required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--stun")
    p.add_argument("--turn")
    p.add_argument("--turn-user", default="icetrace")
    p.add_argument("--turn-password", default="recorder")
    p.add_argument("--turn-transport", default="udp")
    p.add_argument("--relay-only", action="store_true")
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--lan", default="")
    p.add_argument("--public", default="")
    p.add_argument("--hold-file", help="wait for this file before the checks start")
    p.add_argument("--no-data", action="store_true", help="send nothing on the selected pair")
    p.add_argument("--linger", type=float, default=0, help="keep the call open this many seconds")
    p.add_argument("--signal-wrong-pwd", action="store_true")
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
