"""`icetrace candidates SOURCE...`: each side's ICE credentials and candidates, per call and stream."""

from __future__ import annotations

import argparse
import json
import os
import stat
from typing import TYPE_CHECKING, Any, TextIO

from icetrace.errors import InputError

if TYPE_CHECKING:  # imported when the command runs: every other command starts faster without them
    from icetrace.signaling.model import Candidate, SignalingModel

CAPTURE_MAGICS = (
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\xc3\xd4",
    b"\x4d\x3c\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",
    b"\x0a\x0d\x0d\x0a",
    b"GMBU",
    b"\x1f\x8b",
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("candidates", help="show the candidates each side signaled")
    parser.add_argument(
        "source", nargs="+", help="capture, client log (.uccapilog, text, webrtc-internals dump), SIP or SDP file"
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(run=run)


def classify_sources(paths: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(captures, logs, sdp files) told apart by content, not by name; JSON (a browser's dump) is a log."""
    captures, logs, sdps = [], [], []
    for name in paths:
        if _is_pipe(name):
            # telling the kind would consume the pipe's first bytes, and a pipe cannot be read twice
            raise InputError(f"{name}: a pipe; candidates reads each source twice, give a file")
        try:
            with open(name, "rb") as fh:
                head = fh.read(4096)
        except OSError:
            captures.append(name)  # let the reader report the error with its path
            continue
        if head[:4] in CAPTURE_MAGICS or head[:2] == b"\x1f\x8b":
            captures.append(name)
        elif b"$$begin_record" in head or b"SIP/2.0" in head or head.lstrip()[:1] in (b"{", b"["):
            logs.append(name)
        else:
            sdps.append(name)
    return captures, logs, sdps


def _is_pipe(name: str) -> bool:
    try:
        mode = os.stat(name).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def candidate_dict(c: Candidate) -> dict[str, Any]:
    return {
        "foundation": c.foundation,
        "component": c.component,
        "transport": c.transport,
        "priority": c.priority,
        "weight": c.weight,
        "address": str(c.address),
        "type": c.type,
        "related": str(c.related) if c.related else None,
        "tcptype": c.tcptype,
        "grammar": c.grammar,
        "source": str(c.source) if c.source else None,
    }


def model_dict(model: SignalingModel) -> dict[str, Any]:
    calls = []
    for call in model.calls:
        exchanges = []
        for ex in call.exchanges:
            bodies = []
            for body in ex.bodies:
                bodies.append(
                    {
                        "grammar": body.grammar,
                        "fallback": body.fallback,
                        "media": [
                            {
                                "index": m.index,
                                "media": m.media,
                                "label": m.label,
                                "port": m.port,
                                "ice_ufrag": m.ice_ufrag,
                                "ice_pwd": m.ice_pwd,
                                "candidates": [candidate_dict(c) for c in m.candidates],
                                "remote_candidates": [
                                    {
                                        "component": r.component,
                                        "address": str(r.address) if r.address else None,
                                        "username": r.username,
                                    }
                                    for r in m.remote_candidates
                                ],
                            }
                            for m in body.media
                        ],
                    }
                )
            exchanges.append(
                {
                    "role": ex.role,
                    "agent": ex.agent,
                    "sip": ex.sip_method or ex.sip_status,
                    "source": str(ex.source) if ex.source else None,
                    "bodies": bodies,
                }
            )
        calls.append(
            {"call_id": call.call_id, "exchanges": exchanges, "diagnostics": [str(d) for d in call.diagnostics]}
        )
    return {
        "calls": calls,
        "relay_credentials": [
            {
                "username": r.username,
                "duration_minutes": r.duration_minutes,
                "relays": [{"location": loc, "host": h, "port": p, "transport": t} for loc, h, p, t in r.relays],
            }
            for r in model.relay_credentials
        ],
        "problems": model.problems,
    }


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    captures, logs, sdps = classify_sources(args.source)
    from icetrace.capture.packet_source import PacketSource
    from icetrace.records.capture_set import display_names
    from icetrace.signaling.sources import load_signaling

    names = dict(zip(args.source, display_names(args.source), strict=True))  # files of one name told apart
    packets = [(names[c], PacketSource([c])) for c in captures]
    model = load_signaling(captures=packets, sdp_files=sdps, logs=logs, names=names)
    for problem in model.problems:
        err.write(f"icetrace: warning: {problem}\n")
    if args.format == "json":
        json.dump(model_dict(model), out, indent=2)
        out.write("\n")
        return 0
    if not model.calls:
        out.write("no SIP/SDP with ICE candidates found\n")
    for call in model.calls:
        out.write(f"Call {call.call_id}\n")
        for ex in call.exchanges:
            where = {"frame": "capture", "log": "log"}.get(ex.source.kind, "file") if ex.source else "file"
            sip = ex.sip_method or (str(ex.sip_status) if ex.sip_status else where)
            out.write(f"  {ex.role} by {ex.agent} ({sip}, {ex.source})\n")
            for body in ex.bodies:
                tag = " [ms-proxy-2007fallback]" if body.fallback else ""
                out.write(f"    SDP grammar {body.grammar}{tag}\n")
                for m in body.media:
                    name = m.label or m.mid or ""
                    out.write(f"      m={m.media} {name} port {m.port}  ufrag={m.ice_ufrag} pwd={m.ice_pwd}\n")
                    for c in m.candidates:
                        prio = f"{c.weight:.3f}" if c.weight is not None else str(c.priority)
                        kind = c.type or "?"
                        extra = f" raddr {c.related}" if c.related else ""
                        tcp = f" {c.tcptype}" if c.tcptype else ""
                        out.write(
                            f"        {c.component} {c.transport}{tcp:8} {kind:6} {prio:>11} "
                            f"{str(c.address):>24}{extra}  ({c.foundation[:12]})\n"
                        )
                    for r in m.remote_candidates:
                        target = r.username if r.username else f"{r.component} {r.address}"
                        out.write(f"        remote-candidate {target}\n")
        for line in call.diagnostics:
            out.write(f"  diagnostics: {line}\n")
    for creds in model.relay_credentials:
        out.write(f"MRAS credentials for {creds.username[:24]}... valid {creds.duration_minutes} min\n")
        for location, host, port, transport in creds.relays:
            out.write(f"  relay {location} {host}:{port}/{transport}\n")
    return 0
