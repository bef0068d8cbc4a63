"""Products and carrier services: read and write one at a time (bulk goes through master data)."""

from __future__ import annotations

from sqlalchemy import Engine

from dom.adapters import repositories as repo
from dom.adapters.database import reading, writing
from dom.domain.access import Action, Principal
from dom.domain.carriers import CarrierService, service_problems
from dom.domain.catalog import Product
from dom.domain.errors import AlreadyExists, InvalidInput, NotFound
from dom.domain.network import Handling
from dom.schemas.records import ProductRecord, ServiceRecord
from dom.services.masterdata import product_from_record, service_from_record


def list_products(
    engine: Engine,
    principal: Principal,
    *,
    after: str | None = None,
    limit: int = 100,
    handling: Handling | None = None,
    search: str | None = None,
) -> list[Product]:
    principal.require(Action.READ_CATALOG)
    with reading(engine) as connection:
        return repo.list_products(
            connection, after=after, limit=limit, handling=handling, search=search
        )


def get_product(engine: Engine, principal: Principal, sku: str) -> Product:
    principal.require(Action.READ_CATALOG)
    with reading(engine) as connection:
        product = repo.get_product(connection, sku)
    if product is None:
        raise NotFound("product", sku)
    return product


def create_product(engine: Engine, principal: Principal, record: ProductRecord) -> Product:
    principal.require(Action.WRITE_CATALOG)
    product = product_from_record(record)
    with writing(engine) as connection:
        if repo.get_product(connection, product.sku) is not None:
            raise AlreadyExists("product", product.sku)
        repo.save_products(connection, [product])
    return product


def put_product(
    engine: Engine, principal: Principal, record: ProductRecord
) -> tuple[Product, bool]:
    principal.require(Action.WRITE_CATALOG)
    product = product_from_record(record)
    with writing(engine) as connection:
        created = repo.get_product(connection, product.sku) is None
        repo.save_products(connection, [product])
    return product, created


def list_services(engine: Engine, principal: Principal) -> list[CarrierService]:
    principal.require(Action.READ_CARRIERS)
    with reading(engine) as connection:
        return repo.list_services(connection)


def get_service(engine: Engine, principal: Principal, carrier: str, service: str) -> CarrierService:
    principal.require(Action.READ_CARRIERS)
    with reading(engine) as connection:
        found = repo.list_services(connection, carrier=carrier, service=service)
    if not found:
        raise NotFound("carrier service", f"{carrier}/{service}")
    return found[0]


def put_service(
    engine: Engine, principal: Principal, record: ServiceRecord
) -> tuple[CarrierService, bool]:
    principal.require(Action.WRITE_CARRIERS)
    service = service_from_record(record)
    problems = service_problems(service)
    if problems:
        raise InvalidInput(problems)
    with writing(engine) as connection:
        created = service.key not in repo.service_keys(connection)
        repo.save_services(connection, [service])
    return service, created
