"""A browser's own account of its call (getStats() and its descriptions) in truth.json's shape.

The page (webrtc_page.html) posts the RTCStatsReport as a list of stats objects
(W3C webrtc-stats: local-candidate, remote-candidate, candidate-pair, transport).
The selected pair is the transport's selectedCandidatePairId (Chromium) or the
candidate pair flagged `selected` (Firefox, which has no transport stats). What
the stats leave out (a candidate's foundation or related address in some
versions) is taken from the a=candidate lines of the descriptions.
"""

from __future__ import annotations

import re

# webrtc-stats pair states are those of RFC 8445 plus none else; Firefox also reports "cancelled"
# for pairs it pruned, which the truth schema calls failed (the raw state is kept beside it).
STATES = {"succeeded", "failed", "in-progress", "waiting", "frozen"}


def sdp_candidates(sdp: str | None) -> dict[str, dict]:
    """a=candidate lines of a description by 'IP:PORT' (RFC 8839 §5.1 grammar)."""
    found: dict[str, dict] = {}
    for line in (sdp or "").splitlines():
        m = re.match(r"a=candidate:(\S+) (\d+) (\S+) (\d+) (\S+) (\d+) typ (\S+)(.*)", line.strip())
        if not m:
            continue
        foundation, component, transport, priority, ip, port, typ, rest = m.groups()
        extra = dict(zip(rest.split()[::2], rest.split()[1::2], strict=False))
        related = f"{extra['raddr']}:{extra['rport']}" if "raddr" in extra and extra["raddr"] != "0.0.0.0" else None
        found[f"{ip}:{port}"] = {
            "foundation": foundation,
            "component": int(component),
            "transport": transport.lower(),
            "priority": int(priority),
            "address": f"{ip}:{port}",
            "type": typ,
            "related": related,
        }
    return found


def sdp_value(sdp: str | None, key: str) -> str | None:
    m = re.search(rf"^a={key}:(\S+)", sdp or "", re.M)
    return m.group(1) if m else None


def _candidate(stat: dict, signaled: dict[str, dict]) -> dict:
    address = f"{stat.get('address') or stat.get('ip')}:{stat['port']}"
    known = signaled.get(address, {})
    related = None
    if stat.get("relatedAddress") and stat.get("relatedPort"):
        related = f"{stat['relatedAddress']}:{stat['relatedPort']}"
    return {
        "foundation": stat.get("foundation") or known.get("foundation"),
        "component": 1,  # bundled and rtcp-muxed: one component
        "transport": (stat.get("protocol") or "udp").lower(),
        "priority": stat.get("priority"),
        "address": address,
        "type": stat["candidateType"],
        "related": related or known.get("related"),
    }


def _media(sdp: str | None) -> str:
    kinds = re.findall(r"^m=(\w+)", sdp or "", re.M)
    return "+".join(kinds) if kinds else "data"


def browser_truth(result: dict, lan: str, public: str | None) -> dict:
    """The agent entry of truth.json for one browser, from what its page posted."""
    stats = {s["id"]: s for s in result["stats"]}
    local_sdp, remote_sdp = result.get("localDescription"), result.get("remoteDescription")
    signaled_local, signaled_remote = sdp_candidates(local_sdp), sdp_candidates(remote_sdp)
    local = {i: _candidate(s, signaled_local) for i, s in stats.items() if s["type"] == "local-candidate"}
    remote = {i: _candidate(s, signaled_remote) for i, s in stats.items() if s["type"] == "remote-candidate"}
    transports = [s for s in stats.values() if s["type"] == "transport"]
    selected_id = next((t["selectedCandidatePairId"] for t in transports if t.get("selectedCandidatePairId")), None)
    checklist = []
    selected = None
    for sid, pair in stats.items():
        if pair["type"] != "candidate-pair" or pair.get("localCandidateId") not in local:
            continue
        mine, theirs = local[pair["localCandidateId"]], remote.get(pair["remoteCandidateId"])
        if theirs is None:
            continue
        state = pair.get("state", "frozen")
        rtt = pair.get("currentRoundTripTime")
        entry = {
            "local": mine["address"],
            "local_type": mine["type"],
            "remote": theirs["address"],
            "remote_type": theirs["type"],
            "state": state if state in STATES else "failed",
            "browser_state": state,
            "nominated": bool(pair.get("nominated")),
            "requests_sent": pair.get("requestsSent"),
            "responses_received": pair.get("responsesReceived"),
            "requests_received": pair.get("requestsReceived"),
            "responses_sent": pair.get("responsesSent"),
            "current_rtt_ms": round(rtt * 1000, 3) if rtt is not None else None,
            "total_rtt_ms": round(total * 1000, 3) if (total := pair.get("totalRoundTripTime")) is not None else None,
            "bytes_sent": pair.get("bytesSent"),
            "bytes_received": pair.get("bytesReceived"),
        }
        checklist.append(entry)
        if sid == selected_id or (selected_id is None and pair.get("selected")):
            selected = {
                "local": mine["address"],
                "local_type": mine["type"],
                "remote": theirs["address"],
                "remote_type": theirs["type"],
                "transport": mine["transport"],
                "state": entry["state"],
            }
    role = next((t["iceRole"] for t in transports if t.get("iceRole") in ("controlling", "controlled")), None)
    if role is None:  # no transport stats (Firefox): the offerer of a full-ICE call controls (RFC 8445 §6.1.1)
        role = "controlling" if result["caller"] else "controlled"
    # a page that kept the call open after its snapshot: when the browser's ICE failed (its consent
    # verdict, RFC 7675 §5.1), or None if it stayed up
    lingered = {"consent_expired": result.get("consentExpired")} if "linger" in result else {}
    return {
        "software": result["userAgent"],
        "role": role,
        "ice_ufrag": sdp_value(local_sdp, "ice-ufrag"),
        "ice_pwd": sdp_value(local_sdp, "ice-pwd"),
        "lan_address": lan,
        "public_address": public,
        "connected": result["connected"],
        "ice_connection_state": result.get("iceConnectionState"),
        **lingered,
        "streams": [
            {
                "media": _media(local_sdp),
                "components": [
                    {
                        "component": 1,
                        "local_candidates": sorted(local.values(), key=lambda c: -(c["priority"] or 0)),
                        "remote_candidates": sorted(remote.values(), key=lambda c: -(c["priority"] or 0)),
                        "checklist": checklist,
                        "selected": selected,
                    }
                ],
            }
        ],
    }
