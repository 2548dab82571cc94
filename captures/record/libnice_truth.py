"""Read libnice's own check list from its debug log (G_MESSAGES_DEBUG=libnice NICE_DEBUG=all).

libnice keeps its check list private (no API returns it), but with verbose debugging on it prints
"*** conncheck list DUMP" blocks (agent/conncheck.c, priv_print_conn_check_lists), one line per
pair: its candidates' types and addresses and its state letter (W waiting, I in progress, S
succeeded, F failed, Z frozen, D discovered: a pair made from a check's mapped address) followed by
flags (V valid, N nominated, C use-candidate on its next check, T queued as a triggered check). The
last dump is the agent's final view. A discovered pair is one libnice validated (RFC 8445
§7.2.5.3.2), so it reads succeeded; the raw letters are kept as `libnice_state`.
"""

from __future__ import annotations

import re

_PAIR = re.compile(
    r"\*\*\* sc=(\d+)/(\d+) : pair \S+ : f=\S+ t=(\w+):(\w+) sock=\S+ "
    r"(\w+):\[([^\]]+)\]:(\d+) > \w+:\[([^\]]+)\]:(\d+) prio=\S+ state=([A-Z])([A-Z]*)"
)
_STATES = {"W": "waiting", "I": "in-progress", "S": "succeeded", "F": "failed", "Z": "frozen", "D": "succeeded"}
_TYPES = {"host": "host", "srflx": "srflx", "prflx": "prflx", "relay": "relay"}
DUMP = "*** conncheck list DUMP"
# what the kept log holds: the dumps, the nomination and selection, the component states
KEPT = (
    DUMP,
    "*** agent nomination mode",
    "*** sc=",
    "stopping criterion",
    "as nominated",
    "selected pair",
    "STATE-CHANGE",
)


def checklist(log: str, component: int = 1) -> list[dict]:
    """The component's pairs as the last check list dump in the log shows them."""
    last = log.rfind(DUMP)
    if last < 0:
        return []
    pairs = []
    for line in log[last:].splitlines()[1:]:
        if DUMP in line:
            break
        m = _PAIR.search(line)
        if m is None or int(m.group(2)) != component:
            continue
        local_type, remote_type, transport, lip, lport, rip, rport, state, flags = m.groups()[2:]
        pairs.append(
            {
                "local": f"{lip}:{lport}",
                "local_type": _TYPES.get(local_type, local_type),
                "remote": f"{rip}:{rport}",
                "remote_type": _TYPES.get(remote_type, remote_type),
                "transport": transport.lower(),
                "state": _STATES[state],
                "nominated": "N" in flags,
                "libnice_state": state + flags,
            }
        )
    return pairs


def kept_lines(log: str) -> str:
    """The lines of a debug log the truth rests on (the rest is libnice's chatter)."""
    lines = [line for line in log.splitlines() if any(key in line for key in KEPT) and "stun#=" not in line]
    return "".join(line + "\n" for line in lines)
