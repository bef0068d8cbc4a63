"""Real local receivers for the relay's tests: an HTTP server that records webhook calls and
answers with scripted status codes, and an SMTP server (aiosmtpd) that keeps what it is sent."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.server import free_port


@dataclass(frozen=True)
class Call:
    headers: dict[str, str]
    body: bytes

    @property
    def event_id(self) -> str:
        return self.headers["Dom-Event-Id"]


@dataclass
class WebhookReceiver:
    """Records every POST; answers each with the next scripted status (then `otherwise`).
    With `hold_first`, the first call is recorded and then kept waiting until `release()`."""

    url: str = ""
    answers: list[int] = field(default_factory=list)
    otherwise: int = 200
    calls: list[Call] = field(default_factory=list)
    hold_first: bool = False
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, call: Call) -> int:
        with self.lock:
            self.calls.append(call)
            first = len(self.calls) == 1
            status = self.answers.pop(0) if self.answers else self.otherwise
        self.arrived.set()
        if first and self.hold_first:
            self.released.wait(timeout=30)
        return status

    def release(self) -> None:
        self.released.set()

    def event_ids(self) -> list[str]:
        return [call.event_id for call in self.calls]


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.answer(Call(dict(self.headers.items()), body))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


@contextmanager
def webhook_receiver(*answers: int, otherwise: int = 200) -> Iterator[WebhookReceiver]:
    """A ThreadingHTTPServer on 127.0.0.1, in a thread, for as long as the block runs."""
    receiver = WebhookReceiver(answers=list(answers), otherwise=otherwise)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release()
        server.shutdown()
        server.server_close()


@dataclass
class SmtpSink:
    url: str = ""
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd, in its own thread) that keeps every message."""
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    sink.url = f"smtp://127.0.0.1:{port}"
    try:
        yield sink
    finally:
        controller.stop()
