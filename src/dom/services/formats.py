"""Reading and writing master-data files: CSV and JSON to raw rows, records to CSV text."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dom.domain.errors import InvalidInput, Problem

LIST_SEPARATOR = ";"


@dataclass(frozen=True)
class RawRow:
    """One unvalidated record and where it came from (CSV line, or item number in a JSON array)."""

    line: int
    values: dict[str, Any]
    source: str


def read_csv(
    text: str, source: str, columns: Iterable[str], list_fields: Iterable[str]
) -> tuple[list[RawRow], list[Problem]]:
    """Parse CSV with a header row; unknown columns are refused, empty cells mean 'not given'.

    Returns the rows and the problems of rows that could not be split into cells.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise InvalidInput(
            [Problem("header", "the file is empty", line=1, source=source)]
        ) from None
    known = set(columns)
    problems = [
        Problem(name or "(blank)", "unknown column", line=1, source=source)
        for name in header
        if name not in known
    ]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(Problem(name, "column appears twice", line=1, source=source))
        seen.add(name)
    if problems:
        raise InvalidInput(problems)
    splits = set(list_fields)
    is_list = [name in splits for name in header]
    rows: list[RawRow] = []
    bad: list[Problem] = []
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if not "".join(cells).strip():
            continue  # a blank line, or one of only empty cells
        if len(cells) != len(header):
            reason = f"has {len(cells)} cells, the header has {len(header)}"
            bad.append(Problem("row", reason, line=start, source=source))
            continue
        # One comprehension per row, not a loop of assignments: files have 100,000s of rows.
        values: dict[str, Any] = {
            name: _split(cell) if listed else cell
            for name, listed, cell in zip(header, is_list, map(str.strip, cells), strict=True)
            if listed or cell
        }
        rows.append(RawRow(start, values, source))
    return rows, bad


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(LIST_SEPARATOR) if part.strip()]


def read_json_items(data: Any, source: str) -> list[RawRow]:
    """A JSON array of objects; item numbers (from 1) stand in for line numbers."""
    if not isinstance(data, list):
        raise InvalidInput([Problem(source, "expected a JSON array of objects", source=source)])
    rows: list[RawRow] = []
    problems: list[Problem] = []
    for number, item in enumerate(data, start=1):
        if isinstance(item, dict):
            rows.append(RawRow(number, item, source))
        else:
            problems.append(Problem(source, "expected an object", line=number, source=source))
    if problems:
        raise InvalidInput(problems)
    return rows


def parse_json(text: str | bytes, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            [Problem("body", f"not valid JSON: {error.msg}", line=error.lineno, source=source)]
        ) from None


def write_csv(columns: Sequence[str], records: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record.get(name)) for name in columns])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(_cell(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)
