"""Every DataFrame's columns and dtypes in one place; empty input gives empty frames with them."""

from __future__ import annotations

from typing import Any

import pandas as pd

SCHEMAS: dict[str, dict[str, str]] = {
    "messages": {
        "frame": "int64",
        "time": "float64",
        "src": "string",
        "dst": "string",
        "transport": "string",
        "kind": "string",
        "dialect": "string",
        "method": "string",
        "class": "string",
        "type": "int64",
        "transaction_id": "string",
        "error_code": "Int64",
        "username": "string",
        "priority": "Int64",
        "use_candidate": "bool",
        "ice_role": "string",
        "fingerprint": "string",
        "relay_via": "string",
        "relay_peer": "string",
        "anomalies": "string",
    },
    "transactions": {
        "method": "string",
        "transaction_id": "string",
        "src": "string",
        "dst": "string",
        "relayed": "bool",
        "first_frame": "int64",
        "time": "float64",
        "requests": "int64",
        "response_frame": "Int64",
        "outcome": "string",
        "error_code": "Int64",
        "rtt_ms": "float64",
        "integrity": "string",
        "response_integrity": "string",
    },
    "candidates": {
        "call_id": "string",
        "stream": "Int64",
        "agent": "string",
        "component": "Int64",
        "transport": "string",
        "type": "string",
        "address": "string",
        "priority": "Int64",
        "origin": "string",
        "related": "string",
    },
    "pairs": {
        "call_id": "string",
        "stream": "Int64",
        "component": "Int64",
        "controlling": "string",
        "controlling_type": "string",
        "controlled": "string",
        "controlled_type": "string",
        "transport": "string",
        "priority": "Int64",
        "state": "string",
        "nominated": "bool",
        "nominated_by": "string",
        "selected": "bool",
        "selected_because": "string",
        "requests_sent": "int64",
        "responses_received": "int64",
        "rtt_ms": "float64",
        "first_check": "float64",
        "last_check": "float64",
        "relayed": "bool",
    },
    "checks": {
        "frame": "int64",
        "time": "float64",
        "transaction_id": "string",
        "call_id": "string",
        "sender": "string",
        "src": "string",
        "dst": "string",
        "relayed": "bool",
        "use_candidate": "bool",
        "ice_role": "string",
        "priority": "Int64",
        "retransmissions": "int64",
        "outcome": "string",
        "rtt_ms": "float64",
        "integrity": "string",
        "response_integrity": "string",
    },
    "media": {
        "src": "string",
        "dst": "string",
        "transport": "string",
        "kind": "string",
        "first_frame": "int64",
        "first_time": "float64",
        "last_frame": "int64",
        "last_time": "float64",
        "packets": "int64",
        "bytes": "int64",
        "on_selected_pair": "bool",
    },
    "verdicts": {"code": "string", "severity": "string", "message": "string", "frames": "string", "call_id": "string"},
}


def frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A DataFrame with the named schema's columns in order and dtypes, even when empty."""
    schema = SCHEMAS[name]
    df = pd.DataFrame(rows, columns=list(schema))
    typed: pd.DataFrame = df.astype(schema)
    return typed
