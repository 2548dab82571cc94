"""Read a baresip (ice module) debug log into the truth.json agent shape.

baresip -v prints "----- ICE Media <audio> -----" dumps with its role, credentials,
candidates, check list and valid list ("*" marks the selected pair per component).
The last dump in the log is the agent's final view.
"""

from __future__ import annotations

import re
from pathlib import Path

_CAND = re.compile(
    r"\{(\d+)\} fnd=(\S+) prio=([0-9a-f]+) (?:\S+?:)?(host|srflx|prflx|relay):([\d.]+):(\d+)"
    r"(?: \(rel-addr=([\d.]+):(\d+)\))?"
)
_PAIR = re.compile(
    r"^\s*(\*?)\s*\{comp=(\d+)\}\s+(\S+) \{([ A-Z]*)\}\s+(?:\S+?:)?(host|srflx|prflx|relay):([\d.]+):(\d+)"
    r" <---> (host|srflx|prflx|relay):([\d.]+):(\d+)"
)
_STATE = {
    "Succeeded": "succeeded",
    "Failed": "failed",
    "InProgress": "in-progress",
    "Waiting": "waiting",
    "Frozen": "frozen",
}


def parse_baresip_log(path: Path, lan: str, public: str) -> dict | None:
    text = path.read_text(errors="replace")
    blocks = text.split("----- ICE Media <audio> -----")
    if len(blocks) < 2:
        return None
    block = blocks[-1].split("STUN debug:")[0]
    role = "controlling" if "local_role=Controlling" in block else "controlled"
    ufrag = re.search(r'local_ufrag="([^"]*)"', block)
    pwd = re.search(r'local_pwd="([^"]*)"', block)
    local_part, _, rest = block.partition("Remote Candidates:")
    remote_part, _, rest = rest.partition("Check list:")
    check_part, _, valid_part = rest.partition("Valid list:")

    def cands(section: str) -> list[dict]:
        out = []
        for m in _CAND.finditer(section):
            out.append(
                {
                    "foundation": m.group(2),
                    "component": int(m.group(1)),
                    "transport": "udp",
                    "priority": int(m.group(3), 16),
                    "address": f"{m.group(5)}:{m.group(6)}",
                    "type": m.group(4),
                    "related": f"{m.group(7)}:{m.group(8)}" if m.group(7) else None,
                }
            )
        return out

    def pairs(section: str) -> list[tuple[bool, int, dict]]:
        out = []
        for line in section.splitlines():
            m = _PAIR.match(line)
            if m:
                entry = {
                    "local": f"{m.group(6)}:{m.group(7)}",
                    "local_type": m.group(5),
                    "remote": f"{m.group(9)}:{m.group(10)}",
                    "remote_type": m.group(8),
                    "state": _STATE.get(m.group(3), m.group(3).lower()),
                    "nominated": "N" in m.group(4),
                }
                out.append((m.group(1) == "*", int(m.group(2)), entry))
        return out

    local, remote = cands(local_part), cands(remote_part)
    checks, valid = pairs(check_part), pairs(valid_part)
    components = []
    for comp in sorted({c["component"] for c in local}):
        selected = None
        for star, c, entry in valid:
            if star and c == comp:
                selected = {k: entry[k] for k in ("local", "local_type", "remote", "remote_type")}
                selected["transport"] = "udp"
                # baresip 1.0 can mark a pair selected whose own state is Failed: keep both facts
                selected["state"] = entry["state"]
        components.append(
            {
                "component": comp,
                "local_candidates": [c for c in local if c["component"] == comp],
                "remote_candidates": [c for c in remote if c["component"] == comp],
                "checklist": [e for _, c, e in checks + valid if c == comp],
                "selected": selected,
            }
        )
    return {
        "software": "baresip 1.0.0 (Debian)",
        "role": role,
        "ice_ufrag": ufrag.group(1) if ufrag else None,
        "ice_pwd": pwd.group(1) if pwd else None,
        "lan_address": lan,
        "public_address": public,
        "streams": [{"media": "audio", "components": components}],
    }
