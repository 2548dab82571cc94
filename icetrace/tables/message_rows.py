"""The two shapes of a message row, built by one builder from the columns declared in tables/schema.py.

`table_row` is a row of `Analysis.messages` (flat: username, priority, relay_via, ...);
`line_row` is a line of `icetrace messages` (CSV, JSONL, the table): the record's whole address
list, attribute list and relay. A column shared by both is one declaration and one getter. Each
shape's getters must name exactly its declared columns: a getter for an undeclared column is an
error (`UndeclaredColumn`) when this module loads, never a key silently dropped or added.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from icetrace.records.stun_record import StunRecord
from icetrace.tables.rows import row_builder
from icetrace.tables.schema import MESSAGE_LINE, row_columns

Getter = Callable[[StunRecord], Any]

_SHARED: dict[str, Getter] = {
    "frame": lambda r: r.frame,
    "src": lambda r: str(r.src),
    "dst": lambda r: str(r.dst),
    "transport": lambda r: r.transport,
    "kind": lambda r: r.kind,
    "dialect": lambda r: r.dialect,
    "method": lambda r: r.method,
    "class": lambda r: r.cls,
    "type": lambda r: r.type,
    "transaction_id": lambda r: r.transaction_id,
    "error_code": lambda r: r.error_code,
    "fingerprint": lambda r: r.fingerprint,
}


def _relay(record: StunRecord) -> dict[str, Any] | None:
    relay = record.relay
    if relay is None:
        return None
    return {
        "via": relay.via,
        "client": str(relay.client),
        "server": str(relay.server),
        "peer": str(relay.peer) if relay.peer else None,
        "channel": relay.channel,
    }


TABLE_GETTERS: dict[str, Getter] = {
    **_SHARED,
    "time": lambda r: r.time,
    "username": lambda r: r.username.rstrip(b"\0").decode("latin-1") if r.username else None,
    "priority": lambda r: r.priority,
    "use_candidate": lambda r: r.use_candidate,
    "ice_role": lambda r: r.ice_role,
    "relay_via": lambda r: r.relay.via if r.relay else None,
    "relay_peer": lambda r: str(r.relay.peer) if r.relay and r.relay.peer else None,
    "relay_server": lambda r: str(r.relay.server) if r.relay else None,
    "anomalies": lambda r: "; ".join(r.anomalies),
}

LINE_GETTERS: dict[str, Getter] = {
    **_SHARED,
    "time": lambda r: round(r.time, 9),
    "addresses": lambda r: {name: str(ep) for name, ep in r.addresses.items()},
    "attributes": lambda r: list(r.attributes),
    "relay": _relay,
    "anomalies": lambda r: list(r.anomalies),
}


table_row = row_builder("messages", row_columns("messages"), TABLE_GETTERS)
line_row = row_builder("messages lines", MESSAGE_LINE, LINE_GETTERS)

LINE_COLUMNS = tuple(c.name for c in MESSAGE_LINE)
"""The CSV header of `icetrace messages`; the JSONL keys are the same."""


def csv_field(text: str) -> str:
    """A CSV field as csv.writer's QUOTE_MINIMAL writes it."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_fields(row: dict[str, Any]) -> list[Any]:
    """A `line_row` as the fields of its CSV line: the address list, attribute list, relay and
    anomalies flattened to text (the definition `csv_line` is held to)."""
    relay = row["relay"]
    flat = {
        **row,
        "addresses": " ".join(f"{name}={ep}" for name, ep in row["addresses"].items()),
        "attributes": ",".join(row["attributes"]),
        "relay": f"{relay['via']} peer={relay['peer']}" if relay else "",
        "anomalies": ",".join(row["anomalies"]),
    }
    return [flat[name] for name in LINE_COLUMNS]


def csv_line(record: StunRecord) -> str:
    """The CSV line of `line_row`, written directly: csv.writer costs more than the decoding.

    Only the address list, attribute list, relay and anomalies can hold a delimiter or a
    quote; a test holds this to csv.writer's output of `csv_fields` on every record of the corpus."""
    relay = record.relay
    error_code = record.error_code
    return (
        f"{record.frame},{round(record.time, 9)!r},{record.src},{record.dst},{record.transport},{record.kind},"
        f"{record.dialect},{record.method},{record.cls},{record.type},{record.transaction_id},"
        f"{'' if error_code is None else error_code},"
        f"{csv_field(' '.join([f'{name}={ep}' for name, ep in record.addresses.items()]))},"
        f"{record.fingerprint},{csv_field(','.join(record.attributes))},"
        f"{csv_field(f'{relay.via} peer={relay.peer}') if relay else ''},{csv_field(','.join(record.anomalies))}\n"
    )
