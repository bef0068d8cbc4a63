"""Errors that carry data: every context raises these, one place maps them to HTTP problems."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: which field (and row), and why."""

    field: str
    reason: str
    line: int | None = None
    source: str | None = None

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"field": self.field, "reason": self.reason}
        if self.line is not None:
            data["line"] = self.line
        if self.source is not None:
            data["source"] = self.source
        return data


class DomError(Exception):
    """Base of every error dom reports to a user; `code` is stable and machine-readable."""

    code = "dom_error"
    title = "Request failed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(DomError):
    """An input broke one or more rules; every problem is listed, nothing was written."""

    code = "invalid_input"
    title = "The input is not valid"

    def __init__(self, problems: list[Problem], detail: str | None = None) -> None:
        self.problems = problems
        super().__init__(detail or f"{len(problems)} problem(s) in the input")


class InvalidField(DomError):
    """A single value broke a domain rule; raised by constructors, collected by callers."""

    code = "invalid_input"
    title = "The input is not valid"

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class NotFound(DomError):
    code = "not_found"
    title = "Not found"

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} does not exist")


class AlreadyExists(DomError):
    code = "already_exists"
    title = "Already exists"

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} already exists")


class Conflict(DomError):
    """The request clashes with the current state (an expired hold, a duplicate in flight)."""

    code = "conflict"
    title = "Conflict"


class Unauthenticated(DomError):
    code = "unauthenticated"
    title = "Authentication required"


class Forbidden(DomError):
    code = "forbidden"
    title = "Forbidden"
