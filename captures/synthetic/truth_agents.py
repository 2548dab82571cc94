"""The agents' part of a synthetic scenario's truth.json: candidates, checklists, selected pairs.

Each agent lists what it would report itself (schema: captures/README.md): its candidates, its
peer's, its checklist and the pair it selected, one media stream. The key order is the schema's,
so regenerating a scenario gives the same bytes.
"""

from __future__ import annotations

Address = tuple[str, int]
SOFTWARE = "synthetic (captures/synthetic/builder.py)"


def text(address: Address) -> str:
    """An address as truth.json writes it: IP:PORT."""
    return f"{address[0]}:{address[1]}"


def candidate(
    address: Address, ctype: str, prio: int, foundation: str, related: str | None = None, component: int = 1
) -> dict:
    """A UDP candidate as an agent lists it."""
    return {
        "foundation": foundation,
        "component": component,
        "transport": "udp",
        "priority": prio,
        "address": text(address),
        "type": ctype,
        "related": related,
    }


def pair(
    local: str, local_type: str, remote: str, remote_type: str, state: str = "succeeded", nominated: bool = True
) -> dict:
    """A checklist entry, seen from the agent whose `local` it is."""
    return {
        "local": local,
        "local_type": local_type,
        "remote": remote,
        "remote_type": remote_type,
        "state": state,
        "nominated": nominated,
    }


def pair_of(mine: dict, theirs: dict, state: str = "succeeded", nominated: bool = True) -> dict:
    """The checklist entry between two candidates (`candidate`)."""
    return pair(mine["address"], mine["type"], theirs["address"], theirs["type"], state, nominated)


def mirrored(entry: dict) -> dict:
    """The same pair (checklist entry or selected pair) as the agent at the other end lists it."""
    ends = {"local": entry["remote"], "local_type": entry["remote_type"], "remote": entry["local"]}
    return entry | ends | {"remote_type": entry["local_type"]}


def selected(entry: dict) -> dict:
    """The pair an agent selected, from its checklist entry."""
    return {k: entry[k] for k in ("local", "local_type", "remote", "remote_type")} | {"transport": "udp"}


def component(
    mine: list[dict], theirs: list[dict], checklist: list[dict], chosen: dict | None, number: int = 1
) -> dict:
    """One component of a stream: the agent's candidates, its peer's, its checklist and selected pair."""
    return {
        "component": number,
        "local_candidates": mine,
        "remote_candidates": theirs,
        "checklist": checklist,
        "selected": chosen,
    }


def one_pair(mine: dict, theirs: dict) -> dict:
    """A component in which the agent's one candidate and its peer's make the pair it nominated and selected."""
    entry = pair_of(mine, theirs)
    return component([mine], [theirs], [entry], selected(entry), mine["component"])


def mirrored_component(view: dict) -> dict:
    """The same component as the agent at the other end lists it: candidates, checklist and pair swapped."""
    chosen = view["selected"] and mirrored(view["selected"])
    checklist = [mirrored(entry) for entry in view["checklist"]]
    return component(view["remote_candidates"], view["local_candidates"], checklist, chosen, view["component"])


def agent(
    role: str,
    ufrag: str,
    pwd: str,
    lan: str,
    public: str | None,
    components: list[dict],
    media: str = "audio",
    software: str = SOFTWARE,
) -> dict:
    """An agent with one media stream."""
    return {
        "software": software,
        "role": role,
        "ice_ufrag": ufrag,
        "ice_pwd": pwd,
        "lan_address": lan,
        "public_address": public,
        "streams": [{"media": media, "components": components}],
    }
