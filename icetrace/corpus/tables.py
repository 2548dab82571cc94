"""Corpus-wide tables (`icetrace corpus DIR... --out FILE.parquet`): one table per kind — streams,
pairs, checks, verdicts — for every capture, with the capture as the first column, so pandas or Dask
can answer questions across thousands of calls. Columns: docs/corpus.md."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from icetrace.tables.schema import CORPUS_TABLES

if TYPE_CHECKING:
    import pandas as pd

    from icetrace.analysis import Analysis

KINDS = tuple(CORPUS_TABLES)

STREAM_COLUMNS = {c.name: c.dtype for c in CORPUS_TABLES["streams"][1]}


def _streams(analysis: Analysis) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for s in analysis.to_dict()["streams"]:
        components = s["components"]
        selected = [c["selected"] for c in components if c["selected"] is not None]
        first = selected[0] if selected else None
        pairs = [p for c in components for p in c["pairs"]]
        rows.append(
            {
                "call_id": s["call_id"],
                "stream": s["index"],
                "media": s["media"],
                "outcome": s["outcome"],
                "connectivity": s["connectivity"],
                "nomination_style": s["nomination_style"],
                "cause": s["cause"]["code"] if s["cause"] else None,
                "components": len(components),
                "selected_components": len(selected),
                "selected_controlling_type": first["controlling"]["type"] if first else None,
                "selected_controlled_type": first["controlled"]["type"] if first else None,
                "selected_transport": first["transport"] if first else None,
                "pairs": len(pairs),
                "succeeded_pairs": sum(p["state"] == "succeeded" for p in pairs),
                "failed_pairs": sum(p["state"] == "failed" for p in pairs),
            }
        )
    table: pd.DataFrame = pd.DataFrame(rows, columns=list(STREAM_COLUMNS)).astype(STREAM_COLUMNS)
    return table


def rows(analysis: Analysis, capture: str) -> dict[str, pd.DataFrame]:
    """One capture's tables, each with `capture` as its first column."""
    tables = {"streams": _streams(analysis), "pairs": analysis.pairs, "checks": analysis.checks}
    tables["verdicts"] = analysis.verdicts
    out = {}
    for kind, table in tables.items():
        table = table.copy()
        table.insert(0, "capture", _strings([capture] * len(table)))
        out[kind] = table
    return out


def _strings(values: list[str]) -> Any:
    import pandas as pd

    return pd.array(values, dtype="string")


def combine(per_capture: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    import pandas as pd

    combined = {}
    for kind in KINDS:
        parts = [t[kind] for t in per_capture if kind in t]
        nonempty = [p for p in parts if len(p)]
        combined[kind] = pd.concat(nonempty or parts[:1], ignore_index=True) if parts else pd.DataFrame()
    return combined


def parquet_paths(out: str) -> dict[str, Path]:
    """`corpus.parquet` -> `corpus.streams.parquet`, `corpus.pairs.parquet`, ... beside it."""
    base = Path(out)
    stem = base.name[: -len(".parquet")] if base.name.endswith(".parquet") else base.name
    return {kind: base.with_name(f"{stem}.{kind}.parquet") for kind in KINDS}


def write_parquet(tables: dict[str, pd.DataFrame], out: str) -> dict[str, Path]:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        from icetrace.errors import InputError

        raise InputError("writing Parquet needs pyarrow: pip install 'icetrace[corpus]'") from None
    paths = parquet_paths(out)
    for kind, path in paths.items():
        tables[kind].to_parquet(path, engine="pyarrow", index=False)
    return paths
