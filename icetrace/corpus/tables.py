"""Corpus-wide tables (`icetrace corpus DIR... --out FILE.parquet`): one table per kind — streams,
pairs, checks, verdicts, media, allocations — for every capture, with the capture as the first
column, so pandas or Dask can answer questions across thousands of calls. Columns: docs/corpus.md.

They are written as one Parquet dataset at the path the user named: a directory with one folder per
table (`FILE.parquet/table=pairs/`, hive-style), every file with the same columns (the union of the
tables', empty where a table has no such column), so `pd.read_parquet("FILE.parquet")` and Dask's
`read_parquet` read the whole corpus with a `table` column, `filters=[("table", "==", "pairs")]`
reads one table, and `read_table(FILE, "pairs")` gives it with its own columns only. 64-bit pair
priorities stay exact (UInt64) on the way."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from icetrace.tables.schema import CORPUS_TABLES

if TYPE_CHECKING:
    import pandas as pd

    from icetrace.analysis import Analysis

KINDS = tuple(CORPUS_TABLES)

# a column several tables share takes one dtype in the dataset: the nullable, the unsigned, the wider
UNION_DTYPES = {"priority": "UInt64", "frame": "Int64"}


def rows(analysis: Analysis, capture: str) -> dict[str, pd.DataFrame]:
    """One capture's tables, each with `capture` as its first column: the capture as the corpus found it
    (its path or URL, where the analysis names it by its file name)."""
    out = {}
    for kind in KINDS:
        table = getattr(analysis, kind).copy()
        table["capture"] = _strings([capture] * len(table))
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


def write_parquet(tables: dict[str, pd.DataFrame], out: str) -> Path:
    """The tables as one Parquet dataset at `out` (a directory, one folder per table)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        from icetrace.errors import InputError

        raise InputError("writing Parquet needs pyarrow: pip install 'icetrace[corpus]'") from None
    import shutil

    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(out)
    if path.is_file() or path.is_symlink():
        path.unlink()  # a single-file output of an earlier version, or a link: replaced, never written through
    elif path.is_dir():
        shutil.rmtree(path)
    columns: dict[str, str] = {}
    for _, declared in CORPUS_TABLES.values():
        for c in declared[1:]:  # after `capture`, the first column of every file
            columns.setdefault(c.name, UNION_DTYPES.get(c.name, c.dtype))
    schema = _arrow_schema(columns)
    for kind in KINDS:
        table = tables[kind]
        whole = pd.DataFrame({"capture": table["capture"] if "capture" in table else pd.array([], dtype="string")})
        for name, dtype in columns.items():
            whole[name] = table[name].astype(cast(Any, dtype)) if name in table else _empty(len(table), dtype)
        folder = path / f"table={kind}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pandas(whole, schema=schema, preserve_index=False), folder / "part-0.parquet")
    return path


def _arrow_schema(columns: dict[str, str]) -> Any:
    """One schema for every file of the dataset, so a reader that takes the first file's sees them all."""
    import pyarrow as pa

    types = {"string": pa.string(), "Int64": pa.int64(), "int64": pa.int64(), "UInt64": pa.uint64()}
    types |= {"float64": pa.float64(), "bool": pa.bool_()}
    lists = {"frames": pa.list_(pa.int64()), "errors": pa.list_(pa.string())}  # the object columns
    fields = [pa.field("capture", pa.string())]
    fields += [pa.field(name, lists[name] if dtype == "object" else types[dtype]) for name, dtype in columns.items()]
    return pa.schema(fields)


def _empty(rows: int, dtype: str) -> Any:
    import numpy as np
    import pandas as pd

    if dtype == "object":
        return np.full(rows, None, dtype=object)
    if dtype in ("int64", "bool"):
        dtype = "Int64" if dtype == "int64" else "boolean"
    return pd.array([None] * rows, dtype=cast(Any, "float64" if dtype == "float64" else dtype))


def read_table(path: str | Path, kind: str) -> pd.DataFrame:
    """One table of a corpus dataset with its own columns (`read_table("c.parquet", "pairs")`)."""
    import pandas as pd

    names = [c.name for c in CORPUS_TABLES[kind][1]]
    table: pd.DataFrame = pd.read_parquet(Path(path) / f"table={kind}", columns=names)
    return table
