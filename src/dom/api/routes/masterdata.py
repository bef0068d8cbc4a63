"""/v1/master-data: import and export nodes, products and carrier services as JSON or CSV."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from dom.api.deps import EngineDep, PrincipalDep, ZipsDep
from dom.domain.errors import InvalidInput, Problem
from dom.schemas.api import ImportResult
from dom.services import masterdata
from dom.services.formats import parse_json

router = APIRouter(prefix="/v1/master-data", tags=["master data"])
CsvKind = Literal["nodes", "products", "carrier_services", "carrier_zones", "carrier_rates"]

IMPORT_DOC = """All-or-nothing import. Send one of:

* `application/json`: an object with any of the arrays `nodes`, `products`, `carrier_services`
  (each service with its `zones` and `rates`), as `GET /v1/master-data/export` returns;
* `text/csv` with `?kind=nodes` or `?kind=products`;
* `multipart/form-data` with one CSV file per part, the part named by its kind
  (`nodes`, `products`, `carrier_services`, `carrier_zones`, `carrier_rates`).

Every bad row is reported (line number, field, reason) and nothing is written."""


@router.post(
    "/import", response_model=ImportResult, summary="Import master data", description=IMPORT_DOC
)
async def import_master_data(
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    zips: ZipsDep,
    kind: Annotated[CsvKind | None, Query(description="for a text/csv body: what it holds")] = None,
) -> Any:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/json":
        bundle = masterdata.bundle_from_json(parse_json(await request.body(), "body"))
    elif media_type == "text/csv":
        if kind is None:
            raise InvalidInput([Problem("kind", "a text/csv body needs ?kind=")])
        bundle = masterdata.bundle_from_csv({kind: _decode(await request.body(), kind)})
    elif media_type == "multipart/form-data":
        form = await request.form()
        files: dict[str, str] = {}
        for name, part in form.multi_items():
            raw = await part.read() if hasattr(part, "read") else str(part).encode()
            files[name] = _decode(raw, name)
        bundle = masterdata.bundle_from_csv(files)
    else:
        raise InvalidInput(
            [Problem("content-type", "send application/json, text/csv or multipart/form-data")]
        )
    report = masterdata.import_master_data(engine, principal, bundle, zips)
    return report


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput([Problem(source, "the file is not UTF-8 text")]) from None


@router.get(
    "/export",
    summary="Export master data",
    description="JSON: one object with nodes, products and carrier_services. CSV: one kind per call.",
    response_model=None,
)
def export_master_data(
    engine: EngineDep,
    principal: PrincipalDep,
    format: Literal["json", "csv"] = "json",
    kind: CsvKind | None = None,
) -> Any:
    data = masterdata.export_master_data(engine, principal)
    if format == "json":
        bundle = masterdata.as_json_bundle(data)
        return {kind: bundle[kind]} if kind in bundle else bundle
    if kind is None:
        raise InvalidInput([Problem("kind", "a CSV export needs ?kind=")])
    return PlainTextResponse(masterdata.csv_files(data)[kind], media_type="text/csv")
