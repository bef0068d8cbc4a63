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
        return produce()
    print_ = idempotency.fingerprint(request.method, request.url.path, body.model_dump_json())
    stored = idempotency.claim(engine, principal, key, print_)
    if stored is not None:
        return JSONResponse(
            stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
        )
    try:
        content = jsonable_encoder(produce())
    except BaseException:
        idempotency.give_back(engine, principal, key)
        raise
    idempotency.complete(engine, principal, key, status_code, content)
    return JSONResponse(content, status_code=status_code)
