"""`icetrace corpus CORPUS_DIR... --out FILE.parquet [--jobs N] [--dask SCHEDULER]`: the whole corpus
as tables (streams, pairs, checks, verdicts, media, allocations) with the capture as a column, written
as one Parquet dataset at FILE.parquet (a directory, one folder per table)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from icetrace.errors import InputError, OutputError
from icetrace.exit_status import ExitStatus


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "corpus", help="write corpus-wide tables (streams, pairs, checks, verdicts, media, allocations)"
    )
    parser.add_argument("directory", nargs="+", help="corpus folder: a path, file:// or fsspec URL")
    parser.add_argument(
        "--out",
        required=True,
        metavar="FILE.parquet",
        help="the Parquet dataset to write: a directory, one folder per table (pd.read_parquet reads it whole)",
    )
    parser.add_argument("--jobs", type=int, default=0, metavar="N", help="processes (default: every core)")
    parser.add_argument("--dask", metavar="SCHEDULER", help="run the analyses on this Dask scheduler")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from icetrace.corpus.companions import discover
    from icetrace.corpus.runner import default_jobs, run_all
    from icetrace.corpus.tables import combine, write_parquet
    from icetrace.corpus.worker import tabulate

    if args.jobs < 0:
        raise InputError("--jobs must be 1 or more (0: every core)")
    tasks = discover(args.directory)
    if not tasks:
        raise InputError("no captures found")
    outcomes = run_all(tasks, tabulate, args.jobs or default_jobs(), args.dask)
    status = ExitStatus.OK
    for o in outcomes:
        if o.crash:
            err.write(f"{o.crash_line}\n")
            status = ExitStatus.INTERNAL
        elif o.error:
            err.write(f"icetrace: skipped {o.capture}: {o.error}\n")
            status = max(status, ExitStatus.BAD_INPUT)
    tables = combine([o.tables for o in outcomes if o.tables is not None])
    try:
        path = write_parquet(tables, args.out)
    except OSError as exc:
        raise OutputError(f"{args.out}: cannot write: {exc.strerror or exc}") from None
    counts = ", ".join(f"{len(tables[kind])} {kind}" for kind in tables)
    out.write(f"{path}: {counts} (pandas: pd.read_parquet({str(path)!r}, filters=[('table', '==', 'pairs')]))\n")
    return status
