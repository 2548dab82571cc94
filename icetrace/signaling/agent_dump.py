"""A browser's own record of a call, given with --log: a chrome://webrtc-internals dump or a getStats() export.

The dump (docs/webrtc-signaling.md) holds per peer connection an `updateLog` of API calls and events
(setLocalDescription/setRemoteDescription with "type: offer, sdp: …", icecandidate and
addIceCandidate with "sdpMid: …, sdpMLineIndex: …, candidate: …") and a `stats` section of time
series keyed "<stats id>-<attribute>". A getStats() export is the report's objects as a JSON list
or an id -> object map, alone or beside `localDescription`/`remoteDescription`. Descriptions and
candidates become signaling through the same path as signaling read from a capture (the agent's
own ones count as sent by it, the peer's as received); the stats become the agent's report.
"""

from __future__ import annotations

import json
import re
from typing import Any

from icetrace.records.endpoint import Endpoint
from icetrace.signaling.agent_report import AgentReport, ReportedCandidate, ReportedPair
from icetrace.signaling.app_payload import Description, PayloadError, TrickledCandidate, load_json, signals_in
from icetrace.signaling.app_signaling import AppSignal, build_app_model
from icetrace.signaling.model import SignalingModel, SourceRef

_CANDIDATE_EVENT = re.compile(
    r"(?:sdpMid:\s*(?P<mid>[^,]*),\s*)?(?:sdpMLineIndex:\s*(?P<index>\d+),\s*)?candidate:\s*(?P<line>candidate:.*)",
    re.S,
)
_LOCAL_EVENTS = ("setlocaldescription", "setlocaldescriptiononsuccess", "createofferonsuccess")
_REMOTE_EVENTS = ("setremotedescription", "setremotedescriptiononsuccess")
_AGENT = "agent"  # the dumping browser, as the signaling path's "client"


def looks_like_agent_dump(text: str) -> bool:
    head = text.lstrip()[:1]
    return head in ("{", "[") and any(k in text for k in ('"PeerConnections"', '"candidate-pair"', "candidate-pair"))


def read_agent_dump(text: str, name: str, model: SignalingModel) -> None:
    """Descriptions and candidates into `model.calls`, stats into `model.agent_reports`; problems kept."""
    try:
        data = load_json(text)
    except PayloadError as exc:
        model.problems.append(f"{name}: {exc}")
        return
    signals: list[AppSignal] = []
    if isinstance(data, dict) and isinstance(data.get("PeerConnections"), dict):
        for pc_id, pc in data["PeerConnections"].items():
            if not isinstance(pc, dict):
                continue
            source = f"{name}:{pc_id}"
            local, remote = _update_log(pc.get("updateLog"), source, signals, model)
            stats = _dump_stats(pc.get("stats"))
            if stats:
                model.agent_reports.append(_report(stats, source, "webrtc-internals", local, remote))
    else:
        local = remote = None
        objects = data
        if isinstance(data, dict) and "stats" in data:
            objects = data["stats"]
            for key, upstream in (("localDescription", True), ("remoteDescription", False)):
                sdp = data.get(key)
                if isinstance(sdp, dict):
                    sdp = sdp.get("sdp")
                if isinstance(sdp, str):
                    ref = SourceRef(kind="log", name=name, position=1)
                    signals.append(
                        AppSignal(ref=ref, client=_AGENT, upstream=upstream, signal=Description(sdp=sdp, type=None))
                    )
                    if upstream:
                        local = _ufrag(sdp)
                    else:
                        remote = _ufrag(sdp)
        stats = _stat_objects(objects)
        if not stats:
            model.problems.append(f"{name}: no getStats() objects found")
            return
        model.agent_reports.append(_report(stats, name, "getstats", local, remote))
    build_app_model(signals, model)


def _ufrag(sdp: str) -> str | None:
    match = re.search(r"^a=ice-ufrag:(\S+)", sdp, re.M)
    return match.group(1) if match else None


def _time(entry: dict[str, Any]) -> float | None:
    value = entry.get("time")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value / 1000 if value > 1e11 else float(value)  # milliseconds since the epoch
    return None


def _update_log(
    log: object, source: str, signals: list[AppSignal], model: SignalingModel
) -> tuple[str | None, str | None]:
    local = remote = None
    if not isinstance(log, list):
        return None, None
    for number, entry in enumerate(log, start=1):
        if not isinstance(entry, dict):
            continue
        kind = str(entry.get("type", "")).lower()
        value = entry.get("value")
        if not isinstance(value, str):
            continue
        ref = SourceRef(kind="log", name=source, position=number, time=_time(entry))
        if kind in _LOCAL_EVENTS or kind in _REMOTE_EVENTS:
            sdp_at = value.find("v=0")
            if sdp_at < 0:
                continue
            sdp = value[sdp_at:].replace("\\r\\n", "\r\n")
            typed = re.search(r"type:\s*(\w+)", value[:sdp_at])
            upstream = kind in _LOCAL_EVENTS
            if kind == "createofferonsuccess":
                continue  # the same description reaches setLocalDescription
            signals.append(
                AppSignal(
                    ref=ref,
                    client=_AGENT,
                    upstream=upstream,
                    signal=Description(sdp=sdp, type=typed.group(1) if typed else None),
                )
            )
            if upstream:
                local = local or _ufrag(sdp)
            else:
                remote = remote or _ufrag(sdp)
        elif kind.startswith(("icecandidate", "onicecandidate", "addicecandidate")):
            upstream = not kind.startswith("addicecandidate")
            match = _CANDIDATE_EVENT.search(value)
            if match is not None:
                mid = match.group("mid")
                index = match.group("index")
                signals.append(
                    AppSignal(
                        ref=ref,
                        client=_AGENT,
                        upstream=upstream,
                        signal=TrickledCandidate(
                            # a candidate line has no ", ": anything after one (", url: stun:…") is the log's
                            line=match.group("line").split("\n")[0].split(", ")[0].strip(),
                            mid=mid.strip() if mid else None,
                            mline_index=int(index) if index else None,
                            ufrag=None,
                        ),
                    )
                )
            elif value.lstrip().startswith("{"):
                found, problems = signals_in(value)
                model.problems += [f"{ref}: {p}" for p in problems]
                signals += [AppSignal(ref=ref, client=_AGENT, upstream=upstream, signal=s) for s in found]
    return local, remote


def _dump_stats(stats: object) -> dict[str, dict[str, Any]]:
    """The last sample of each "<id>-<attribute>" series, regrouped into stats objects."""
    if not isinstance(stats, dict):
        return _stat_objects(stats)
    if all(isinstance(v, dict) and "type" in v for v in stats.values()):
        return _stat_objects(stats)
    objects: dict[str, dict[str, Any]] = {}
    for key, series in stats.items():
        if not isinstance(series, dict) or "-" not in key:
            continue
        stat_id, _, attribute = key.rpartition("-")
        values = series.get("values")
        if isinstance(values, str):
            try:
                values = json.loads(values)
            except ValueError:
                continue
        if not isinstance(values, list) or not values:
            continue
        obj = objects.setdefault(stat_id, {"id": stat_id, "type": series.get("statsType")})
        obj[attribute] = values[-1]
    return objects


def _stat_objects(data: object) -> dict[str, dict[str, Any]]:
    items = data.values() if isinstance(data, dict) else data if isinstance(data, list) else []
    return {str(o["id"]): o for o in items if isinstance(o, dict) and "id" in o and "type" in o}


def _candidate(obj: dict[str, Any] | None) -> ReportedCandidate | None:
    if obj is None:
        return None
    ip = obj.get("address") or obj.get("ip") or obj.get("ipAddress")
    port = obj.get("port") or obj.get("portNumber")
    address = Endpoint(str(ip), int(port)) if ip and isinstance(port, int | float) else None
    return ReportedCandidate(
        address=address,
        type=obj.get("candidateType"),
        protocol=obj.get("protocol"),
        relay_protocol=obj.get("relayProtocol"),
    )


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _report(
    stats: dict[str, dict[str, Any]], source: str, kind: str, local: str | None, remote: str | None
) -> AgentReport:
    selected_ids = {o.get("selectedCandidatePairId") for o in stats.values() if o.get("type") == "transport"}
    report = AgentReport(source=source, kind=kind, local_ufrag=local, remote_ufrag=remote)
    for obj in stats.values():
        if obj.get("type") == "transport" and obj.get("iceState"):
            report.ice_state = str(obj["iceState"])
        if obj.get("type") != "candidate-pair":
            continue
        rtt = obj.get("currentRoundTripTime")
        report.pairs.append(
            ReportedPair(
                id=str(obj["id"]),
                local=_candidate(stats.get(str(obj.get("localCandidateId")))),
                remote=_candidate(stats.get(str(obj.get("remoteCandidateId")))),
                state=obj.get("state"),
                nominated=bool(obj.get("nominated")),
                requests_sent=_int(obj.get("requestsSent")),
                responses_received=_int(obj.get("responsesReceived")),
                requests_received=_int(obj.get("requestsReceived")),
                responses_sent=_int(obj.get("responsesSent")),
                current_rtt_ms=float(rtt) * 1000 if isinstance(rtt, int | float) else None,
                # Firefox marks the pair itself (`selected`), Chromium names it from the transport
                selected=obj["id"] in selected_ids or obj.get("selected") is True,
            )
        )
    return report
