"""Every role against every kind of call, over real HTTP: who may read, write and operate what."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, update

from dom.adapters.database import writing
from dom.adapters.tables import api_keys
from dom.domain.access import Role
from dom.domain.errors import Unauthenticated
from dom.services import keys
from dom.services.keys import create_key, revoke_key
from tests.conftest import client_for
from tests.support.factories import node_record, product_record, service_record, store_record

PAUSE = {"reason": "stocktake"}

# (label, method, path, body, {principal: expected status})
MATRIX: list[tuple[str, str, str, Any, dict[str, int]]] = [
    (
        "list nodes",
        "GET",
        "/v1/nodes",
        None,
        {
            "admin": 200,
            "viewer": 200,
            "channel": 403,
            "node_a": 200,
            "missing": 401,
            "revoked": 401,
            "garbage": 401,
        },
    ),
    (
        "read own node",
        "GET",
        "/v1/nodes/store-a",
        None,
        {
            "admin": 200,
            "viewer": 200,
            "channel": 403,
            "node_a": 200,
            "missing": 401,
            "revoked": 401,
        },
    ),
    (
        "read another node",
        "GET",
        "/v1/nodes/store-b",
        None,
        {
            "admin": 200,
            "viewer": 200,
            "channel": 403,
            "node_a": 403,
            "missing": 401,
            "revoked": 401,
        },
    ),
    (
        "pause another node",
        "POST",
        "/v1/nodes/store-b/pause",
        PAUSE,
        {"viewer": 403, "channel": 403, "node_a": 403, "missing": 401, "revoked": 401},
    ),
    (
        "resume another node",
        "POST",
        "/v1/nodes/store-b/resume",
        None,
        {"viewer": 403, "channel": 403, "node_a": 403, "missing": 401},
    ),
    (
        "replace own node",
        "PUT",
        "/v1/nodes/store-a",
        store_record("store-a", name="renamed"),
        {"viewer": 403, "channel": 403, "node_a": 403, "missing": 401},
    ),
    (
        "create a node",
        "POST",
        "/v1/nodes",
        store_record("store-c"),
        {"viewer": 403, "channel": 403, "node_a": 403, "missing": 401, "revoked": 401},
    ),
    (
        "list products",
        "GET",
        "/v1/products",
        None,
        {
            "admin": 200,
            "viewer": 200,
            "channel": 200,
            "node_a": 200,
            "missing": 401,
            "revoked": 401,
        },
    ),
    (
        "create a product",
        "POST",
        "/v1/products",
        product_record("SKU-NEW"),
        {"viewer": 403, "channel": 403, "node_a": 403, "missing": 401},
    ),
    (
        "list carrier services",
        "GET",
        "/v1/carrier-services",
        None,
        {"admin": 200, "viewer": 200, "channel": 200, "node_a": 200, "missing": 401},
    ),
    (
        "replace a carrier service",
        "PUT",
        "/v1/carrier-services/testco/ground",
        service_record(),
        {"viewer": 403, "channel": 403, "node_a": 403, "missing": 401},
    ),
    (
        "export master data",
        "GET",
        "/v1/master-data/export",
        None,
        {"admin": 200, "viewer": 200, "channel": 403, "node_a": 403, "missing": 401},
    ),
    (
        "import master data",
        "POST",
        "/v1/master-data/import",
        {"products": [product_record("SKU-IMP")]},
        {"viewer": 403, "channel": 403, "node_a": 403, "missing": 401, "revoked": 401},
    ),
    (
        "list keys",
        "GET",
        "/v1/keys",
        None,
        {"admin": 200, "viewer": 403, "channel": 403, "node_a": 403, "missing": 401},
    ),
    (
        "issue a key",
        "POST",
        "/v1/keys",
        {"name": "sneaky", "role": "admin"},
        {"viewer": 403, "channel": 403, "node_a": 403, "missing": 401, "revoked": 401},
    ),
    (
        "list sourcing profiles",
        "GET",
        "/v1/sourcing/profiles",
        None,
        {
            "admin": 200,
            "viewer": 200,
            "channel": 200,
            "node_a": 200,
            "missing": 401,
            "revoked": 401,
        },
    ),
    (
        "save a sourcing profile",
        "POST",
        "/v1/sourcing/profiles",
        {"name": "sneaky", "weights": {"delivery_days": 1.0}},
        {"viewer": 403, "channel": 403, "node_a": 403, "missing": 401, "revoked": 401},
    ),
    (
        "activate a sourcing profile",
        "POST",
        "/v1/sourcing/profiles/fastest/versions/1/activate",
        None,
        {"viewer": 403, "channel": 403, "node_a": 403, "missing": 401},
    ),
    (
        "save selection rules",
        "POST",
        "/v1/sourcing/rules",
        {"rules": [], "fallback": "lowest-cost"},
        {"viewer": 403, "channel": 403, "node_a": 403, "missing": 401, "revoked": 401},
    ),
]


def _tokens(engine: Engine) -> dict[str, str | None]:
    revoked = create_key(engine, "old", Role.ADMIN)
    revoke_key(engine, revoked.principal.key_id)
    return {
        "admin": create_key(engine, "admin", Role.ADMIN).token,
        "viewer": create_key(engine, "viewer", Role.VIEWER).token,
        "channel": create_key(engine, "web shop", Role.CHANNEL, channel="web").token,
        "node_a": create_key(engine, "store a", Role.NODE, node_id="store-a").token,
        "revoked": revoked.token,
        "garbage": "dom_nothere_0123456789",
        "missing": None,
    }


def _snapshot(admin: httpx.Client) -> Any:
    return admin.get("/v1/master-data/export").json(), len(admin.get("/v1/keys").json())


def test_each_role_gets_exactly_its_rights_and_forbidden_calls_change_nothing(
    server: str, engine: Engine, admin: httpx.Client
) -> None:
    for record in (store_record("store-a"), store_record("store-b", zip="60657")):
        assert admin.post("/v1/nodes", json=record).status_code == 201
    tokens = _tokens(engine)
    mismatches = []
    for label, method, path, body, expected in MATRIX:
        for who, status in expected.items():
            if status in (200, 201):
                continue  # allowed writes are exercised below, on their own
            before = _snapshot(admin)
            with client_for(server, tokens[who]) as client:
                response = client.request(method, path, json=body)
            if response.status_code != status:
                mismatches.append((label, who, status, response.status_code, response.text[:200]))
                continue
            problem = response.json()
            assert response.headers["content-type"].startswith("application/problem+json")
            assert problem["code"] == ("unauthenticated" if status == 401 else "forbidden")
            assert _snapshot(admin) == before, f"{label} by {who} changed data"
        for who, status in expected.items():
            if status == 200 and method == "GET":
                with client_for(server, tokens[who]) as client:
                    got = client.get(path).status_code
                if got != 200:
                    mismatches.append((label, who, 200, got, ""))
    assert mismatches == []


def test_a_node_key_lists_only_its_own_node(
    server: str, engine: Engine, admin: httpx.Client
) -> None:
    for record in (store_record("store-a"), store_record("store-b", zip="60657")):
        admin.post("/v1/nodes", json=record)
    token = create_key(engine, "store a", Role.NODE, node_id="store-a").token
    with client_for(server, token) as client:
        listed = client.get("/v1/nodes").json()["items"]
    assert [n["id"] for n in listed] == ["store-a"]


def test_a_node_key_may_pause_and_resume_its_own_node(
    server: str, engine: Engine, admin: httpx.Client
) -> None:
    admin.post("/v1/nodes", json=store_record("store-a"))
    token = create_key(engine, "store a", Role.NODE, node_id="store-a").token
    with client_for(server, token) as client:
        paused = client.post("/v1/nodes/store-a/pause", json={"reason": "power cut"})
        assert paused.status_code == 200
        assert paused.json()["status"] == "paused"
        assert paused.json()["pause_reason"] == "power cut"
        resumed = client.post("/v1/nodes/store-a/resume")
        assert resumed.json()["status"] == "active"


def test_admins_may_write_everything(admin: httpx.Client) -> None:
    assert admin.post("/v1/nodes", json=node_record()).status_code == 201
    assert admin.post("/v1/products", json=product_record()).status_code == 201
    assert admin.put("/v1/carrier-services/testco/ground", json=service_record()).status_code == 201
    issued = admin.post(
        "/v1/keys", json={"name": "dc system", "role": "node", "node_id": "dc-columbus"}
    )
    assert issued.status_code == 201
    assert issued.json()["token"].startswith("dom_")


def test_a_revoked_key_stops_working_at_once(
    server: str, engine: Engine, admin: httpx.Client
) -> None:
    issued = admin.post("/v1/keys", json={"name": "temp", "role": "viewer"}).json()
    with client_for(server, issued["token"]) as client:
        assert client.get("/v1/products").status_code == 200
        assert admin.delete(f"/v1/keys/{issued['id']}").status_code == 204
        refused = client.get("/v1/products")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the API key was revoked"


def test_key_listings_never_show_secrets_or_hashes(admin: httpx.Client, admin_token: str) -> None:
    listing = admin.get("/v1/keys")
    assert admin_token.split("_", 2)[2] not in listing.text
    assert all(
        set(k) == {"id", "name", "role", "node_id", "channel", "created_at", "revoked_at"}
        for k in listing.json()
    )


# ---- keys trusted for a moment by the process that verified them ------------------------------


def test_a_key_revoked_by_another_process_stops_working_within_the_trust_window(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keys, "TRUST_SECONDS", 0.2)
    issued = create_key(engine, "elsewhere", Role.VIEWER)
    assert keys.authenticate_recent(engine, issued.token) == issued.principal
    with writing(engine) as connection:  # as `dom keys revoke` in another process does
        connection.execute(
            update(api_keys)
            .where(api_keys.c.id == issued.principal.key_id)
            .values(revoked_at=datetime.now(UTC))
        )

    trusted_still = keys.authenticate_recent(engine, issued.token)
    time.sleep(0.25)

    assert trusted_still == issued.principal
    with pytest.raises(Unauthenticated, match="revoked"):
        keys.authenticate_recent(engine, issued.token)


def test_a_key_revoked_through_this_process_stops_working_at_once(engine: Engine) -> None:
    issued = create_key(engine, "here", Role.VIEWER)
    keys.authenticate_recent(engine, issued.token)

    revoke_key(engine, issued.principal.key_id)

    with pytest.raises(Unauthenticated, match="revoked"):
        keys.authenticate_recent(engine, issued.token)


def test_a_trusted_key_with_another_secret_is_refused(engine: Engine) -> None:
    issued = create_key(engine, "real", Role.ADMIN)
    keys.authenticate_recent(engine, issued.token)
    prefix, key_id, secret = issued.token.split("_", 2)
    forged = f"{prefix}_{key_id}_{'A' if secret[0] != 'A' else 'B'}{secret[1:]}"

    with pytest.raises(Unauthenticated, match="not valid"):
        keys.authenticate_recent(engine, forged)


KEY_HEADERS = [
    ({"Authorization": "Bearer {key}"}, 200),
    ({"Authorization": "bearer {key}"}, 200),  # the scheme's name is case-insensitive
    ({"X-API-Key": "{key}"}, 200),
    ({"Authorization": "Basic {key}"}, 401),  # not a bearer token
    ({"Authorization": "Bearer"}, 401),  # no token
    ({"X-API-Key": "dom_not-a-key"}, 401),
]


def test_a_key_is_taken_as_a_bearer_token_or_from_the_api_key_header(
    server: str, admin_token: str
) -> None:
    answered = []
    for headers, _ in KEY_HEADERS:
        sent = {name: value.format(key=admin_token) for name, value in headers.items()}
        with httpx.Client(base_url=server, headers=sent) as client:
            answered.append(client.get("/v1/nodes").status_code)
    assert answered == [status for _, status in KEY_HEADERS]


def test_the_openapi_document_asks_for_a_key_on_every_call_that_needs_one(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert schemes["APIKeyHeader"]["name"] == "X-API-Key"
    operations = {
        (path, method): operation.get("security")
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    }
    open_ones = {key for key, security in operations.items() if not security}
    assert open_ones == {("/healthz", "get"), ("/v1/track/{order_id}", "get")}
    assert operations[("/v1/reservations", "post")] == [{"HTTPBearer": []}, {"APIKeyHeader": []}]
