"""Statements over many rows at database speed.

SQLAlchemy's general per-row parameter handling costs several times the database's own work
when a statement runs for tens of thousands of rows, and an `IN` list of tens of thousands of
keys is expanded into as many placeholders. Two remedies, both dialect-aware:

- `execute_many` compiles a statement once and runs it through the driver's executemany,
  converting each value with its parameter type's own bind processor, as SQLAlchemy would;
- `key_table` / `value_table` pass a whole key set as one parameter (a JSON array on SQLite,
  arrays on PostgreSQL) and give it back as a table to join or test membership against.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from functools import cache
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Connection,
    Dialect,
    String,
    Table,
    bindparam,
    func,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement, Subquery
from sqlalchemy.sql.compiler import SQLCompiler

CHUNK = 5_000


def execute_many(
    connection: Connection, statement: ClauseElement, rows: Sequence[dict[str, Any]]
) -> None:
    """Run `statement` once per row; each row maps every bind parameter's name to its value."""
    if not rows:
        return
    dialect = connection.dialect
    # An INSERT takes the columns of the first row, as `Connection.execute` would.
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=list(rows[0])))
    if compiled.positional:
        keys = list(compiled.positiontup or [])
    else:
        keys = list(compiled.bind_names.values())
    placeholders = [compiled.escaped_bind_names.get(key, key) for key in keys]
    converted = [
        (i, convert)
        for i, key in enumerate(keys)
        if (convert := _converter(compiled.binds[key].type, dialect)) is not None
    ]
    pick = itemgetter(*keys)
    values_of = pick if len(keys) > 1 else lambda row: (pick(row),)  # one key: not a tuple
    positional = compiled.positional
    sql = str(compiled)
    for start in range(0, len(rows), CHUNK):
        parameters: list[Any] = []
        for row in rows[start : start + CHUNK]:
            values = list(values_of(row))
            for i, convert in converted:
                values[i] = convert(values[i])
            parameters.append(
                tuple(values) if positional else dict(zip(placeholders, values, strict=True))
            )
        connection.exec_driver_sql(sql, parameters)


def insert_many(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that all have the same columns: through COPY on PostgreSQL."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        execute_many(connection, table.insert(), rows)
        return
    names = list(rows[0])
    converters = [_converter(table.c[name].type, connection.dialect) for name in names]
    quoted = ", ".join(f'"{name}"' for name in names)
    sql = f'COPY "{table.name}" ({quoted}) FROM STDIN'
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    error_class = connection.dialect.loaded_dbapi.Error
    try:
        with cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(
                    [
                        row[name] if convert is None else convert(row[name])
                        for name, convert in zip(names, converters, strict=True)
                    ]
                )
    except error_class as error:
        # Raised as SQLAlchemy raises any driver error, so callers catch one kind (IntegrityError…)
        raise DBAPIError.instance(sql, None, error, error_class) from error


def update_many(
    connection: Connection,
    table: Table,
    keys: Sequence[str],
    rows: Sequence[dict[str, Any]],
    same: Mapping[str, Any] | None = None,
) -> None:
    """Update rows found by their `keys` columns to the other values given (the same columns in
    every row): one statement over arrays on PostgreSQL, a prepared statement elsewhere.

    `same` holds columns with one value for every row, bound once rather than per row: a key
    column among them narrows the match, any other is set.
    """
    if not rows:
        return
    same = dict(same or {})
    row_keys = [key for key in keys if key not in same]
    names = [name for name in rows[0] if name not in keys and name not in same]
    fixed_match = [
        table.c[key] == bindparam(f"s_{key}", same[key], type_=table.c[key].type)
        for key in keys
        if key in same
    ]
    fixed_values = {
        name: bindparam(f"s_{name}", value, type_=table.c[name].type)
        for name, value in same.items()
        if name not in keys
    }
    if connection.dialect.name != "postgresql":
        fixed = {f"s_{name}": value for name, value in same.items()}
        statement = (
            update(table)
            .where(*fixed_match, *(table.c[key] == bindparam(f"k_{key}") for key in row_keys))
            .values(
                {
                    **{name: bindparam(f"v_{name}", type_=table.c[name].type) for name in names},
                    **fixed_values,
                }
            )
        )
        execute_many(
            connection,
            statement,
            [
                {
                    **{f"k_{key}": row[key] for key in row_keys},
                    **{f"v_{n}": row[n] for n in names},
                    **fixed,  # one prepared statement: every row names every parameter
                }
                for row in rows
            ],
        )
        return
    columns = [*row_keys, *names]
    given = (
        func.unnest(
            *(
                bindparam(f"a_{name}", [row[name] for row in rows], type_=ARRAY(table.c[name].type))
                for name in columns
            )
        )
        .table_valued(*columns)
        .render_derived(name="given")
    )
    connection.execute(
        update(table)
        .where(*fixed_match, *(table.c[key] == given.c[key] for key in row_keys))
        .values({**{name: given.c[name] for name in names}, **fixed_values})
    )


def _converter(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The type's bind processor, remembering its last answer (the same timestamp is bound on
    every row of a batch) and, for JSON, encoding each distinct list of strings only once
    (capabilities, handling flags and weekdays repeat on thousands of rows)."""
    convert = type_.dialect_impl(dialect).bind_processor(dialect)
    if convert is None:
        return None
    if isinstance(type_, JSON):
        encoded: dict[tuple[Any, ...], Any] = {}

        def convert_list(value: Any) -> Any:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return convert(value)
            key = tuple(value)
            if key not in encoded:
                encoded[key] = convert(value)
            return encoded[key]

        return convert_list
    last: list[Any] = [object(), None]

    def convert_repeated(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, convert(value)
        return last[1]

    return convert_repeated


def key_table(connection: Connection, keys: Sequence[tuple[str, str]], name: str) -> Subquery:
    """Pairs of strings as a table with columns `a` and `b`, bound as one parameter."""
    if connection.dialect.name == "postgresql":
        pairs = (
            func.unnest(
                bindparam(f"{name}_a", [a for a, _ in keys], type_=ARRAY(String)),
                bindparam(f"{name}_b", [b for _, b in keys], type_=ARRAY(String)),
            )
            .table_valued("a", "b")
            .render_derived()
        )
        return select(pairs.c.a, pairs.c.b).subquery(name)
    each = func.json_each(bindparam(f"{name}_json", json.dumps(keys))).table_valued("value")
    return select(
        func.json_extract(each.c.value, "$[0]").label("a"),
        func.json_extract(each.c.value, "$[1]").label("b"),
    ).subquery(name)


def rows_table(dialect: str, name: str, columns: Sequence[tuple[str, Any]]) -> Subquery:
    """A table of rows (`columns`: names and types) to be bound at execution with `rows_params`:
    built once, a statement over it is compiled and cache-keyed once, not on every call."""
    if dialect == "postgresql":
        given = (
            func.unnest(
                *(bindparam(f"{name}_{column}", type_=ARRAY(type_)) for column, type_ in columns)
            )
            .table_valued(*(column for column, _ in columns))
            .render_derived()
        )
        return select(*given.c).subquery(name)
    each = func.json_each(bindparam(f"{name}_json", type_=String)).table_valued("value")
    return select(
        *(
            func.json_extract(each.c.value, f"$[{index}]", type_=type_).label(column)
            for index, (column, type_) in enumerate(columns)
        )
    ).subquery(name)


def rows_params(
    dialect: str, name: str, columns: Sequence[tuple[str, Any]], rows: Sequence[Sequence[Any]]
) -> dict[str, Any]:
    """The parameters binding `rows` to a `rows_table` of the same name and columns."""
    if dialect == "postgresql":
        return {
            f"{name}_{column}": [row[index] for row in rows]
            for index, (column, _) in enumerate(columns)
        }
    return {f"{name}_json": json.dumps(list(rows))}


def value_table(connection: Connection, values: Sequence[str], name: str) -> Subquery:
    """Strings as a table with one column `value`, bound as one parameter."""
    if connection.dialect.name == "postgresql":
        each = (
            func.unnest(bindparam(f"{name}_values", list(values), type_=ARRAY(String)))
            .table_valued("value")
            .render_derived()
        )
        return select(each.c.value).subquery(name)
    each = func.json_each(bindparam(f"{name}_json", json.dumps(list(values)))).table_valued("value")
    return select(each.c.value).subquery(name)


# ---- columns bound as one text each (full counts of a node) ------------------------------------

#: ASCII's unit separator: no SKU, node id, hash or number contains it
SEPARATOR = "\x1f"


def packed_rows_table(dialect: str, name: str, columns: Sequence[tuple[str, Any]]) -> Subquery:
    """`rows_table` of strings and integers, each column bound as one text (`packed_params`):
    psycopg adapts a list of 20,000 strings element by element, at five times the cost of
    joining it and splitting it in the database (`string_to_array`, three times faster there
    than taking a JSON document apart). SQLite takes the rows as a JSON document."""
    if dialect != "postgresql":
        return rows_table(dialect, name, columns)
    separator: Any = literal_column(f"chr({ord(SEPARATOR)})")

    def split(column: str, type_: Any) -> Any:
        values = func.string_to_array(bindparam(f"{name}_{column}", type_=String), separator)
        return values if isinstance(type_, String) else values.cast(ARRAY(type_))

    given = (
        func.unnest(*(split(column, type_) for column, type_ in columns))
        .table_valued(*(column for column, _ in columns))
        .render_derived()
    )
    return select(*given.c).subquery(name)


def packed_params(
    dialect: str, name: str, columns: Sequence[tuple[str, Any]], values: Sequence[Sequence[Any]]
) -> dict[str, str]:
    """The parameters binding `values` (one sequence per column, of strings or integers) to a
    `packed_rows_table` of the same name and columns."""
    if dialect != "postgresql":
        return {f"{name}_json": json.dumps(list(zip(*values, strict=True)))}
    packed = {}
    for (column, type_), column_values in zip(columns, values, strict=True):
        text = SEPARATOR.join(
            column_values if isinstance(type_, String) else map(str, column_values)
        )
        if text.count(SEPARATOR) != max(0, len(column_values) - 1):
            raise ValueError(f"a value of {name}.{column} holds the unit separator")
        packed[f"{name}_{column}"] = text
    return packed


# ---- new rows of several tables at once (a captured order) -------------------------------------


def insert_together(
    connection: Connection,
    batches: Sequence[tuple[Table, Sequence[Any]]],
    on_conflict: Mapping[Table, str] | None = None,
) -> None:
    """Insert each table's rows (dicts with the same keys within a table). On PostgreSQL in one
    statement — a data-modifying `WITH` per table, each table's rows bound as one JSON
    document — so an order, its requests, history, outbox, decisions and capacity cost one
    round trip instead of six; foreign keys among them are checked when the statement ends.
    `on_conflict` gives a table's `ON CONFLICT …` clause there (its rows must not share a
    key). Elsewhere one insert per table, in the order given; a table with a clause is the
    caller's to write."""
    batches = [(table, rows) for table, rows in batches if rows]
    if not batches:
        return
    clauses = on_conflict or {}
    if connection.dialect.name != "postgresql":
        for table, rows in batches:
            if table not in clauses:
                connection.execute(table.insert(), list(rows))
        return
    shape = tuple((table, tuple(rows[0]), clauses.get(table, "")) for table, rows in batches)
    parameters = {
        f"rows_{index}": _json_rows(connection.dialect, table, columns, rows)
        for index, ((table, columns, _), (_, rows)) in enumerate(zip(shape, batches, strict=True))
    }
    connection.execute(_together_statement(shape), parameters)


@cache
def _together_statement(shape: tuple[tuple[Table, tuple[str, ...], str], ...]) -> Any:
    def quote(name: str) -> str:
        return f'"{name}"'

    def insert_(index: int, table: Table, columns: tuple[str, ...], conflict: str) -> str:
        names = ", ".join(quote(column) for column in columns)
        return (
            f"INSERT INTO {quote(table.name)} ({names}) SELECT {names} FROM "
            f"json_populate_recordset(NULL::{quote(table.name)}, CAST(:rows_{index} AS json))"
            + (f" {conflict}" if conflict else "")
        )

    inserts = [insert_(index, *table) for index, table in enumerate(shape)]
    ctes = ", ".join(f"t{index} AS ({sql})" for index, sql in enumerate(inserts[:-1]))
    return text(f"WITH {ctes} {inserts[-1]}" if ctes else inserts[-1])


def _json_rows(
    dialect: Dialect, table: Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> str:
    """The rows as one JSON array of objects, each value as its column's type binds it (JSON
    columns as the documents themselves; times and dates as ISO text)."""
    convert: dict[str, Callable[[Any], Any] | None] = {}
    for column in columns:
        type_ = table.c[column].type
        convert[column] = (
            None if isinstance(type_, JSON) else type_.dialect_impl(dialect).bind_processor(dialect)
        )
    shaped = [
        {
            column: value if (to := convert[column]) is None or value is None else to(value)
            for column, value in row.items()
        }
        for row in rows
    ]
    return json.dumps(shaped, default=_iso)


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
