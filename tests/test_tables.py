"""Each output table is declared once (icetrace/tables/schema.py): the DataFrames, the docs, the
rows of `icetrace messages` and the JSON fields that mirror columns are held to the declaration."""

from __future__ import annotations

import io
import json

import pytest

import icetrace
from icetrace.cli import main
from icetrace.report.json_document import pair_dict
from icetrace.tables import message_rows, schema
from icetrace.tables.message_rows import LINE_COLUMNS, line_row, table_row
from tests.testdata import CAPTURES, ROOT, SEED_CALL


@pytest.fixture(scope="module")
def seed_call():
    return icetrace.analyze([SEED_CALL])


@pytest.mark.parametrize("name", sorted(schema.DOCS))
def test_the_docs_show_the_declared_columns(name):
    text = (ROOT / "docs" / name).read_text(encoding="utf-8")
    begin, end = "<!-- columns: begin -->\n", "<!-- columns: end -->"
    shown = text[text.index(begin) + len(begin) : text.index(end)]
    assert shown == schema.DOCS[name](), f"run: python -m icetrace.tables.schema {name}, and paste into docs/{name}"


def test_every_declared_column_has_a_meaning_and_a_dtype():
    corpus = [columns for _, columns in schema.CORPUS_TABLES.values()]
    for columns in (*schema.TABLES.values(), schema.MESSAGE_LINE, *corpus, *schema.JSON_OBJECTS.values()):
        names = [c.name for c in columns]
        assert len(names) == len(set(names))
        assert all(c.meaning and c.dtype for c in columns)


def test_an_undeclared_key_is_an_error():
    with pytest.raises(schema.UndeclaredColumn, match="pair_colour"):
        schema.dataframe("pairs", [{"call_id": "x", "pair_colour": "blue"}])


def test_rows_build_every_table_with_its_declared_columns(seed_call):
    late = CAPTURES / "real" / "chromium-late-direct"  # the seed call's pair in use never moves
    moved = icetrace.analyze([late / "right-lan.pcap"], sdp=[late / "offer.sdp", late / "answer.sdp"])
    for name, columns in schema.TABLES.items():
        frame = getattr(moved if name == "selection_changes" else seed_call, name)
        assert len(frame), f"{name} is empty: the test would prove nothing"
        assert list(frame.columns) == [c.name for c in columns]
        assert {str(t) for t in frame.dtypes} == {c.dtype for c in columns}


def test_message_lines_are_the_declared_row(seed_call):
    record = seed_call.reconstruction.records[0]
    assert list(line_row(record)) == [c.name for c in schema.MESSAGE_LINE] == list(LINE_COLUMNS)
    out = io.StringIO()
    assert main(["messages", "--format", "jsonl", "--jobs", "1", str(SEED_CALL)], stdout=out, stderr=io.StringIO()) == 0
    first = json.loads(out.getvalue().splitlines()[0])
    assert list(first) == list(LINE_COLUMNS)
    out = io.StringIO()
    assert main(["messages", "--format", "csv", "--jobs", "1", str(SEED_CALL)], stdout=out, stderr=io.StringIO()) == 0
    assert out.getvalue().splitlines()[0] == ",".join(LINE_COLUMNS)


def test_both_message_shapes_come_from_one_builder(seed_call):
    records = seed_call.reconstruction.records
    relayed = next(r for r in records if r.relay is not None)
    for record in (records[0], relayed):
        row, line = table_row(record), line_row(record)
        assert list(row) == [c.name for c in schema.row_columns("messages")]
        shared = {c.name for c in schema.MESSAGE_LINE} & set(row) - {"time", "anomalies"}
        assert {name: row[name] for name in shared} == {name: line[name] for name in shared}
    assert line_row(relayed)["relay"]["via"] == table_row(relayed)["relay_via"] == relayed.relay.via
    assert seed_call.messages.to_dict("records")[0]["transaction_id"] == records[0].transaction_id


def test_a_getter_for_an_undeclared_column_is_an_error():
    getters = {**message_rows.LINE_GETTERS, "colour": lambda r: "blue"}
    with pytest.raises(schema.UndeclaredColumn, match="colour"):
        message_rows.row_builder("messages lines", schema.MESSAGE_LINE, getters)
    getters = {k: v for k, v in message_rows.TABLE_GETTERS.items() if k != "username"}
    with pytest.raises(ValueError, match="username"):
        message_rows.row_builder("messages", schema.TABLES["messages"], getters)


def test_message_lines_share_the_dataframes_declarations():
    shared = {c.name: c for c in schema.TABLES["messages"]}
    for column in schema.MESSAGE_LINE:
        if column.name in shared and column.name != "anomalies":
            assert column is shared[column.name]


# JSON pair fields that are not DataFrame columns: the candidates are objects there, and the
# first frame is given instead of the first/last check times
PAIR_JSON_ONLY = {"first_frame"}


def test_json_pairs_mirror_the_pairs_table(seed_call):
    pairs = [p for s in seed_call.reconstruction.streams for c in s.components for p in c.pairs]
    assert pairs
    declared = {c.name for c in schema.TABLES["pairs"]}
    for pair in pairs:
        assert set(pair_dict(pair)) - PAIR_JSON_ONLY <= declared


def test_json_verdicts_and_media_flows_mirror_their_tables(seed_call):
    doc = seed_call.to_dict()
    assert doc["verdicts"] and any(s["media_flows"] for s in doc["streams"])
    assert all(list(v) == [c.name for c in schema.TABLES["verdicts"]] for v in doc["verdicts"])
    media = {c.name for c in schema.TABLES["media"]}
    assert all(set(f) <= media for s in doc["streams"] for f in s["media_flows"])


def test_json_objects_are_their_declared_fields(seed_call):
    doc = seed_call.to_dict()
    pairs = [p for s in doc["streams"] for c in s["components"] for p in c["pairs"]]
    flows = [f for s in doc["streams"] for f in s["media_flows"]]
    assert pairs and flows and doc["verdicts"]
    for name, objects in (("PAIR", pairs), ("media_flows", flows), ("verdicts", doc["verdicts"])):
        declared = [c.name for c in schema.JSON_OBJECTS[name]]
        assert all(list(o) == declared for o in objects), name


def test_corpus_tables_have_their_declared_columns(seed_call):
    from icetrace.corpus.tables import rows

    tables = rows(seed_call, "seed.pcap")
    assert list(tables) == list(schema.CORPUS_TABLES)
    for name, (_, columns) in schema.CORPUS_TABLES.items():
        assert list(tables[name].columns) == [c.name for c in columns], name
        assert set(tables[name].capture) <= {"seed.pcap"}, name
