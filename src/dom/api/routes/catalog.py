"""/v1/products and /v1/carrier-services: what is sold and how it ships."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from dom.api.deps import EngineDep, PrincipalDep
from dom.domain.errors import InvalidField
from dom.domain.network import Handling
from dom.schemas.records import ProductRecord, ServiceRecord
from dom.services import catalog
from dom.services.masterdata import product_to_record, service_to_record

router = APIRouter(tags=["catalog"])


class ProductPage(BaseModel):
    items: list[ProductRecord]
    next_after: str | None


class ServiceList(BaseModel):
    items: list[ServiceRecord]


@router.get("/v1/products", response_model=ProductPage, summary="List products")
def list_products(
    engine: EngineDep,
    principal: PrincipalDep,
    after: Annotated[
        str | None, Query(description="SKU of the last product of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    handling: Handling | None = None,
    q: Annotated[str | None, Query(max_length=100, description="part of the SKU or name")] = None,
) -> dict[str, Any]:
    found = catalog.list_products(
        engine, principal, after=after, limit=limit + 1, handling=handling, search=q
    )
    page = found[:limit]
    return {
        "items": [product_to_record(p) for p in page],
        "next_after": page[-1].sku if len(found) > limit else None,
    }


@router.get("/v1/products/{sku}", response_model=ProductRecord)
def get_product(sku: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    return product_to_record(catalog.get_product(engine, principal, sku))


@router.post(
    "/v1/products", response_model=ProductRecord, status_code=201, summary="Create a product"
)
def create_product(
    record: ProductRecord, engine: EngineDep, principal: PrincipalDep, response: Response
) -> dict[str, Any]:
    product = catalog.create_product(engine, principal, record)
    response.headers["Location"] = f"/v1/products/{product.sku}"
    return product_to_record(product)


@router.put(
    "/v1/products/{sku}", response_model=ProductRecord, summary="Create or replace a product"
)
def put_product(
    sku: str, record: ProductRecord, engine: EngineDep, principal: PrincipalDep, response: Response
) -> dict[str, Any]:
    if record.sku != sku:
        raise InvalidField("sku", f"the body's sku {record.sku!r} differs from the path's {sku!r}")
    product, created = catalog.put_product(engine, principal, record)
    if created:
        response.status_code = 201
    return product_to_record(product)


@router.get(
    "/v1/carrier-services",
    response_model=ServiceList,
    summary="Carrier services with zones and rates",
)
def list_services(engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    return {"items": [service_to_record(s) for s in catalog.list_services(engine, principal)]}


@router.get("/v1/carrier-services/{carrier}/{service}", response_model=ServiceRecord)
def get_service(
    carrier: str, service: str, engine: EngineDep, principal: PrincipalDep
) -> dict[str, Any]:
    return service_to_record(catalog.get_service(engine, principal, carrier, service))


@router.put(
    "/v1/carrier-services/{carrier}/{service}",
    response_model=ServiceRecord,
    summary="Create or replace a carrier service with its zones and rate table",
)
def put_service(
    carrier: str,
    service: str,
    record: ServiceRecord,
    engine: EngineDep,
    principal: PrincipalDep,
    response: Response,
) -> dict[str, Any]:
    if (record.carrier, record.service) != (carrier, service):
        raise InvalidField("service", "the body's carrier and service differ from the path's")
    saved, created = catalog.put_service(engine, principal, record)
    if created:
        response.status_code = 201
    return service_to_record(saved)
