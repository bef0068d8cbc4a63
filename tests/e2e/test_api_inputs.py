"""The REST API over real HTTP: bad input gets RFC 9457 problems naming the field, and changes nothing."""

from __future__ import annotations

import json

import httpx

from dom.services import masterdata
from tests.support.factories import node_record, product_record, service_record, store_record


def _export(admin: httpx.Client) -> object:
    return admin.get("/v1/master-data/export").json()


def _assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:dom:problem:{code}"
    assert body["title"] and body["detail"]
    return dict(body)


class TestNodes:
    def test_a_bad_node_names_every_bad_field_and_is_not_created(self, admin: httpx.Client) -> None:
        record = node_record("bad id!", type="warehouse", capacity_units=-1, zip="9021", extra="x")
        problem = _assert_problem(admin.post("/v1/nodes", json=record), 422, "invalid_input")
        fields = {e["field"] for e in problem["errors"]}  # type: ignore[attr-defined]
        assert fields == {"id", "type", "capacity_units", "zip", "extra"}
        assert admin.get("/v1/nodes").json()["items"] == []

    def test_an_unknown_zip_is_an_error_never_a_zero_coordinate(self, admin: httpx.Client) -> None:
        problem = _assert_problem(
            admin.post("/v1/nodes", json=node_record(zip="00001")), 422, "invalid_input"
        )
        assert problem["errors"] == [{"field": "zip", "reason": "unknown ZIP code 00001"}]
        assert admin.get("/v1/nodes").json()["items"] == []

    def test_creating_a_node_twice_is_a_conflict(self, admin: httpx.Client) -> None:
        assert admin.post("/v1/nodes", json=node_record()).status_code == 201
        _assert_problem(
            admin.post("/v1/nodes", json=node_record(name="other")), 409, "already_exists"
        )
        assert admin.get("/v1/nodes/dc-columbus").json()["name"] == "Node dc-columbus"

    def test_put_refuses_a_body_whose_id_differs_from_the_path(self, admin: httpx.Client) -> None:
        problem = _assert_problem(
            admin.put("/v1/nodes/dc-x", json=node_record("dc-y")), 422, "invalid_input"
        )
        assert problem["errors"] == [
            {"field": "id", "reason": "the body's id 'dc-y' differs from the path's 'dc-x'"}
        ]

    def test_put_creates_then_replaces(self, admin: httpx.Client) -> None:
        assert admin.put("/v1/nodes/dc-columbus", json=node_record()).status_code == 201
        replaced = admin.put("/v1/nodes/dc-columbus", json=node_record(capacity_orders=10))
        assert replaced.status_code == 200
        assert replaced.json()["capacity_orders"] == 10
        assert replaced.json()["cutoff"] == "16:00"

    def test_an_unknown_node_is_a_404_problem(self, admin: httpx.Client) -> None:
        _assert_problem(admin.get("/v1/nodes/nowhere"), 404, "not_found")

    def test_a_pause_must_end_after_it_starts(self, admin: httpx.Client) -> None:
        admin.post("/v1/nodes", json=node_record())
        body = {
            "reason": "inventory",
            "starts_at": "2026-12-02T00:00:00Z",
            "ends_at": "2026-12-01T00:00:00Z",
        }
        problem = _assert_problem(
            admin.post("/v1/nodes/dc-columbus/pause", json=body), 422, "invalid_input"
        )
        assert problem["errors"] == [
            {"field": "pause_ends_at", "reason": "must be after pause_starts_at"}
        ]
        assert admin.get("/v1/nodes/dc-columbus").json()["status"] == "active"

    def test_a_pause_window_in_the_future_leaves_the_node_active_until_it_starts(
        self, admin: httpx.Client
    ) -> None:
        admin.post("/v1/nodes", json=node_record())
        body = {
            "reason": "relayout",
            "starts_at": "2099-01-01T00:00:00Z",
            "ends_at": "2099-01-02T00:00:00Z",
        }
        paused = admin.post("/v1/nodes/dc-columbus/pause", json=body).json()
        assert paused["status"] == "active"
        assert paused["pause_reason"] == "relayout"

    def test_list_filters_and_pages(self, admin: httpx.Client) -> None:
        records = [store_record(f"store-{i:02d}") for i in range(5)] + [node_record("dc-1")]
        admin.post("/v1/master-data/import", json={"nodes": records})
        stores = admin.get("/v1/nodes", params={"type": "store", "limit": 2}).json()
        assert [n["id"] for n in stores["items"]] == ["store-00", "store-01"]
        following = admin.get(
            "/v1/nodes", params={"type": "store", "limit": 2, "after": stores["next_after"]}
        ).json()
        assert [n["id"] for n in following["items"]] == ["store-02", "store-03"]
        last = admin.get("/v1/nodes", params={"type": "store", "after": "store-03"}).json()
        assert [n["id"] for n in last["items"]] == ["store-04"] and last["next_after"] is None
        pickup = admin.get("/v1/nodes", params={"capability": "pickup_in_store"}).json()
        assert len(pickup["items"]) == 5
        _assert_problem(admin.get("/v1/nodes", params={"limit": 0}), 422, "invalid_input")
        _assert_problem(admin.get("/v1/nodes", params={"type": "castle"}), 422, "invalid_input")


class TestProducts:
    def test_a_bad_product_is_refused_with_the_field_named(self, admin: httpx.Client) -> None:
        problem = _assert_problem(
            admin.post("/v1/products", json=product_record(width=0)), 422, "invalid_input"
        )
        assert problem["errors"] == [{"field": "width", "reason": "must be a positive number"}]
        assert admin.get("/v1/products").json()["items"] == []

    def test_products_are_searchable_and_filterable(self, admin: httpx.Client) -> None:
        admin.post(
            "/v1/master-data/import",
            json={
                "products": [
                    product_record("BAT-1", name="AA batteries", handling=["hazmat"]),
                    product_record("MUG-1", name="Mug"),
                ]
            },
        )
        assert [
            p["sku"] for p in admin.get("/v1/products", params={"q": "batter"}).json()["items"]
        ] == ["BAT-1"]
        assert [
            p["sku"]
            for p in admin.get("/v1/products", params={"handling": "hazmat"}).json()["items"]
        ] == ["BAT-1"]


class TestCarrierServices:
    def test_a_rate_table_with_a_gap_is_refused(self, admin: httpx.Client) -> None:
        service = service_record()
        service["rates"] = [r for r in service["rates"] if (r["zone"], r["weight_lb"]) != (4, 3)]
        problem = _assert_problem(
            admin.put("/v1/carrier-services/testco/ground", json=service), 422, "invalid_input"
        )
        assert [e["reason"] for e in problem["errors"]] == ["zone 4 has no rate for 3 lb"]  # type: ignore[attr-defined]
        _assert_problem(admin.get("/v1/carrier-services/testco/ground"), 404, "not_found")

    def test_a_service_reads_back_as_written(self, admin: httpx.Client) -> None:
        admin.put("/v1/carrier-services/testco/ground", json=service_record())
        assert admin.get("/v1/carrier-services/testco/ground").json() == service_record()


class TestImportEndpoint:
    def test_a_csv_body_needs_its_kind(self, admin: httpx.Client) -> None:
        response = admin.post(
            "/v1/master-data/import", content="sku,name\n", headers={"content-type": "text/csv"}
        )
        _assert_problem(response, 422, "invalid_input")

    def test_an_unsupported_media_type_is_refused(self, admin: httpx.Client) -> None:
        response = admin.post(
            "/v1/master-data/import",
            content="<nodes/>",
            headers={"content-type": "application/xml"},
        )
        problem = _assert_problem(response, 422, "invalid_input")
        assert problem["errors"][0]["field"] == "content-type"  # type: ignore[index]

    def test_malformed_json_is_refused_with_its_line(self, admin: httpx.Client) -> None:
        response = admin.post(
            "/v1/master-data/import",
            content='{"nodes": [\n{"id": }]}',
            headers={"content-type": "application/json"},
        )
        problem = _assert_problem(response, 422, "invalid_input")
        assert problem["errors"][0]["line"] == 2  # type: ignore[index]

    def test_an_unknown_section_is_refused(self, admin: httpx.Client) -> None:
        problem = _assert_problem(
            admin.post("/v1/master-data/import", json={"warehouses": []}), 422, "invalid_input"
        )
        assert problem["errors"][0]["field"] == "warehouses"  # type: ignore[index]

    def test_csv_files_import_together_as_one_multipart_request(self, admin: httpx.Client) -> None:
        data = masterdata.MasterData(
            nodes=[],
            products=[],
            services=[masterdata.service_from_record(masterdata.ServiceRecord(**service_record()))],
        )
        files = masterdata.csv_files(data)
        parts = {
            kind: (f"{kind}.csv", files[kind], "text/csv")
            for kind in ("carrier_services", "carrier_zones", "carrier_rates")
        }
        response = admin.post("/v1/master-data/import", files=parts)
        assert response.status_code == 200, response.text
        assert response.json()["carrier_services"] == {"received": 1, "created": 1, "updated": 0}
        csv_export = admin.get(
            "/v1/master-data/export", params={"format": "csv", "kind": "carrier_rates"}
        )
        assert csv_export.headers["content-type"].startswith("text/csv")
        assert csv_export.text == files["carrier_rates"]

    def test_a_bad_csv_import_lists_rows_and_writes_nothing(self, admin: httpx.Client) -> None:
        text = "sku,name,length,width,height,weight\nA,a,1,1,1,1\nB,b,1,1,1,-1\nC,c,x,1,1,1\n"
        response = admin.post(
            "/v1/master-data/import",
            params={"kind": "products"},
            content=text,
            headers={"content-type": "text/csv"},
        )
        problem = _assert_problem(response, 422, "invalid_input")
        assert [(e["line"], e["field"]) for e in problem["errors"]] == [
            (3, "weight"),
            (4, "length"),
        ]  # type: ignore[attr-defined]
        assert admin.get("/v1/products").json()["items"] == []

    def test_export_refuses_an_unknown_format_or_a_csv_without_its_kind(
        self, admin: httpx.Client
    ) -> None:
        _assert_problem(
            admin.get("/v1/master-data/export", params={"format": "xml"}), 422, "invalid_input"
        )
        _assert_problem(
            admin.get("/v1/master-data/export", params={"format": "csv"}), 422, "invalid_input"
        )
        _assert_problem(
            admin.get("/v1/master-data/export", params={"format": "csv", "kind": "widgets"}),
            422,
            "invalid_input",
        )

    def test_export_and_reimport_over_http_is_stable(self, admin: httpx.Client) -> None:
        bundle = {
            "nodes": [node_record()],
            "products": [product_record()],
            "carrier_services": [service_record()],
        }
        admin.post("/v1/master-data/import", json=bundle)
        exported = admin.get("/v1/master-data/export").json()
        again = admin.post(
            "/v1/master-data/import",
            content=json.dumps(exported),
            headers={"content-type": "application/json"},
        )
        assert again.json()["nodes"] == {"received": 1, "created": 0, "updated": 1}
        assert admin.get("/v1/master-data/export").json() == exported


class TestKeys:
    def test_a_node_key_must_name_an_existing_node(self, admin: httpx.Client) -> None:
        missing = admin.post("/v1/keys", json={"name": "x", "role": "node"})
        assert _assert_problem(missing, 422, "invalid_input")["errors"] == [
            {"field": "node_id", "reason": "a node key must name its node"}
        ]
        _assert_problem(
            admin.post("/v1/keys", json={"name": "x", "role": "node", "node_id": "ghost"}),
            404,
            "not_found",
        )
        _assert_problem(
            admin.post("/v1/keys", json={"name": "x", "role": "emperor"}), 422, "invalid_input"
        )
        assert len(admin.get("/v1/keys").json()) == 1

    def test_revoking_an_unknown_key_is_a_404(self, admin: httpx.Client) -> None:
        _assert_problem(admin.delete("/v1/keys/abcdef"), 404, "not_found")


def test_the_openapi_document_and_health_need_no_key(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        spec = client.get("/openapi.json").json()
        assert client.get("/healthz").json() == {"status": "ok"}
    assert "/v1/nodes" in spec["paths"]
    assert spec["components"]["schemas"]["NodeRecord"]["examples"]


def test_product_search_takes_wildcards_literally(admin: httpx.Client) -> None:
    admin.post(
        "/v1/master-data/import",
        json={"products": [product_record("SKU-1"), product_record("SKU_1")]},
    )
    assert [p["sku"] for p in admin.get("/v1/products", params={"q": "sku_1"}).json()["items"]] == [
        "SKU_1"
    ]
    assert admin.get("/v1/products", params={"q": "%"}).json()["items"] == []
