"""The demand forecast inventory protection uses: when it was computed, and a refresh now."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from dom.api.deps import EngineDep, PrincipalDep
from dom.services import forecasts

router = APIRouter(tags=["sourcing"])


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(
        default=forecasts.DEFAULT_DAYS, description="days of order history to learn from (≥ 1)"
    )


class ForecastView(BaseModel):
    refreshed_at: datetime | None = Field(description="when the last refresh ran; null: never")
    forecast_id: str | None = Field(
        description="the forecast routing uses; null: none (never refreshed, or no history)"
    )
    computed_at: datetime | None
    days: int | None = Field(description="days of order history it learned from")
    lines: int = Field(description="demand lines it learned from")
    units: int
    cells: int = Field(description="(node, SKU) pairs with demand")
    skus: int
    nodes: int


def _view(found: forecasts.ForecastInfo) -> ForecastView:
    return ForecastView(**vars(found))


@router.get(
    "/v1/forecast",
    response_model=ForecastView,
    summary="The demand forecast that protects store inventory in routing: when, how much",
)
def show(engine: EngineDep, principal: PrincipalDep) -> ForecastView:
    return _view(forecasts.current(engine, principal))


@router.post(
    "/v1/forecast/refresh",
    response_model=ForecastView,
    summary="Learn the forecast from recent orders now and make it the one routing uses",
)
def refresh(
    request: Request, engine: EngineDep, principal: PrincipalDep, body: RefreshIn | None = None
) -> ForecastView:
    settings = request.app.state.settings
    days = body.days if body is not None else forecasts.DEFAULT_DAYS
    found = forecasts.refresh(engine, principal, days, lost_sale=settings.forecast_lost_sale)
    return _view(found)
