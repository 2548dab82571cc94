"""The public entry point: analyze captures (+ SDP files, logs) into an Analysis.

>>> a = icetrace.analyze(["call.pcapng"], sdp=["offer.sdp", "answer.sdp"])
>>> a.pairs[a.pairs.selected]

The facade only: reading.py reads the captures, ice/ correlates and diagnoses, tables/ builds the
rows, report/json_document.py writes the JSON document and plots/ draws the pictures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from icetrace.collector_pace import fewer_collections
from icetrace.ice.correlator import correlate
from icetrace.ice.diagnosis import diagnose
from icetrace.ice.model import Verdict
from icetrace.ice.reconstruction import Reconstruction
from icetrace.ice.stream_names import stream_names
from icetrace.reading import ReadOptions, capture_name, combine, read_capture
from icetrace.records.capture_set import display_names
from icetrace.records.media_flow import MediaFlow
from icetrace.records.stun_record import StunRecord
from icetrace.report.json_document import json_document
from icetrace.signaling.model import SignalingModel
from icetrace.signaling.sources import add_sdp_files, load_signaling
from icetrace.tables.analysis_rows import table_rows

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


@dataclass(repr=False)
class Analysis:
    """The reconstruction plus its tables. DataFrames are built on first use; each table's columns,
    dtypes and units are declared in icetrace/tables/schema.py (docs/correlator.md lists them).
    The correlator's own objects (streams with their agents, components and pairs) are in
    `reconstruction`."""

    reconstruction: Reconstruction
    verdict_list: list[Verdict]
    problems: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    duplicate_messages: int = 0  # records another capture of the same traffic also held, kept once
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __repr__(self) -> str:
        """A short summary: counts and each stream's outcome (never packet bytes or credentials)."""
        rec = self.reconstruction
        outcomes = []
        names = stream_names(rec.streams)
        for s in rec.streams[:8]:
            name = names[id(s)]
            via = f" {s.connectivity}" if s.connectivity and s.connectivity != "FAILED" else ""
            outcomes.append(f"{name}: {s.outcome}{via}")
        more = f"; {len(rec.streams) - 8} more" if len(rec.streams) > 8 else ""
        files = display_names([str(p) for p in self.sources])
        sources = ", ".join(files[:3]) + (" …" if len(files) > 3 else "")
        return (
            f"<Analysis of {sources or 'records'}: {len(rec.records)} messages, {len(rec.transactions)} "
            f"transactions, {len(rec.checks)} checks, {len(rec.streams)} streams "
            f"({'; '.join(outcomes)}{more}), {len(self.verdict_list)} verdicts>"
        )

    @property
    def streams(self) -> pd.DataFrame:
        """One row per ICE session (a call's media stream, or a session seen without signaling): outcome,
        connectivity, the first selected pair, time to connect, the relay that carries it."""
        return self._table("streams")

    @property
    def allocations(self) -> pd.DataFrame:
        """One row per TURN allocation the clients tried: what each was granted, or why not."""
        return self._table("allocations")

    def _table(self, name: str) -> pd.DataFrame:
        from icetrace.tables.schema import dataframe  # pandas (90 MB resident) only when a table is asked for

        if name not in self._cache:
            self._cache[name] = dataframe(name, table_rows(name, self.reconstruction, self.verdict_list))
        return self._cache[name]

    @property
    def messages(self) -> pd.DataFrame:
        """Every STUN/TURN message and ChannelData frame, inner messages of TURN wrappers included."""
        return self._table("messages")

    @property
    def transactions(self) -> pd.DataFrame:
        """Every STUN/TURN transaction: its requests, first answer, outcome and round trip."""
        return self._table("transactions")

    @property
    def candidates(self) -> pd.DataFrame:
        """Every candidate each agent signaled or revealed, by stream."""
        return self._table("candidates")

    @property
    def pairs(self) -> pd.DataFrame:
        """Every candidate pair by stream and component: state, nomination, selection, counters, RTTs."""
        return self._table("pairs")

    @property
    def checks(self) -> pd.DataFrame:
        """Every connectivity check, keyed by its pair (call_id, stream, component, controlling, controlled)."""
        return self._table("checks")

    @property
    def media(self) -> pd.DataFrame:
        """Every media flow (RTP, RTCP, DTLS, ...) by direction, relayed ones with their relay."""
        return self._table("media")

    @property
    def selection_changes(self) -> pd.DataFrame:
        """Each move of the pair in use (a call that ran on a relay, then on a direct pair): when the new
        pair first carried media, the pairs before and after (keys of the pairs table), in words."""
        return self._table("selection_changes")

    @property
    def verdicts(self) -> pd.DataFrame:
        """The diagnosis: code, severity, message and the frames (a list) that show it."""
        return self._table("verdicts")

    def plot_timeline(self) -> Figure:
        """One lane per candidate pair with its checks, media and the SIP events (matplotlib Figure)."""
        from icetrace.plots.timeline import timeline_figure

        return timeline_figure(self.reconstruction, self.checks)

    def plot_ladder(self) -> Figure:
        """The STUN/TURN call flow between transport addresses named by role (matplotlib Figure)."""
        from icetrace.plots.ladder import ladder_figure

        return ladder_figure(self.reconstruction, self.checks, self.messages, self.transactions)

    def to_dict(self) -> dict[str, Any]:
        """The documented, versioned JSON shape (docs/json-schema.md)."""
        return json_document(self.reconstruction, self.verdict_list, self.problems, self.sources)


@fewer_collections()  # for the library's callers too (a notebook)
def analyze(
    captures: Sequence[str | Path | Any] = (),
    sdp: Sequence[str | Path] = (),
    logs: Sequence[str | Path] = (),
    *,
    records: Iterable[StunRecord] | None = None,
    signaling: SignalingModel | None = None,
    media: Iterable[MediaFlow] | None = None,
    engine: str = "native",
    tls_keylog: str | Path | None = None,
    rsa_key: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    app_signaling: bool = True,
    display_filter: str | None = None,
) -> Analysis:
    """Read the captures once (STUN records, SIP, media counts), add signaling, correlate, diagnose.

    Several captures of one call may be given; the same message seen twice (same
    transaction, type and time) is kept once. `app_signaling=False` leaves the HTTP/WebSocket
    signaling in the captures unread (the story the checks alone tell). A capture may be a
    pyshark FileCapture: its display filter, decode-as and preferences choose the frames (a TLS
    key log among its preferences decrypts SIP). `display_filter` (Wireshark syntax) narrows
    every capture; frame numbers stay the original file's.
    """
    model = signaling or SignalingModel()
    options = ReadOptions(engine, tls_keylog, rsa_key, progress, app_signaling, display_filter)
    # each input's one name in every output: its file name, or as much of its path as tells it apart
    inputs = [capture_name(c) for c in captures]
    names = display_names([*inputs, *(str(p) for p in [*sdp, *logs])])
    reads = [
        read_capture(capture, options, model, name)
        for capture, name in zip(captures, names[: len(inputs)], strict=True)
    ]
    files = dict(zip((str(p) for p in [*sdp, *logs]), names[len(inputs) :], strict=True))
    if logs:
        load_signaling(logs=logs, model=model, names=files)
    add_sdp_files(model, sdp, files)
    read = combine(reads, records, media)
    del reads  # the records live on in read.records, then in the reconstruction
    rec = correlate(
        read.records,
        capture_end=read.end,
        signaling=model,
        media=read.media,
        icmp_errors=read.icmp,
        relayed=read.relayed,
        captures=read.captures,
    )
    problems = read.problems + model.problems
    return Analysis(rec, diagnose(rec), problems, [*read.sources, *(str(p) for p in [*sdp, *logs])], read.copies)


def verdict_codes() -> pd.DataFrame:
    """Every verdict the diagnosis can give, in report order: its code, severity (and the one it takes on
    a connected stream, where that differs), what it means and the RFC or specification it rests on,
    from the verdict registry (docs/correlator.md's table). Join it to a verdicts table on `code` to
    read each verdict's meaning beside it."""
    import pandas as pd

    from icetrace.ice.diagnosis.registry import in_report_order

    rules = in_report_order()
    columns: dict[str, list[str | None]] = {
        "code": [r.code for r in rules],
        "severity": [r.severity for r in rules],
        "connected_severity": [r.connected_severity for r in rules],  # when it differs on a connected stream
        "meaning": [r.meaning for r in rules],
        "reference": [r.reference for r in rules],
    }
    table: pd.DataFrame = pd.DataFrame(columns).astype("string")
    return table
