"""Every output table declared once: each column's name, dtype, meaning and unit.

The DataFrames (`dataframe()`), the docs' column tables (`markdown()`, pasted into
docs/correlator.md and tested equal), both shapes of message row (tables/message_rows.py: the
`messages` table's and `MESSAGE_LINE`, the lines of `icetrace messages`) and the JSON fields that
mirror a column (tested) all come from here. A row holding a key that is not
declared is an error (`UndeclaredColumn`), so a new column cannot be dropped on the way.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from icetrace.records.vocabulary import TransactionOutcome, words

if TYPE_CHECKING:  # pandas is loaded when a table is built, not when the CLI starts
    import pandas as pd


@dataclass(frozen=True, kw_only=True)
class Column:
    name: str
    dtype: str  # a pandas dtype; nullable ones ("Int64", "string") where a value may be missing
    meaning: str
    unit: str | None = None


class UndeclaredColumn(ValueError):
    """A row carries a key its table does not declare."""


_OUTCOMES = "/".join(words(TransactionOutcome))


def _capture(of: str) -> Column:
    """The first column of every table: the file a row came from, named as the outputs name a capture
    (its file name; where two share one, the end of its path that tells them apart), so the rows of
    several captures stay apart."""
    return Column(name="capture", dtype="string", meaning=f"the capture {of}")


TABLES: dict[str, tuple[Column, ...]] = {
    "messages": (
        _capture("that held the message"),
        Column(name="frame", dtype="int64", meaning="frame number in its capture"),
        Column(name="time", dtype="float64", meaning="capture timestamp", unit="s since the epoch"),
        Column(name="src", dtype="string", meaning="source transport address (IP:port) of the packet"),
        Column(name="dst", dtype="string", meaning="destination transport address of the packet"),
        Column(name="transport", dtype="string", meaning="udp or tcp"),
        Column(name="kind", dtype="string", meaning="stun or channeldata (MessageKind)"),
        Column(
            name="dialect",
            dtype="string",
            meaning="how the message reads its attributes (RecordDialect; empty for ChannelData)",
        ),
        Column(name="method", dtype="string", meaning="binding, allocate, ... (empty for ChannelData)"),
        Column(name="class", dtype="string", meaning="request, indication, success or error (MessageClass)"),
        Column(name="type", dtype="int64", meaning="the 16-bit message type (ChannelData: the channel number)"),
        Column(name="transaction_id", dtype="string", meaning="hex: 32 digits for 128-bit ids, 24 otherwise"),
        Column(name="error_code", dtype="Int64", meaning="ERROR-CODE of an error response"),
        Column(name="username", dtype="string", meaning="USERNAME, NUL padding removed, read as latin-1"),
        Column(name="priority", dtype="Int64", meaning="PRIORITY of a check"),
        Column(name="use_candidate", dtype="bool", meaning="USE-CANDIDATE present"),
        Column(
            name="ice_role",
            dtype="string",
            meaning="controlling or controlled, from ICE-CONTROLLING/ICE-CONTROLLED (Role)",
        ),
        Column(name="fingerprint", dtype="string", meaning="ok, ok-legacy, bad or absent (FingerprintResult)"),
        Column(
            name="relay_via",
            dtype="string",
            meaning="how a relayed message was wrapped (Send/Data indication, ChannelData)",
        ),
        Column(name="relay_peer", dtype="string", meaning="the TURN peer address of a relayed message"),
        Column(name="relay_server", dtype="string", meaning="the TURN server a relayed message went through"),
        Column(name="anomalies", dtype="string", meaning="what did not parse, '; '-separated"),
    ),
    "transactions": (
        _capture("that held its first request"),
        Column(name="method", dtype="string", meaning="the request's method"),
        Column(name="transaction_id", dtype="string", meaning="hex transaction id"),
        Column(
            name="src", dtype="string", meaning="the request's sender (effective: inside a TURN wrapper when relayed)"
        ),
        Column(name="dst", dtype="string", meaning="the request's receiver (effective)"),
        Column(name="relayed", dtype="bool", meaning="sent through a TURN relay"),
        Column(name="first_frame", dtype="int64", meaning="frame of the first request"),
        Column(name="time", dtype="float64", meaning="time of the first request", unit="s since the epoch"),
        Column(name="requests", dtype="int64", meaning="transmissions, retransmissions included"),
        Column(name="response_frame", dtype="Int64", meaning="frame of the first response"),
        Column(
            name="outcome",
            dtype="string",
            meaning=f"{_OUTCOMES} (TransactionOutcome)",
        ),
        Column(name="error_code", dtype="Int64", meaning="ERROR-CODE of the response"),
        Column(name="rtt_ms", dtype="float64", meaning="round trip seen on the sender's side or between", unit="ms"),
        Column(name="answer_ms", dtype="float64", meaning="answering time seen on the receiver's side", unit="ms"),
        Column(
            name="integrity",
            dtype="string",
            meaning="MESSAGE-INTEGRITY of the request: ok/bad/unverified/absent (IntegrityResult)",
        ),
        Column(
            name="response_integrity",
            dtype="string",
            meaning="MESSAGE-INTEGRITY of the first response (IntegrityResult)",
        ),
    ),
    "candidates": (
        _capture("that showed it: a learned one's check, a signaled one's signaling (or the SDP file or log)"),
        Column(name="call_id", dtype="string", meaning="SIP Call-ID of the stream (empty without signaling)"),
        Column(name="stream", dtype="Int64", meaning="media stream index in the SDP"),
        Column(name="agent", dtype="string", meaning="caller, callee:<tag> or ufrag:<ufrag>"),
        Column(name="component", dtype="Int64", meaning="ICE component (1 RTP, 2 RTCP)"),
        Column(name="transport", dtype="string", meaning="udp, tcp, ..."),
        Column(name="type", dtype="string", meaning="host, srflx, prflx or relay"),
        Column(name="address", dtype="string", meaning="transport address"),
        Column(name="priority", dtype="Int64", meaning="signaled priority"),
        Column(name="check_priority", dtype="Int64", meaning="PRIORITY the agent's checks from it carry"),
        Column(
            name="origin", dtype="string", meaning="where it was learned (signaling, a check, a TURN response, ...)"
        ),
        Column(name="related", dtype="string", meaning="raddr:rport"),
    ),
    "pairs": (
        _capture("of its first frame (its first check), else the one that signaled its candidates"),
        Column(name="call_id", dtype="string", meaning="SIP Call-ID of the stream"),
        Column(name="stream", dtype="Int64", meaning="media stream index"),
        Column(name="component", dtype="Int64", meaning="ICE component"),
        Column(name="controlling", dtype="string", meaning="the controlling agent's candidate address"),
        Column(name="controlling_type", dtype="string", meaning="its candidate type"),
        Column(name="controlled", dtype="string", meaning="the controlled agent's candidate address"),
        Column(name="controlled_type", dtype="string", meaning="its candidate type"),
        Column(name="transport", dtype="string", meaning="udp or tcp"),
        Column(
            name="priority",
            dtype="UInt64",
            meaning="pair priority (RFC 8445 §6.1.2.3, up to 2^64), when both candidates' priorities are signaled",
        ),
        Column(name="state", dtype="string", meaning="succeeded, failed or in-progress (PairState)"),
        Column(name="nominated", dtype="bool", meaning="nominated"),
        Column(name="nominated_by", dtype="string", meaning="use-candidate, nomination or final-offer (NominatedBy)"),
        Column(name="selected", dtype="bool", meaning="the component's selected pair"),
        Column(name="selected_because", dtype="string", meaning="why it was selected (SelectedBecause)"),
        Column(name="checks_by_controlling", dtype="int64", meaning="the controlling agent's check transactions"),
        Column(name="checks_by_controlled", dtype="int64", meaning="the controlled agent's check transactions"),
        Column(
            name="requests_by_controlling",
            dtype="int64",
            meaning="the controlling agent's check transmissions, retransmissions included",
        ),
        Column(name="requests_by_controlled", dtype="int64", meaning="the controlled agent's check transmissions"),
        Column(
            name="answers_to_controlling",
            dtype="int64",
            meaning="the controlling agent's checks answered (success or error)",
        ),
        Column(name="answers_to_controlled", dtype="int64", meaning="the controlled agent's checks answered"),
        Column(
            name="errors_to_controlling", dtype="int64", meaning="the controlling agent's checks answered with an error"
        ),
        Column(
            name="errors_to_controlled", dtype="int64", meaning="the controlled agent's checks answered with an error"
        ),
        Column(
            name="rtt_ms",
            dtype="float64",
            meaning="round trip of the checks leaving the capture's side (rtt_of)",
            unit="ms",
        ),
        Column(name="rtt_of", dtype="string", meaning="whose checks rtt_ms times (Role)"),
        Column(
            name="rtt_ms_controlling",
            dtype="float64",
            meaning="shortest round trip of the controlling agent's checks",
            unit="ms",
        ),
        Column(
            name="rtt_ms_controlled",
            dtype="float64",
            meaning="shortest round trip of the controlled agent's checks",
            unit="ms",
        ),
        Column(
            name="answer_ms_controlling", dtype="float64", meaning="the controlling agent's answering time", unit="ms"
        ),
        Column(
            name="answer_ms_controlled", dtype="float64", meaning="the controlled agent's answering time", unit="ms"
        ),
        Column(name="first_check", dtype="float64", meaning="time of its first check", unit="s since the epoch"),
        Column(name="last_check", dtype="float64", meaning="time of its last check", unit="s since the epoch"),
        Column(
            name="first_success",
            dtype="float64",
            meaning="time its first check was answered with success",
            unit="s since the epoch",
        ),
        Column(
            name="nominated_at",
            dtype="float64",
            meaning="time the check that nominated it (USE-CANDIDATE or NOMINATION) was answered; empty when the "
            "final offer nominated it",
            unit="s since the epoch",
        ),
        Column(
            name="media_first",
            dtype="float64",
            meaning="time of the first media packet it carried, either way (relayed media included)",
            unit="s since the epoch",
        ),
        Column(name="media_last", dtype="float64", meaning="time of the last one", unit="s since the epoch"),
        Column(
            name="media_packets",
            dtype="int64",
            meaning="media packets it carried, both ways (each flow once, however many captures or relay legs saw it)",
        ),
        Column(name="relayed", dtype="bool", meaning="its checks went through a TURN relay"),
    ),
    "checks": (
        _capture("that held the request"),
        Column(name="frame", dtype="int64", meaning="frame of the first request"),
        Column(name="time", dtype="float64", meaning="time of the first request", unit="s since the epoch"),
        Column(name="transaction_id", dtype="string", meaning="hex transaction id"),
        Column(name="call_id", dtype="string", meaning="SIP Call-ID of its stream"),
        Column(name="stream", dtype="Int64", meaning="media stream index of its stream"),
        Column(name="component", dtype="Int64", meaning="ICE component of its pair"),
        Column(
            name="controlling",
            dtype="string",
            meaning="its pair's controlling candidate address (with call_id, stream and component, the pairs "
            "table's key: empty when the check is on no known pair)",
        ),
        Column(name="controlled", dtype="string", meaning="its pair's controlled candidate address"),
        Column(
            name="sender",
            dtype="string",
            meaning="the agent that sent it (empty when its USERNAME names no known agent)",
        ),
        Column(name="src", dtype="string", meaning="sender address, as seen nearest the sender"),
        Column(name="dst", dtype="string", meaning="receiver address, as seen nearest the sender"),
        Column(name="relayed", dtype="bool", meaning="sent through a TURN relay"),
        Column(name="use_candidate", dtype="bool", meaning="USE-CANDIDATE present"),
        Column(name="ice_role", dtype="string", meaning="the role it claims (Role)"),
        Column(name="priority", dtype="Int64", meaning="PRIORITY attribute"),
        Column(name="retransmissions", dtype="int64", meaning="requests after the first"),
        Column(name="outcome", dtype="string", meaning=f"{_OUTCOMES} (TransactionOutcome)"),
        Column(name="rtt_ms", dtype="float64", meaning="round trip seen on the sender's side or between", unit="ms"),
        Column(name="answer_ms", dtype="float64", meaning="answering time seen on the receiver's side", unit="ms"),
        Column(name="integrity", dtype="string", meaning="MESSAGE-INTEGRITY of the request (IntegrityResult)"),
        Column(name="response_integrity", dtype="string", meaning="of the first response (IntegrityResult)"),
    ),
    "media": (
        _capture("that held the flow"),
        Column(name="src", dtype="string", meaning="source transport address"),
        Column(name="dst", dtype="string", meaning="destination transport address"),
        Column(name="transport", dtype="string", meaning="udp or tcp"),
        Column(
            name="kind",
            dtype="string",
            meaning="rtp, dtls, zrtp, ... by the RFC 7983 first byte; a TURN client-to-server leg's row (no "
            "relay_via): channeldata, or the indication that carried the data (send-indication, data-indication, "
            "ms-send-request, ms-data-indication)",
        ),
        Column(name="first_frame", dtype="int64", meaning="first packet's frame"),
        Column(name="first_time", dtype="float64", meaning="first packet's time", unit="s since the epoch"),
        Column(name="last_frame", dtype="int64", meaning="last packet's frame"),
        Column(name="last_time", dtype="float64", meaning="last packet's time", unit="s since the epoch"),
        Column(name="packets", dtype="int64", meaning="media packets (a relay leg's checks are in checks)"),
        Column(
            name="bytes",
            dtype="int64",
            meaning="payload bytes (an indication leg's: what its DATA attributes carried)",
            unit="bytes",
        ),
        Column(name="on_selected_pair", dtype="bool", meaning="carried by a selected pair"),
        Column(
            name="relay_via",
            dtype="string",
            meaning="set on TURN-relayed flows (src/dst are then the relayed address and the peer, kind what the "
            "ChannelData or indication carried): how it travelled on the client-to-server leg: channeldata, "
            "send-indication, data-indication, ms-send-request, ms-data-indication, ms-multiplexed",
        ),
        Column(name="relay_server", dtype="string", meaning="the TURN server of a relayed flow"),
        Column(name="relay_peer", dtype="string", meaning="the peer of a relayed flow"),
        Column(name="channel", dtype="Int64", meaning="the TURN channel number of a relayed flow (ChannelData)"),
        Column(
            name="checks",
            dtype="Int64",
            meaning="on a TURN client-to-server leg (kind channeldata or an indication's, no relay_via; MS "
            "multiplexed TURN's 0xFF10 from a peer to a relayed address too): its ChannelData or indications that "
            "carried STUN (relayed checks and their answers, RFC 7983's first byte 0-3), in neither packets nor "
            "bytes; a leg that carried checks only has 0 packets and spans its checks",
        ),
    ),
    "streams": (
        _capture("that signaled it (or the SDP file or log), else the one that held its first check"),
        Column(name="call_id", dtype="string", meaning="SIP Call-ID (empty without signaling)"),
        Column(name="stream", dtype="Int64", meaning="media stream index in the SDP"),
        Column(name="media", dtype="string", meaning="audio, video, ... from the SDP"),
        Column(name="outcome", dtype="string", meaning="connected, failed or unknown"),
        Column(name="connectivity", dtype="string", meaning="DIRECT, RELAY or FAILED (MS-QoE's)"),
        Column(name="nomination_style", dtype="string", meaning="regular, aggressive, final-offer, ..."),
        Column(name="cause", dtype="string", meaning="why it went direct, relayed or dead (docs/causes.md)"),
        Column(name="components", dtype="Int64", meaning="ICE components"),
        Column(name="selected_components", dtype="Int64", meaning="components with a selected pair"),
        Column(
            name="selected_controlling_type",
            dtype="string",
            meaning="candidate type of the controlling side of the first selected pair",
        ),
        Column(
            name="selected_controlled_type",
            dtype="string",
            meaning="candidate type of the controlled side of the first selected pair",
        ),
        Column(name="selected_transport", dtype="string", meaning="transport of the first selected pair"),
        Column(name="pairs", dtype="Int64", meaning="candidate pairs"),
        Column(name="succeeded_pairs", dtype="Int64", meaning="pairs in state succeeded"),
        Column(name="failed_pairs", dtype="Int64", meaning="pairs in state failed"),
        Column(
            name="time_to_connect_ms",
            dtype="float64",
            meaning="from the stream's first check to the first answered check on the first selected pair",
            unit="ms",
        ),
        Column(
            name="relay_server",
            dtype="string",
            meaning="the TURN server that relays the first selected pair: its allocation's, else the one server "
            "seen allocating on the relayed candidate's IP address",
        ),
        Column(
            name="relay_protocol",
            dtype="string",
            meaning="how that pair's TURN client reached the server: udp or tcp (TURN over TCP/TLS); empty when "
            "its allocation was not seen",
        ),
    ),
    "allocations": (
        _capture("that held its frame"),
        Column(name="client", dtype="string", meaning="the TURN client's transport address"),
        Column(name="server", dtype="string", meaning="the TURN server's transport address"),
        Column(name="transport", dtype="string", meaning="client to server: udp or tcp"),
        Column(name="relayed_address", dtype="string", meaning="the relayed address granted (the first, when several)"),
        Column(name="mapped", dtype="string", meaning="XOR-MAPPED-ADDRESS: the client as the server saw it"),
        Column(name="requests", dtype="int64", meaning="Allocate transmissions, retransmissions included"),
        Column(name="successes", dtype="int64", meaning="success responses"),
        Column(name="errors", dtype="object", meaning="error responses in order ('401 Unauthorized', ...)"),
        Column(name="frame", dtype="Int64", meaning="the success that granted the address, else the first request"),
        Column(name="summary", dtype="string", meaning="the allocation in words, as the report tells it"),
    ),
    "selection_changes": (
        _capture("that held the packet the new pair first carried media in"),
        Column(name="call_id", dtype="string", meaning="SIP Call-ID of the stream (empty without signaling)"),
        Column(name="stream", dtype="Int64", meaning="media stream index"),
        Column(name="component", dtype="Int64", meaning="ICE component"),
        Column(name="time", dtype="float64", meaning="when the new pair first carried media", unit="s since the epoch"),
        Column(name="frame", dtype="Int64", meaning="that packet's frame"),
        Column(
            name="from_controlling",
            dtype="string",
            meaning="the pair in use before: its controlling candidate (with from_controlled, a pairs table key)",
        ),
        Column(name="from_controlled", dtype="string", meaning="the pair in use before: its controlled candidate"),
        Column(name="from_relayed", dtype="bool", meaning="the pair in use before went through a TURN relay"),
        Column(name="to_controlling", dtype="string", meaning="the pair in use after: its controlling candidate"),
        Column(name="to_controlled", dtype="string", meaning="the pair in use after: its controlled candidate"),
        Column(name="to_relayed", dtype="bool", meaning="the pair in use after goes through a TURN relay"),
        Column(name="summary", dtype="string", meaning="the move in words, as the report tells it"),
    ),
    "verdicts": (
        _capture("that held its first frame (empty when it names none)"),
        Column(name="code", dtype="string", meaning="D1, D2, ... from the failure catalogue; INFO-* for observations"),
        Column(name="severity", dtype="string", meaning="error, warning or info (Severity)"),
        Column(name="message", dtype="string", meaning="what was found, in words"),
        Column(name="frames", dtype="object", meaning="the frames that show it (a list of frame numbers)"),
        Column(name="call_id", dtype="string", meaning="SIP Call-ID it is about"),
    ),
}

# `icetrace messages` (CSV and JSONL): one line per record, with the record's whole attribute
# list, addresses and relay instead of the DataFrame's flattened fields; a column of both is one
# declaration.
_SHARED = {c.name: c for c in TABLES["messages"]}
MESSAGE_LINE: tuple[Column, ...] = (
    *(
        _SHARED[name]
        for name in ("frame", "time", "src", "dst", "transport", "kind", "dialect", "method", "class", "type")
    ),
    _SHARED["transaction_id"],
    _SHARED["error_code"],
    Column(name="addresses", dtype="object", meaning="every address attribute, by attribute name"),
    _SHARED["fingerprint"],
    Column(name="attributes", dtype="object", meaning="attribute names in wire order (unknown ones as 0xABCD)"),
    Column(
        name="relay", dtype="object", meaning="how a relayed message was wrapped: via, client, server, peer, channel"
    ),
    Column(name="anomalies", dtype="object", meaning="what did not parse"),
)

# `icetrace corpus`: one table per kind over every capture, each after a `capture` column. The
# streams table is the corpus's own; the others are the analysis tables of the same name.
CORPUS_TABLES: dict[str, tuple[str, tuple[Column, ...]]] = {
    "streams": ("ICE session (media stream)", TABLES["streams"]),
    "pairs": ("candidate pair", TABLES["pairs"]),
    "checks": ("connectivity check transaction", TABLES["checks"]),
    "verdicts": ("verdict", TABLES["verdicts"]),
    "media": ("media flow", TABLES["media"]),
    "allocations": ("TURN allocation attempt", TABLES["allocations"]),
}


def _json_fields(table: str, *names: str) -> tuple[Column, ...]:
    declared = {c.name: c for c in TABLES[table]}
    return tuple(declared[name] for name in names)


_PAIR_COUNTERS = tuple(
    c.name for c in TABLES["pairs"] if c.name.startswith(("checks_by", "requests_by", "answers_to", "errors_to"))
)

# JSON objects of `analyze --json` whose fields mirror table columns: the same declaration, in the
# order the JSON writes them; fields the tables do not have are declared here.
JSON_OBJECTS: dict[str, tuple[Column, ...]] = {
    "PAIR": (
        *_json_fields("pairs", "capture"),
        Column(name="controlling", dtype="ENDPOINT", meaning="the controlling agent's candidate"),
        Column(name="controlled", dtype="ENDPOINT", meaning="the controlled agent's candidate"),
        *_json_fields("pairs", "transport", "component", "priority", "state", "nominated", "nominated_by"),
        *_json_fields("pairs", "selected_because", *_PAIR_COUNTERS, "rtt_ms", "rtt_of", "rtt_ms_controlling"),
        *_json_fields("pairs", "rtt_ms_controlled", "answer_ms_controlling", "answer_ms_controlled"),
        Column(name="first_frame", dtype="Int64", meaning="frame of its first check"),
    ),
    "media_flows": _json_fields("media", "capture", "src", "dst", "kind", "packets", "first_frame"),
    "verdicts": (
        *_json_fields("verdicts", "capture", "code", "severity", "message"),
        Column(name="frames", dtype="list[int]", meaning="the frames that show it"),
        *_json_fields("verdicts", "call_id"),
    ),
    "cause": (
        Column(name="code", dtype="string", meaning="why the stream went direct, relayed or dead (CauseCode)"),
        Column(name="summary", dtype="string", meaning="the cause in one sentence, with the addresses it is about"),
        Column(name="evidence_frames", dtype="list[int]", meaning="the frames that show it"),
        Column(name="next_step", dtype="string", meaning="what to change or check"),
    ),
    "selection_changes": (
        Column(name="time", dtype="float64", unit="s", meaning="capture time the new pair first carried media"),
        Column(name="frame", dtype="Int64", meaning="that packet's frame"),
        Column(name="from", dtype="PAIR", meaning="the pair in use before"),
        Column(name="to", dtype="PAIR", meaning="the pair in use after"),
    ),
}


def row_columns(table: str) -> tuple[Column, ...]:
    """A table's columns a row getter fills: all but `capture`, which the file a row came from fills
    (tables/analysis_rows.py), whichever row it is."""
    return tuple(c for c in TABLES[table] if c.name != "capture")


_JSON_TYPES = {
    "int64": "int",
    "Int64": "int or null",
    "UInt64": "int or null",
    "float64": "float or null",
    "string": "str or null",
}


SCHEMAS: dict[str, dict[str, str]] = {name: {c.name: c.dtype for c in columns} for name, columns in TABLES.items()}


def check_keys(table: str, keys: Iterable[str], declared: Iterable[Column] | None = None) -> None:
    """Raise UndeclaredColumn when a row's keys go beyond what the table declares."""
    names = {c.name for c in (TABLES[table] if declared is None else declared)}
    extra = [k for k in keys if k not in names]
    if extra:
        raise UndeclaredColumn(f"{table}: undeclared column(s) {', '.join(extra)} (declare them in tables/schema.py)")


def dataframe(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A DataFrame with the named table's columns in order and dtypes, even when empty."""
    import pandas as pd

    schema = SCHEMAS[name]
    check_keys(name, set().union(*(row.keys() for row in rows)))
    # column by column: a column of integers with a gap goes through float64 in pd.DataFrame(rows),
    # which loses the low bits of a 64-bit pair priority
    columns = {column: _array([row.get(column) for row in rows], dtype) for column, dtype in schema.items()}
    table: pd.DataFrame = pd.DataFrame(columns, index=pd.RangeIndex(len(rows)))
    return table


def _array(values: list[Any], dtype: str) -> Any:
    import numpy as np
    import pandas as pd

    if dtype == "object":  # lists stay lists, one per cell
        cells = np.empty(len(values), dtype=object)
        cells[:] = values
        return cells
    if dtype == "bool":
        return np.array([bool(v) for v in values], dtype=bool)
    if dtype == "float64":
        return np.array([np.nan if v is None else v for v in values], dtype=float)
    return pd.array(values, dtype=cast(Any, dtype))


def markdown(tables: Mapping[str, Iterable[Column]] | None = None) -> str:
    """The column tables of docs/correlator.md."""
    out: list[str] = []
    for name, columns in (TABLES if tables is None else tables).items():
        out += [f"### `{name}`", "", "| column | dtype | unit | meaning |", "|---|---|---|---|"]
        out += [f"| {c.name} | {c.dtype} | {c.unit or ''} | {c.meaning} |" for c in columns]
        out.append("")
    return "\n".join(out)


def corpus_markdown() -> str:
    """The table of docs/corpus.md: each corpus table's rows and columns."""
    out = ["| table | one row per | columns |", "|---|---|---|"]
    for name, (row, columns) in CORPUS_TABLES.items():  # each after `capture`, the capture's path or URL
        out.append(f"| {name} | {row} | {', '.join(f'`{c.name}`' for c in columns[1:])} |")
    out += ["", "### `streams`", "", "| column | dtype | meaning |", "|---|---|---|"]
    out += [f"| {c.name} | {c.dtype} | {c.meaning} |" for c in CORPUS_TABLES["streams"][1][1:]]
    return "\n".join(out) + "\n"


def json_markdown() -> str:
    """The field tables of docs/json-schema.md."""
    out: list[str] = []
    for name, fields in JSON_OBJECTS.items():
        out += [f"### `{name}`", "", "| field | type | unit | meaning |", "|---|---|---|---|"]
        out += [f"| {c.name} | {_JSON_TYPES.get(c.dtype, c.dtype)} | {c.unit or ''} | {c.meaning} |" for c in fields]
        out.append("")
    return "\n".join(out)


DOCS = {"correlator.md": markdown, "corpus.md": corpus_markdown, "json-schema.md": json_markdown}
"""Each generated docs block: file under docs/, between `<!-- columns: begin -->` and `<!-- columns: end -->`."""

if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "correlator.md"
    sys.stdout.write(DOCS[which]())
