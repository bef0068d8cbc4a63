"""Shapes the API returns and small request bodies that are not master-data records."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from dom.domain.access import Role
from dom.domain.network import NodeStatus
from dom.schemas.records import NodeRecord


class NodeView(NodeRecord):
    status: NodeStatus = Field(description="active, or paused by a pause window covering now")


class NodePage(BaseModel):
    items: list[NodeView]
    next_after: str | None = Field(description="pass as `after` for the next page; null at the end")


class PauseRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "stocktake", "ends_at": "2026-12-01T06:00:00Z"}]
        },
    )

    reason: str = Field(min_length=1, max_length=200)
    starts_at: AwareDatetime | None = Field(default=None, description="default: now")
    ends_at: AwareDatetime | None = Field(default=None, description="default: until resumed")


class KeyRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "store 112 handheld", "role": "node", "node_id": "store-0112"}]
        },
    )

    name: str = Field(min_length=1, max_length=100)
    role: Role
    node_id: str | None = None
    channel: str | None = Field(default=None, max_length=64)


class KeyView(BaseModel):
    id: str
    name: str
    role: Role
    node_id: str | None
    channel: str | None
    created_at: datetime | None = None
    revoked_at: datetime | None = None


class IssuedKeyView(KeyView):
    token: str = Field(description="the secret; shown once, store it now")


class KindCount(BaseModel):
    received: int
    created: int
    updated: int


class ImportResult(BaseModel):
    nodes: KindCount
    products: KindCount
    carrier_services: KindCount
