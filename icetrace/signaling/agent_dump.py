"""A browser's own record of a call, given with --log: a chrome://webrtc-internals dump or a getStats() export.

The dump (docs/webrtc-signaling.md) holds per peer connection an `updateLog` of API calls and events
(setLocalDescription/setRemoteDescription with "type: offer, sdp: …", icecandidate and
addIceCandidate with "sdpMid: …, sdpMLineIndex: …, candidate: …") and a `stats` section of time
series keyed "<stats id>-<attribute>". A getStats() export is the report's objects as a JSON list
or an id -> object map, alone or beside `localDescription`/`remoteDescription`. Descriptions and
candidates become signaling through the same path as signaling read from a capture (the agent's
own ones count as sent by it, the peer's as received); the stats become the agent's report.

A dump is JSON from a browser page or a script: a value of the wrong type (an id that is a list,
a port or a count that is NaN or 1e999, a 5,000-digit index) counts as absent, never as a crash.
Event texts are read in one pass, whatever their length.
"""

from __future__ import annotations

import math
import re
from typing import Any

from icetrace.protocol_number import ascii_number
from icetrace.records.endpoint import Endpoint
from icetrace.signaling.agent_report import AgentReport, ReportedCandidate, ReportedPair
from icetrace.signaling.app_model import build_app_model
from icetrace.signaling.app_payload import Description, PayloadError, TrickledCandidate, load_json, signals_in
from icetrace.signaling.app_signaling import AppSignal
from icetrace.signaling.model import SignalingModel, SourceRef

# "sdpMid: 0, sdpMLineIndex: 0, candidate: candidate:1 1 udp …": the line after its label; the
# fields before it are read from the few hundred characters ahead of the label
_CANDIDATE_LINE = re.compile(r"candidate:[ \t]*(candidate:[^\n]*)")
_EVENT_HEAD = 256
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
    value = _finite(entry.get("time"))
    if value is not None:
        return value / 1000 if value > 1e11 else value  # milliseconds since the epoch
    return None


def _finite(value: object) -> float | None:
    """A JSON number that is one (not NaN, not 1e999 read as infinity), as a float."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value) if not isinstance(value, int) or abs(value) < 1 << 1000 else math.inf
        return number if math.isfinite(number) else None  # json reads 1e999 (and NaN) as floats
    return None


def _count(value: object, top: int = (1 << 53) - 1) -> int | None:
    """A whole number 0 to `top` (a port, a counter), else None."""
    number = _finite(value)
    return int(number) if number is not None and 0 <= number <= top and number == int(number) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _candidate_event(value: str) -> tuple[str, str | None, int | None] | None:
    """(line, sdpMid, sdpMLineIndex) of an icecandidate or addIceCandidate event's text."""
    match = _CANDIDATE_LINE.search(value)
    if match is None:
        return None
    # a candidate line has no ", ": anything after one (", url: stun:…") is the log's
    line = match.group(1).split(", ")[0].strip()
    fields = value[max(0, match.start() - _EVENT_HEAD) : match.start()].split(",")
    mid = index = None
    if len(fields) >= 2 and not fields[-1].strip():  # "…, candidate:": fields come right before
        last = fields[-2]
        if "sdpMLineIndex:" in last:
            index = ascii_number(last.rpartition("sdpMLineIndex:")[2].strip(), 5)
            last = fields[-3] if len(fields) >= 3 else ""
        if "sdpMid:" in last:
            mid = last.rpartition("sdpMid:")[2].strip() or None
    return line, mid, index


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
            event = _candidate_event(value)
            if event is not None:
                line, mid, index = event
                signal = TrickledCandidate(line=line, mid=mid, mline_index=index, ufrag=None)
                signals.append(AppSignal(ref=ref, client=_AGENT, upstream=upstream, signal=signal))
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
                values = load_json(values)  # bounded as the dump itself was (depth, size, digits)
            except PayloadError:
                continue
        if not isinstance(values, list) or not values:
            continue
        obj = objects.setdefault(stat_id, {"id": stat_id, "type": series.get("statsType")})
        obj[attribute] = values[-1]
    return objects


def _stat_objects(data: object) -> dict[str, dict[str, Any]]:
    """Stats objects by id; an object whose id is not a string (or a number) is no stats object."""
    items = data.values() if isinstance(data, dict) else data if isinstance(data, list) else []
    return {
        str(o["id"]): o
        for o in items
        if isinstance(o, dict) and "type" in o and isinstance(o.get("id"), str | int) and not isinstance(o["id"], bool)
    }


def _candidate(obj: dict[str, Any] | None) -> ReportedCandidate | None:
    if obj is None:
        return None
    ip = _text(obj.get("address")) or _text(obj.get("ip")) or _text(obj.get("ipAddress"))
    port = _count(obj.get("port"), 65535)
    if port is None:
        port = _count(obj.get("portNumber"), 65535)
    return ReportedCandidate(
        address=Endpoint(ip, port) if ip and port is not None else None,
        type=_text(obj.get("candidateType")),
        protocol=_text(obj.get("protocol")),
        relay_protocol=_text(obj.get("relayProtocol")),
    )


def _report(
    stats: dict[str, dict[str, Any]], source: str, kind: str, local: str | None, remote: str | None
) -> AgentReport:
    transports = [o for o in stats.values() if o.get("type") == "transport"]
    selected_ids = {_text(o.get("selectedCandidatePairId")) for o in transports} - {None}
    report = AgentReport(source=source, kind=kind, local_ufrag=local, remote_ufrag=remote)
    for obj in transports:
        report.ice_state = _text(obj.get("iceState")) or report.ice_state
    for stat_id, obj in stats.items():
        if obj.get("type") != "candidate-pair":
            continue
        rtt = _finite(obj.get("currentRoundTripTime"))
        report.pairs.append(
            ReportedPair(
                id=stat_id,
                local=_candidate(stats.get(_text(obj.get("localCandidateId")) or "")),
                remote=_candidate(stats.get(_text(obj.get("remoteCandidateId")) or "")),
                state=_text(obj.get("state")),
                nominated=bool(obj.get("nominated")),
                requests_sent=_count(obj.get("requestsSent")),
                responses_received=_count(obj.get("responsesReceived")),
                requests_received=_count(obj.get("requestsReceived")),
                responses_sent=_count(obj.get("responsesSent")),
                current_rtt_ms=rtt * 1000 if rtt is not None and rtt >= 0 else None,
                # Firefox marks the pair itself (`selected`), Chromium names it from the transport
                selected=stat_id in selected_ids or obj.get("selected") is True,
            )
        )
    return report
