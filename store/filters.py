"""Composable WHERE and SET clauses, built with ``psycopg.sql`` so no value or name is ever pasted into SQL text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import LiteralString

from psycopg import sql


class Where:
    """Conditions joined with AND, each a fixed SQL fragment with ``%s`` placeholders and its parameters.

    Fragments are ``LiteralString``: they come from the code, never from a request, so only values travel as
    parameters.
    """

    def __init__(self) -> None:
        """Start with no condition (which matches every row)."""
        self._parts: list[sql.Composable] = []
        self.params: list[object] = []

    def add(self, fragment: LiteralString, *params: object) -> Where:
        """AND one condition; ``params`` fill its placeholders in order."""
        self._parts.append(sql.SQL(fragment))
        self.params.extend(params)
        return self

    def add_if(self, value: object, fragment: LiteralString) -> Where:
        """AND ``fragment`` with ``value`` as its one parameter, unless ``value`` is None."""
        if value is not None:
            self.add(fragment, value)
        return self

    def clause(self) -> sql.Composable:
        """The ``WHERE ...`` clause, or nothing at all when there is no condition."""
        if not self._parts:
            return sql.SQL("")
        return sql.SQL("WHERE ") + sql.SQL(" AND ").join(self._parts)


def assignments(values: Mapping[str, object]) -> tuple[sql.Composable, list[object]]:
    """A ``col = %s, ...`` list for UPDATE ... SET, with the column names quoted as identifiers.

    Raises:
        ValueError: when there is nothing to set.
    """
    if not values:
        raise ValueError("nothing to update")
    parts = [sql.SQL("{} = %s").format(sql.Identifier(name)) for name in values]
    return sql.SQL(", ").join(parts), list(values.values())
