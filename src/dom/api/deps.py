"""Request-scoped dependencies: the app's engine and ZIP directory, and the caller's principal.

They are coroutines, so FastAPI runs them on the event loop: a plain function dependency is sent
to the thread pool, and those hand-offs were a large share of a small request's cost. None of
them waits on the database except a key this process has not verified lately, and that lookup
goes to the thread pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from dom.adapters.zip_directory import ZipDirectory, zip_directory
from dom.domain.access import Principal
from dom.services.keys import authenticate_recent, recently_verified

COOKIE = "dom_key"
_bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer dom_…`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key, as a header")


async def engine(request: Request) -> Engine:
    value: Engine = request.app.state.engine
    return value


async def zips() -> ZipDirectory:
    # Built once per process, in the background when the app starts (`app._warm_caches`).
    return zip_directory()


async def principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> Principal:
    """Authenticate every call by its API key: bearer token, X-API-Key header or console cookie
    (a key this process verified lately is trusted for `keys.TRUST_SECONDS`)."""
    token = bearer.credentials if bearer else header or request.cookies.get(COOKIE)
    engine_: Engine = request.app.state.engine
    known = recently_verified(engine_, token)
    if known is not None:
        return known
    return await run_in_threadpool(authenticate_recent, engine_, token)


EngineDep = Annotated[Engine, Depends(engine)]
ZipsDep = Annotated[ZipDirectory, Depends(zips)]
PrincipalDep = Annotated[Principal, Depends(principal)]
