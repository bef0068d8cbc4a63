"""`Idempotency-Key` on POST: a retry replays the first response, another body with the same key
is refused, a retry while the first still runs is told so, and a failed request can be retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from dom.domain.access import Principal, Role
from dom.schemas.inventory import ReservationIn
from dom.services import idempotency
from dom.services.keys import authenticate, create_key
from tests.conftest import client_for
from tests.e2e import test_inventory_api
from tests.e2e.test_inventory_api import DC, SKU, event, position, problem

stocked = test_inventory_api.stocked  # the fixture: a DC with 10 units of SKU-1

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


def cart(quantity: int = 3, reference: str = "cart-1") -> dict[str, Any]:
    expires = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    return {
        "reference": reference,
        "lines": [{"sku": SKU, "node_id": DC, "quantity": quantity}],
        "expires_at": expires,
    }


def hold(client: httpx.Client, body: dict[str, Any], key: str) -> httpx.Response:
    return client.post("/v1/reservations", json=body, headers={"Idempotency-Key": key})


class TestOverHttp:
    def test_a_retry_gets_the_first_response_and_holds_nothing_more(
        self, stocked: httpx.Client
    ) -> None:
        body = cart()
        first = hold(stocked, body, "retry-1")
        again = hold(stocked, body, "retry-1")

        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first.headers
        assert position(stocked)["reserved"] == 3

    def test_the_same_key_with_another_body_is_refused_and_changes_nothing(
        self, stocked: httpx.Client
    ) -> None:
        assert hold(stocked, cart(3), "k-2").status_code == 201
        refused = problem(hold(stocked, cart(4), "k-2"), 422, "idempotency_key_reused")
        assert refused["errors"][0]["field"] == "Idempotency-Key"
        assert position(stocked)["reserved"] == 3

    def test_a_retry_while_the_first_request_runs_is_told_to_wait(
        self, stocked: httpx.Client, engine: Engine, admin_token: str
    ) -> None:
        body = cart()
        running = idempotency.fingerprint(
            "POST", "/v1/reservations", ReservationIn.model_validate(body).model_dump_json()
        )
        admin = authenticate(engine, admin_token)
        assert idempotency.claim(engine, admin, "k-3", running) is None  # the first, running

        problem(hold(stocked, body, "k-3"), 409, "request_in_flight")
        assert position(stocked)["reserved"] == 0

    def test_a_request_that_failed_can_be_retried_with_its_key(self, stocked: httpx.Client) -> None:
        body = cart(12)  # 10 on hand
        problem(hold(stocked, body, "k-4"), 409, "insufficient_stock")
        more = [event("more", "receipt", 5, T0 + timedelta(hours=1))]
        assert stocked.post("/v1/inventory/events", json={"events": more}).status_code == 200

        assert hold(stocked, body, "k-4").status_code == 201
        assert position(stocked)["reserved"] == 12

    def test_keys_belong_to_the_api_key_that_sent_them(
        self, stocked: httpx.Client, engine: Engine, server: str
    ) -> None:
        other = create_key(engine, "second caller", Role.ADMIN)
        with client_for(server, other.token) as second:
            assert hold(stocked, cart(2, "a"), "shared").status_code == 201
            assert hold(second, cart(3, "b"), "shared").status_code == 201
        assert position(stocked)["reserved"] == 5

    def test_events_and_syncs_replay_too(self, stocked: httpx.Client) -> None:
        events = {"events": [event("rc-9", "receipt", 2, T0 + timedelta(hours=2))]}
        headers = {"Idempotency-Key": "batch-9"}
        first = stocked.post("/v1/inventory/events", json=events, headers=headers)
        again = stocked.post("/v1/inventory/events", json=events, headers=headers)
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert position(stocked)["on_hand"] == 12

    @pytest.mark.parametrize("key", ["", "x" * 201, "tab\tinside"])
    def test_a_malformed_key_is_refused(self, stocked: httpx.Client, key: str) -> None:
        refused = problem(hold(stocked, cart(), key), 422, "invalid_input")
        assert refused["errors"][0]["field"] == "Idempotency-Key"
        assert position(stocked)["reserved"] == 0


class TestClaims:
    @pytest.fixture
    def caller(self, engine: Engine) -> Principal:
        return authenticate(engine, create_key(engine, "c", Role.ADMIN).token)

    def test_a_claim_left_by_a_process_that_died_is_taken_over(
        self, engine: Engine, caller: Principal
    ) -> None:
        assert idempotency.claim(engine, caller, "k", "body", T0) is None
        with pytest.raises(idempotency.RequestInFlight):
            idempotency.claim(engine, caller, "k", "body", T0 + timedelta(minutes=4))
        later = T0 + idempotency.ABANDONED_AFTER + timedelta(seconds=1)
        assert idempotency.claim(engine, caller, "k", "body", later) is None

    def test_a_completed_response_is_kept_for_a_day(
        self, engine: Engine, caller: Principal
    ) -> None:
        assert idempotency.claim(engine, caller, "k", "body", T0) is None
        idempotency.complete(engine, caller, "k", 201, {"id": "r1"})
        within = T0 + timedelta(hours=23)
        assert idempotency.claim(engine, caller, "k", "body", within) == idempotency.Stored(
            201, {"id": "r1"}
        )
        after = T0 + idempotency.KEPT + timedelta(seconds=1)
        assert idempotency.claim(engine, caller, "k", "another body", after) is None
