"""The relay on SQLite and PostgreSQL: outbox events fanned out to webhook subscriptions and
customer messages, delivered to a real HTTP receiver and a real SMTP server, retried with
backoff, dead-lettered, replayed, and nothing lost when a worker dies mid-delivery."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from dom.adapters import order_store
from dom.adapters.database import reading, writing
from dom.adapters.mail import FolderMailer, SmtpMailer
from dom.adapters.tables import customer_messages, webhook_deliveries
from dom.domain.access import LOCAL_OPERATOR
from dom.domain.notifications import Relay, backoff, settled, verify
from dom.domain.orders.model import Customer, Entry, Order, OrderLine
from dom.services import notifications
from dom.services.order_records import entry_rows, order_row
from dom.services.tracking import tracking_path
from tests.support.receivers import smtp_sink, webhook_receiver

RELAY = Relay(
    max_attempts=3, base_delay=timedelta(seconds=1), lease=timedelta(seconds=30), timeout_seconds=5
)


def an_order(order_id: str = "o_1", email: str | None = "ada@example.com") -> Order:
    return Order(
        id=order_id,
        channel="web",
        external_id=f"W-{order_id}",
        customer=Customer(id="c-1", email=email, name="Ada"),
        lines=(OrderLine("1", "SKU-1", 2, 10.0),),
        created_at=datetime.now(UTC),
    )


def publish(engine: Engine, order: Order, event: str, **detail: Any) -> str:
    """Write one event to the outbox as an order command does; returns its event id."""
    event_id = secrets.token_hex(16)
    entry = Entry(datetime.now(UTC), "test", event, detail)
    with writing(engine) as connection:
        history, events = entry_rows(order, [entry], [event_id])
        if order_store.get_order(connection, order.id) is None:
            row = order_row(order, entry.at)
            order_store.insert_new_order(connection, row, [], history, events)
        else:
            order_store.insert_entries(connection, history, events)
    return event_id


def subscribe(engine: Engine, url: str, events: list[str] | None = None) -> str:
    """Subscribe; returns the signing secret."""
    key = notifications.master_key(engine, None)
    _, secret = notifications.create_subscription(engine, LOCAL_OPERATOR, key, url, events or ["*"])
    return secret


def deliver(engine: Engine, now: datetime | None = None) -> int:
    key = notifications.master_key(engine, None)
    notifications.fan_out(engine, RELAY, now)
    return notifications.deliver_webhooks(engine, RELAY, key, now)


def rows(engine: Engine, table: Any) -> list[Any]:
    with reading(engine) as connection:
        return list(connection.execute(select(table).order_by(table.c.id)))


class TestWebhooks:
    def test_each_event_reaches_the_receiver_once_signed_with_the_subscriptions_secret(
        self, engine: Engine
    ) -> None:
        with webhook_receiver() as receiver:
            secret = subscribe(engine, receiver.url)
            created = publish(engine, an_order(), "order.created", lines=1)
            sourced = publish(engine, an_order(), "order.sourced", fulfilments=[])
            assert deliver(engine) == 2
            assert deliver(engine) == 0
        assert receiver.event_ids() == [created, sourced]
        for call in receiver.calls:
            header = call.headers["Dom-Signature"]
            assert verify(secret, header, call.body, time.time())
            assert not verify("whsec_other", header, call.body, time.time())
            payload = json.loads(call.body)
            assert payload["id"] == call.event_id
            assert call.headers["Dom-Event-Type"] == payload["type"]
            assert payload["order"]["id"] == "o_1"
        assert [d.status for d in rows(engine, webhook_deliveries)] == ["delivered", "delivered"]

    def test_a_subscription_gets_only_the_event_types_it_named(self, engine: Engine) -> None:
        with webhook_receiver() as receiver:
            subscribe(engine, receiver.url, ["fulfilment.shipped"])
            publish(engine, an_order(), "order.created", lines=1)
            shipped = publish(engine, an_order(), "fulfilment.shipped", tracking=["1Z1"])
            deliver(engine)
        assert receiver.event_ids() == [shipped]

    def test_a_5xx_is_retried_after_the_backoff_and_then_delivered(self, engine: Engine) -> None:
        start = datetime.now(UTC)
        with webhook_receiver(500) as receiver:
            subscribe(engine, receiver.url)
            event_id = publish(engine, an_order(), "order.created", lines=1)
            deliver(engine, start)
            [failed] = rows(engine, webhook_deliveries)
            assert (failed.status, failed.attempts, failed.last_status_code) == ("pending", 1, 500)
            assert failed.next_attempt_at == start + RELAY.base_delay
            assert deliver(engine, start + timedelta(milliseconds=500)) == 0  # not due yet
            assert deliver(engine, start + RELAY.base_delay) == 1
        [done] = rows(engine, webhook_deliveries)
        assert (done.status, done.attempts, done.last_status_code) == ("delivered", 2, 200)
        assert receiver.event_ids() == [event_id, event_id]

    def test_a_4xx_is_dead_at_once_and_never_retried(self, engine: Engine) -> None:
        start = datetime.now(UTC)
        with webhook_receiver(410) as receiver:
            subscribe(engine, receiver.url)
            publish(engine, an_order(), "order.created", lines=1)
            deliver(engine, start)
            assert deliver(engine, start + timedelta(days=1)) == 0
        [dead] = rows(engine, webhook_deliveries)
        assert (dead.status, dead.attempts, dead.last_status_code) == ("dead", 1, 410)
        assert len(receiver.calls) == 1

    def test_a_delivery_is_dead_after_the_last_try_and_a_replay_delivers_it(
        self, engine: Engine
    ) -> None:
        moment = datetime.now(UTC)
        with webhook_receiver(500, 502, 503) as receiver:
            subscribe(engine, receiver.url)
            event_id = publish(engine, an_order(), "order.created", lines=1)
            for _ in range(RELAY.max_attempts):
                deliver(engine, moment)
                moment += timedelta(hours=1)
            [dead] = rows(engine, webhook_deliveries)
            assert (dead.status, dead.attempts) == ("dead", RELAY.max_attempts)
            notifications.replay_delivery(engine, LOCAL_OPERATOR, dead.id, moment)
            assert deliver(engine, moment) == 1
        [replayed] = rows(engine, webhook_deliveries)
        assert (replayed.status, replayed.attempts) == ("delivered", 1)
        assert receiver.event_ids() == [event_id] * (RELAY.max_attempts + 1)

    def test_a_receiver_that_is_down_is_retried(self, engine: Engine) -> None:
        with webhook_receiver() as receiver:
            closed = receiver.url
        subscribe(engine, closed)
        publish(engine, an_order(), "order.created", lines=1)
        deliver(engine)
        [waiting] = rows(engine, webhook_deliveries)
        assert (waiting.status, waiting.last_status_code) == ("pending", None)
        assert waiting.last_error

    def test_a_worker_killed_mid_delivery_loses_nothing_and_the_retry_has_the_same_event_id(
        self, engine: Engine
    ) -> None:
        with webhook_receiver() as receiver:
            receiver.hold_first = True
            subscribe(engine, receiver.url)
            event_id = publish(engine, an_order(), "order.created", lines=1)
            notifications.fan_out(engine, RELAY)
            worker = _worker_process(engine)
            try:
                assert receiver.arrived.wait(timeout=20), "the worker never called"
            finally:
                worker.kill()
                worker.wait(timeout=10)
            receiver.release()
            [leased] = rows(engine, webhook_deliveries)
            assert (leased.status, leased.attempts) == ("pending", 1)
            assert deliver(engine) == 0  # the dead worker's lease still stands
            later = datetime.now(UTC) + RELAY.lease + timedelta(seconds=1)
            assert deliver(engine, later) == 1
        [done] = rows(engine, webhook_deliveries)
        assert (done.status, done.attempts) == ("delivered", 2)
        assert receiver.event_ids() == [event_id, event_id]

    def test_two_workers_fanning_out_at_once_make_each_delivery_once(self, engine: Engine) -> None:
        subscribe(engine, "http://127.0.0.1:9/hooks")
        for index in range(20):
            publish(engine, an_order(f"o_{index}"), "order.created", lines=1)
        errors: list[BaseException] = []

        def fan_out() -> None:
            try:
                while notifications.fan_out(engine, RELAY, limit=3):
                    pass
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        workers = [threading.Thread(target=fan_out) for _ in range(2)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        assert errors == []
        assert len(rows(engine, webhook_deliveries)) == 20


def _worker_process(engine: Engine) -> subprocess.Popen[bytes]:
    """A separate process delivering with the same relay settings, to be killed mid-call."""
    url = engine.url.render_as_string(hide_password=False)
    code = textwrap.dedent(
        f"""
        from datetime import timedelta
        from dom.adapters.database import make_engine
        from dom.domain.notifications import Relay
        from dom.services import notifications
        engine = make_engine({url!r})
        relay = Relay(lease=timedelta(seconds={RELAY.lease.total_seconds()}))
        notifications.deliver_webhooks(engine, relay, notifications.master_key(engine, None))
        """
    )
    return subprocess.Popen([sys.executable, "-c", code])


class TestCustomerMessages:
    def test_the_shipped_message_reaches_the_smtp_server_with_the_tracking_number(
        self, engine: Engine
    ) -> None:
        event_id = publish(
            engine,
            an_order(),
            "fulfilment.shipped",
            carrier="ups",
            service="ground",
            tracking=["1Z999AA10123456784"],
        )
        notifications.fan_out(engine, RELAY)
        with smtp_sink() as sink:
            assert notifications.send_messages(engine, RELAY, SmtpMailer(sink.url)) == 1
            assert notifications.send_messages(engine, RELAY, SmtpMailer(sink.url)) == 0
        [mail] = sink.messages
        assert mail["To"] == "ada@example.com"
        assert mail["Subject"] == "Your order W-o_1 has shipped"
        assert mail["X-Dom-Event-Id"] == event_id
        body = mail.get_content()
        assert "1Z999AA10123456784" in body and "ups" in body
        [sent] = rows(engine, customer_messages)
        assert (sent.status, sent.attempts, sent.event_id) == ("sent", 1, event_id)

    def test_a_message_links_to_the_customers_tracking_page_and_a_transfer_sends_none(
        self, sqlite_engine: Engine
    ) -> None:
        key = notifications.master_key(sqlite_engine, None)
        relay = replace(RELAY, public_url="https://shop.example", track_key=key)
        publish(sqlite_engine, an_order(), "fulfilment.shipped", carrier="ups", tracking=["1Z"])
        publish(sqlite_engine, an_order(), "transfer.shipped", transfer_to="store-a")
        notifications.fan_out(sqlite_engine, relay)
        [message] = rows(sqlite_engine, customer_messages)
        link = "https://shop.example" + tracking_path(key, "o_1")
        assert link in message.body

    def test_only_events_with_a_message_and_orders_with_an_email_make_messages(
        self, engine: Engine
    ) -> None:
        publish(engine, an_order(), "order.created", lines=1)
        publish(engine, an_order(), "order.sourced", fulfilments=[])
        publish(engine, an_order("o_2", email=None), "order.sourced", fulfilments=[])
        notifications.fan_out(engine, RELAY)
        assert [(m.order_id, m.event) for m in rows(engine, customer_messages)] == [
            ("o_1", "order.sourced")
        ]

    def test_a_message_the_worker_died_sending_is_sent_after_the_lease_with_the_same_event_id(
        self, engine: Engine
    ) -> None:
        event_id = publish(engine, an_order(), "order.cancelled", reason="out of stock")
        notifications.fan_out(engine, RELAY)
        start = datetime.now(UTC)
        assert notifications.claim_due(engine, customer_messages, RELAY, start)  # then "dies"
        with smtp_sink() as sink:
            mailer = SmtpMailer(sink.url)
            assert notifications.send_messages(engine, RELAY, mailer, start) == 0
            later = start + RELAY.lease + timedelta(seconds=1)
            assert notifications.send_messages(engine, RELAY, mailer, later) == 1
        [mail] = sink.messages
        assert mail["X-Dom-Event-Id"] == event_id
        assert "out of stock" in mail.get_content()
        [sent] = rows(engine, customer_messages)
        assert (sent.status, sent.attempts) == ("sent", 2)

    def test_an_smtp_server_that_is_down_is_retried_with_backoff(self, engine: Engine) -> None:
        publish(engine, an_order(), "order.sourced", fulfilments=[])
        notifications.fan_out(engine, RELAY)
        start = datetime.now(UTC)
        with smtp_sink() as sink:
            closed = sink.url
        notifications.send_messages(engine, RELAY, SmtpMailer(closed), start)
        [waiting] = rows(engine, customer_messages)
        assert (waiting.status, waiting.attempts) == ("pending", 1)
        assert waiting.next_attempt_at == start + RELAY.base_delay and waiting.last_error

    def test_an_edited_template_is_what_the_customer_reads(self, sqlite_engine: Engine) -> None:
        notifications.save_template(
            sqlite_engine,
            LOCAL_OPERATOR,
            "fulfilment.ready_for_pickup",
            "Come and get $external_id",
            "Hi $customer_name, it is waiting for you.",
        )
        publish(sqlite_engine, an_order(), "fulfilment.ready_for_pickup", fulfilment="f_1")
        notifications.fan_out(sqlite_engine, RELAY)
        [message] = rows(sqlite_engine, customer_messages)
        assert (message.subject, message.body) == (
            "Come and get W-o_1",
            "Hi Ada, it is waiting for you.",
        )

    def test_without_an_smtp_server_messages_land_in_the_mail_folder(
        self, sqlite_engine: Engine, tmp_path: Path
    ) -> None:
        event_id = publish(sqlite_engine, an_order(), "order.sourced", fulfilments=[])
        notifications.fan_out(sqlite_engine, RELAY)
        notifications.send_messages(sqlite_engine, RELAY, FolderMailer(tmp_path / "mail"))
        [written] = (tmp_path / "mail").iterdir()
        assert written.name == f"{event_id}.eml"
        assert "Subject: Your order W-o_1 is confirmed" in written.read_text()


class TestTheRelaysPlaceInTheOutbox:
    NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    WAIT = timedelta(seconds=15)

    def test_rows_without_holes_are_all_taken(self) -> None:
        assert settled(4, [5, 6, 7], None, self.NOW, self.WAIT) == (3, None)

    def test_a_hole_is_waited_for_a_transaction_may_still_commit_it(self) -> None:
        assert settled(4, [5, 7, 8], None, self.NOW, self.WAIT) == (1, self.NOW)
        earlier = self.NOW - timedelta(seconds=5)
        assert settled(5, [7, 8], earlier, self.NOW, self.WAIT) == (0, earlier)

    def test_a_hole_older_than_the_wait_is_stepped_over(self) -> None:
        long_ago = self.NOW - timedelta(seconds=16)
        assert settled(5, [7, 8], long_ago, self.NOW, self.WAIT) == (2, None)

    def test_a_new_hole_after_rows_taken_starts_its_own_wait(self) -> None:
        long_ago = self.NOW - timedelta(seconds=16)
        assert settled(5, [7, 8, 10], long_ago, self.NOW, self.WAIT) == (2, self.NOW)


@pytest.mark.parametrize("attempts, seconds", [(1, 1), (2, 2), (3, 4), (30, 6 * 3600)])
def test_the_backoff_doubles_up_to_its_cap(attempts: int, seconds: int) -> None:
    relay = Relay(base_delay=timedelta(seconds=1), max_delay=timedelta(hours=6))
    assert backoff(relay, attempts) == timedelta(seconds=seconds)
