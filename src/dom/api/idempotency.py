"""The `Idempotency-Key` header on the API's POST routes (see services/idempotency.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
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
) -> Any:
    """Run `produce` unless a request with this key ran already; replay its response if so."""
    if key is None:
        result = produce()
        if isinstance(result, Produced):
            return JSONResponse(jsonable_encoder(result.content), status_code=result.status_code)
        return result
    print_ = idempotency.fingerprint(request.method, request.url.path, body.model_dump_json())
    stored = idempotency.claim(engine, principal, key, print_)
    if stored is not None:
        return JSONResponse(
            stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
        )
    try:
        result = produce()
        if isinstance(result, Produced):
            status_code, result = result.status_code, result.content
        content = jsonable_encoder(result)
    except BaseException:
        idempotency.give_back(engine, principal, key)
        raise
    idempotency.complete(engine, principal, key, status_code, content)
    return JSONResponse(content, status_code=status_code)
