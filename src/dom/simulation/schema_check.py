"""A small JSON Schema (2020-12) checker for exactly the keywords the scenario schema uses.

No JSON Schema library is installed, and the scenario schema needs only a handful of keywords:
`type`, `enum`, `const`, `properties`, `required`, `additionalProperties`, `items`, `minItems`,
`minimum`, `maximum`, `exclusiveMinimum`, `minLength`, `maxLength`, `pattern`, `format`
(`date`, `date-time`), `anyOf` and local `$ref`s. `SUPPORTED` lists them; a test checks the
shipped schema uses nothing else. Errors carry the path to the offending value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

Path = tuple[str | int, ...]

SUPPORTED = frozenset(
    {
        "type",
        "enum",
        "const",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "anyOf",
        "$ref",
    }
)
#: Keywords that only describe: they never make a value invalid.
ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples"}
)


@dataclass(frozen=True)
class SchemaError:
    path: Path
    reason: str


def json_path(path: Path) -> str:
    """`orders[12].lines[0].quantity` for ("orders", 12, "lines", 0, "quantity")."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(the document)"


def type_of(value: Any) -> str:
    """The JSON type of a parsed value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _is(value: Any, wanted: str) -> bool:
    found = type_of(value)
    return found == wanted or (wanted == "number" and found == "integer")


def _types(schema: Mapping[str, Any]) -> list[str]:
    wanted = schema.get("type", [])
    return wanted if isinstance(wanted, list) else [wanted]


_ARTICLE = {"integer": "an integer", "array": "an array", "object": "an object", "null": "null"}


def _named(kind: str) -> str:
    return _ARTICLE.get(kind, f"a {kind}")


def _wrong_type(value: Any, wanted: list[str]) -> str:
    names = " or ".join(_named(kind) for kind in wanted) or "another value"
    found = type_of(value)
    shown = "" if found in ("object", "array", "null") else f" ({_shown(value)})"
    return f"must be {names}, not {_named(found)}{shown}"


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, dict | list) else type_of(value)
    return text if len(text) <= 40 else text[:37] + "..."


class Checker:
    """Checks documents against one schema; `errors` yields every problem, path first."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._root = schema

    def errors(self, value: Any) -> Iterator[SchemaError]:
        yield from self._check(value, self._root, ())

    def _resolve(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported, not {ref}")
        found: Any = self._root
        for part in ref[2:].split("/"):
            found = found[part]
        return found  # type: ignore[no-any-return]

    def _check(self, value: Any, schema: Mapping[str, Any], path: Path) -> Iterator[SchemaError]:
        if "$ref" in schema:
            yield from self._check(value, self._resolve(schema["$ref"]), path)
        if "anyOf" in schema:
            yield from self._any_of(value, schema["anyOf"], path)
        if "const" in schema and value != schema["const"]:
            yield SchemaError(path, f"must be {schema['const']!r}, not {_shown(value)}")
        if "enum" in schema and value not in schema["enum"]:
            allowed = ", ".join(str(v) for v in schema["enum"])
            yield SchemaError(path, f"{_shown(value)} is not one of: {allowed}")
        if "type" in schema:
            wanted = _types(schema)
            if not any(_is(value, kind) for kind in wanted):
                yield SchemaError(path, _wrong_type(value, wanted))
                return
        kind = type_of(value)
        if kind == "object":
            yield from self._object(value, schema, path)
        elif kind == "array":
            yield from self._array(value, schema, path)
        elif kind == "string":
            yield from _string(value, schema, path)
        elif kind in ("integer", "number"):
            yield from _number(value, schema, path)

    def _any_of(
        self, value: Any, branches: list[Mapping[str, Any]], path: Path
    ) -> Iterator[SchemaError]:
        found = [list(self._check(value, branch, path)) for branch in branches]
        if any(not errors for errors in found):
            return
        # Report the branch meant for this type of value; else say which types would do.
        meant = [
            errors
            for branch, errors in zip(branches, found, strict=True)
            if "type" not in branch or any(_is(value, k) for k in _types(branch))
        ]
        if len(meant) == 1:
            yield from meant[0]
            return
        yield SchemaError(path, _wrong_type(value, [k for b in branches for k in _types(b)]))

    def _object(
        self, value: dict[str, Any], schema: Mapping[str, Any], path: Path
    ) -> Iterator[SchemaError]:
        properties: Mapping[str, Any] = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                yield SchemaError((*path, name), "is required")
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                yield from self._check(item, properties[name], (*path, name))
            elif extra is False:
                yield SchemaError((*path, name), "unknown property")
            elif isinstance(extra, dict):
                yield from self._check(item, extra, (*path, name))

    def _array(
        self, value: list[Any], schema: Mapping[str, Any], path: Path
    ) -> Iterator[SchemaError]:
        least = schema.get("minItems")
        if least is not None and len(value) < least:
            yield SchemaError(path, f"needs at least {least} item(s), has {len(value)}")
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                yield from self._check(item, items, (*path, index))


def _string(value: str, schema: Mapping[str, Any], path: Path) -> Iterator[SchemaError]:
    if "minLength" in schema and len(value) < schema["minLength"]:
        yield SchemaError(path, f"must have at least {schema['minLength']} character(s)")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        yield SchemaError(path, f"must have at most {schema['maxLength']} characters")
    if "pattern" in schema and not _pattern(schema["pattern"]).search(value):
        yield SchemaError(path, f"{_shown(value)} does not match {schema['pattern']}")
    form = schema.get("format")
    if form == "date-time" and not _is_datetime(value):
        yield SchemaError(
            path, f"{_shown(value)} is not a date-time with a time zone (2026-12-01T09:30:00Z)"
        )
    elif form == "date" and not _is_date(value):
        yield SchemaError(path, f"{_shown(value)} is not a date (2026-12-01)")


def _number(value: float, schema: Mapping[str, Any], path: Path) -> Iterator[SchemaError]:
    if "minimum" in schema and value < schema["minimum"]:
        yield SchemaError(path, f"must be at least {schema['minimum']}, not {value}")
    if "maximum" in schema and value > schema["maximum"]:
        yield SchemaError(path, f"must be at most {schema['maximum']}, not {value}")
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        yield SchemaError(path, f"must be above {schema['exclusiveMinimum']}, not {value}")


@cache
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _is_datetime(text: str) -> bool:
    if "T" not in text and "t" not in text:
        return False
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


def _is_date(text: str) -> bool:
    if len(text) != 10:
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def keywords_used(schema: Any) -> set[str]:
    """Every keyword a schema uses, in every subschema (property names excluded)."""
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, sub in schema.items():
            found.add(key)
            if key in ("properties", "$defs"):
                for child in sub.values():
                    found |= keywords_used(child)
            elif key in ("items", "additionalProperties"):
                found |= keywords_used(sub)
            elif key == "anyOf":
                for child in sub:
                    found |= keywords_used(child)
    return found
