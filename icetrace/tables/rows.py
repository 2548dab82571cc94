"""A row builder: one getter per declared column, checked against the declaration when built."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from icetrace.tables.schema import Column, UndeclaredColumn

T = TypeVar("T")


def row_builder(
    what: str, columns: Iterable[Column], getters: dict[str, Callable[[T], Any]]
) -> Callable[[T], dict[str, Any]]:
    """A function from an item to its row: the declared columns in order, each from its getter.

    A getter for an undeclared column is an error (`UndeclaredColumn`), so is a declared column
    without a getter: a new column cannot be dropped or added on the way."""
    names = [c.name for c in columns]
    extra = [name for name in getters if name not in names]
    if extra:
        raise UndeclaredColumn(f"{what}: undeclared column(s) {', '.join(extra)} (declare them in tables/schema.py)")
    missing = [name for name in names if name not in getters]
    if missing:
        raise ValueError(f"{what}: declared column(s) {', '.join(missing)} have no getter")
    ordered = [(name, getters[name]) for name in names]

    def row(item: T) -> dict[str, Any]:
        return {name: get(item) for name, get in ordered}

    return row
