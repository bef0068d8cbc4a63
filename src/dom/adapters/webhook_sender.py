"""Webhook calls over HTTP with httpx: what the receiver answered, or why there was no answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Answer:
    """The receiver's status code, or the error that kept the call from getting one."""

    status_code: int | None
    error: str | None = None


def client(timeout_seconds: float) -> httpx.Client:
    """One client per round of deliveries: connections to a receiver are reused."""
    return httpx.Client(timeout=timeout_seconds, follow_redirects=False)


def post(session: httpx.Client, url: str, body: bytes, headers: Mapping[str, str]) -> Answer:
    """POST the raw body; timeouts and connection errors come back as an `Answer`."""
    try:
        response = session.post(url, content=body, headers=dict(headers))
    except httpx.TimeoutException as error:
        return Answer(None, f"timed out: {type(error).__name__}")
    except httpx.HTTPError as error:
        return Answer(None, f"{type(error).__name__}: {error}"[:500])
    return Answer(response.status_code, None if response.is_success else response.text[:200])
