"""The one place that turns errors into RFC 9457 problem details with a stable `code`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from dom.domain.errors import (
    AlreadyExists,
    Conflict,
    DomError,
    Forbidden,
    InvalidField,
    InvalidInput,
    NotFound,
    Problem,
    Unauthenticated,
)
from dom.domain.inventory import InsufficientStock

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"
STATUS: dict[type[DomError], int] = {
    InvalidInput: 422,
    InvalidField: 422,
    NotFound: 404,
    AlreadyExists: 409,
    Conflict: 409,
    Unauthenticated: 401,
    Forbidden: 403,
    InsufficientStock: 409,
}


def problem_response(
    status: int, code: str, title: str, detail: str, request: Request, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:dom:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _status_of(error: DomError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def _errors_of(error: DomError) -> list[dict[str, object]] | None:
    if isinstance(error, InvalidInput):
        return [p.as_dict() for p in error.problems]
    if isinstance(error, InvalidField):
        return [Problem(error.field, error.reason).as_dict()]
    if isinstance(error, InsufficientStock):
        return [
            {
                "field": "lines",
                "sku": s.sku,
                "node_id": s.node_id,
                "requested": s.requested,
                "available": s.available,
                "reason": "not enough available",
            }
            for s in error.shortages
        ]
    return None


async def _on_dom_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomError)
    extra: dict[str, Any] = {}
    errors = _errors_of(error)
    if errors is not None:
        extra["errors"] = errors
    return problem_response(
        _status_of(error), error.code, error.title, error.detail, request, **extra
    )


async def _on_request_validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = []
    for issue in error.errors():
        loc = [str(part) for part in issue["loc"]]
        if loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]
        reason = "unknown field" if issue["type"] == "extra_forbidden" else issue["msg"]
        problems.append(Problem(".".join(loc) or "body", reason).as_dict())
    detail = f"{len(problems)} problem(s) in the request"
    return problem_response(
        422, "invalid_input", "The input is not valid", detail, request, errors=problems
    )


async def _on_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 415: "unsupported_media_type"}
    code = codes.get(error.status_code, f"http_{error.status_code}")
    return problem_response(error.status_code, code, str(error.detail), str(error.detail), request)


async def _on_unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        500, "internal_error", "Internal error", "the server failed; the error was logged", request
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomError, _on_dom_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
