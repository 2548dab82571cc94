"""Working over a corpus of captures: finding captures and their companions, analysing them in
parallel (processes or a Dask cluster), JUnit output and corpus-wide tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def corpus_tables(roots: list[str], jobs: int = 0, dask: str | None = None) -> dict[str, pd.DataFrame]:
    """The tables `icetrace corpus` writes, as DataFrames (streams, pairs, checks, verdicts, media,
    allocations), each with a `capture` column. Captures that cannot be read are left out (the command
    says which)."""
    from icetrace.corpus.companions import discover
    from icetrace.corpus.runner import default_jobs, run_all
    from icetrace.corpus.tables import combine
    from icetrace.corpus.worker import tabulate

    outcomes = run_all(discover(roots), tabulate, jobs or default_jobs(), dask)
    return combine([o.tables for o in outcomes if o.tables is not None])
