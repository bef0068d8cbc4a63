"""Line numbers of values in JSON text, found by their paths.

Python's JSON parser keeps no positions, so only when a document has problems is the text walked
again, once for all of them: down the paths asked for, skipping every other value with the C
decoder. A path that runs past the document (a property that is missing) gets the line of the
deepest value on it that exists.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from dom.simulation.schema_check import Path

_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"


@dataclass
class _Wanted:
    """A node of the tree of paths asked for."""

    paths: list[Path] = field(default_factory=list)  # paths through (or ending at) this value
    children: dict[str | int, _Wanted] = field(default_factory=dict)


def lines_of(text: str, paths: Iterable[Path]) -> dict[Path, int]:
    """The line (from 1) where the value at each path starts; paths through malformed text are
    left out."""
    root = _Wanted()
    for path in paths:
        node = root
        node.paths.append(path)
        for part in path:
            node = node.children.setdefault(part, _Wanted())
            node.paths.append(path)
    newlines = [match.start() for match in re.finditer("\n", text)]
    found: dict[Path, int] = {}
    with contextlib.suppress(ValueError, IndexError):  # malformed: keep what was found
        _walk(text, _skip_space(text, 0), root, newlines, found)
    return found


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in _SPACE:
        index += 1
    return index


def _walk(
    text: str, index: int, wanted: _Wanted, newlines: list[int], found: dict[Path, int]
) -> int:
    """Record the line of the value at `index` for every path through it; return its end."""
    line = bisect.bisect_right(newlines, index - 1) + 1
    for path in wanted.paths:
        found[path] = line
    if not wanted.children or text[index] not in "{[":
        _, end = _DECODER.raw_decode(text, index)
        return int(end)
    if text[index] == "{":
        return _members(text, index, wanted, newlines, found)
    return _elements(text, index, wanted, newlines, found)


def _members(
    text: str, index: int, wanted: _Wanted, newlines: list[int], found: dict[Path, int]
) -> int:
    index = _skip_space(text, index + 1)
    if text[index] == "}":
        return index + 1
    while True:
        if text[index] != '"':
            raise ValueError("expected a property name")
        key, index = json.decoder.scanstring(text, index + 1)  # type: ignore[attr-defined]
        index = _skip_space(text, index)
        if text[index] != ":":
            raise ValueError("expected ':'")
        index = _skip_space(text, index + 1)
        child = wanted.children.get(key)
        index = _value(text, index, child, newlines, found)
        index = _skip_space(text, index)
        if text[index] == "}":
            return index + 1
        if text[index] != ",":
            raise ValueError("expected ',' or '}'")
        index = _skip_space(text, index + 1)


def _elements(
    text: str, index: int, wanted: _Wanted, newlines: list[int], found: dict[Path, int]
) -> int:
    index = _skip_space(text, index + 1)
    if text[index] == "]":
        return index + 1
    position = 0
    while True:
        index = _value(text, index, wanted.children.get(position), newlines, found)
        index = _skip_space(text, index)
        if text[index] == "]":
            return index + 1
        if text[index] != ",":
            raise ValueError("expected ',' or ']'")
        index = _skip_space(text, index + 1)
        position += 1


def _value(
    text: str, index: int, wanted: _Wanted | None, newlines: list[int], found: dict[Path, int]
) -> int:
    if wanted is None:
        _, end = _DECODER.raw_decode(text, index)
        return int(end)
    return _walk(text, index, wanted, newlines, found)
