"""Request-scoped dependencies: the app's engine and ZIP directory, and the caller's principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from dom.adapters.zip_directory import ZipDirectory, zip_directory
from dom.domain.access import Principal
from dom.services.keys import authenticate

COOKIE = "dom_key"
_bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer dom_…`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key, as a header")


def engine(request: Request) -> Engine:
    value: Engine = request.app.state.engine
    return value


def zips() -> ZipDirectory:
    return zip_directory()


def principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> Principal:
    """Authenticate every call by its API key: bearer token, X-API-Key header or console cookie."""
    token = bearer.credentials if bearer else header or request.cookies.get(COOKIE)
    return authenticate(request.app.state.engine, token)


EngineDep = Annotated[Engine, Depends(engine)]
ZipsDep = Annotated[ZipDirectory, Depends(zips)]
PrincipalDep = Annotated[Principal, Depends(principal)]
