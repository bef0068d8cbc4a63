"""The `Idempotency-Key` header on the API's POST routes (see services/idempotency.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import Engine

from dom.domain.access import Principal
from dom.services import idempotency

IdempotencyKeyDep = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        description="retry safely: the same key replays the first response for a day",
    ),
]

RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "insufficient stock, or a request with this key is still running"},
    422: {"description": "bad input, or the key was used for another request"},
}


class Produced:
    """What `produce` returns when the status code depends on the outcome."""

    def __init__(self, status_code: int, content: Any) -> None:
        self.status_code = status_code
        self.content = content


def run_once(
    engine: Engine,
    principal: Principal,
    key: str | None,
    request: Request,
    body: BaseModel,
    status_code: int,
    produce: Callable[[], Any],
    view: Any,
) -> Response:
    """Run `produce` unless a request with this key ran already; replay its response if so.
    The response is `produce`'s result as the route's `view` (its response model) makes it —
    the same whether the request had a key or not — serialized here, in the endpoint's thread:
    a plain value returned to FastAPI would go back to the thread pool to be validated."""
    if key is None:
        status, content = _outcome(produce(), status_code)
        return json_response(view, content, status)
    print_ = idempotency.fingerprint(request.method, request.url.path, body.model_dump_json())
    stored = idempotency.claim(engine, principal, key, print_)
    if stored is not None:
        return JSONResponse(
            stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
        )
    try:
        status, content = _outcome(produce(), status_code)
        adapter = _adapter(view)
        document = adapter.dump_python(
            adapter.validate_python(content, from_attributes=True), mode="json", by_alias=True
        )
    except BaseException:
        idempotency.give_back(engine, principal, key)
        raise
    idempotency.complete(engine, principal, key, status, document)
    return JSONResponse(document, status_code=status)


def json_response(view: Any, content: Any, status_code: int = 200) -> Response:
    """`content` as the response model `view` (a model or a type such as `list[Model]`)
    validates and serializes it, as FastAPI would, as a finished response."""
    adapter = _adapter(view)
    value = adapter.validate_python(content, from_attributes=True)
    return Response(
        adapter.dump_json(value, by_alias=True),
        status_code=status_code,
        media_type="application/json",
    )


@cache
def _adapter(view: Any) -> TypeAdapter[Any]:
    return TypeAdapter(view)


def _outcome(result: Any, status_code: int) -> tuple[int, Any]:
    if isinstance(result, Produced):
        return result.status_code, result.content
    return status_code, result
