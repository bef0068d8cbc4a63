"""/v1/keys: API keys (admin only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from dom.api.deps import EngineDep, PrincipalDep
from dom.domain.access import Action
from dom.schemas.api import IssuedKeyView, KeyRequest, KeyView
from dom.services import keys

router = APIRouter(prefix="/v1/keys", tags=["security"])


@router.post(
    "",
    response_model=IssuedKeyView,
    status_code=201,
    summary="Issue a key (its secret is shown once)",
)
def create_key(body: KeyRequest, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    principal.require(Action.MANAGE_KEYS)
    issued = keys.create_key(
        engine, body.name, body.role, node_id=body.node_id, channel=body.channel
    )
    p = issued.principal
    return {
        "id": p.key_id,
        "name": p.name,
        "role": p.role,
        "node_id": p.node_id,
        "channel": p.channel,
        "token": issued.token,
    }


@router.get("", response_model=list[KeyView], summary="List keys (never their secrets)")
def list_keys(engine: EngineDep, principal: PrincipalDep) -> list[Any]:
    principal.require(Action.MANAGE_KEYS)
    return [vars(k) for k in keys.list_keys(engine)]


@router.delete("/{key_id}", status_code=204, summary="Revoke a key")
def revoke_key(key_id: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    principal.require(Action.MANAGE_KEYS)
    keys.revoke_key(engine, key_id)
    return Response(status_code=204)
