"""The racing benchmarks' HTTP clients: one keep-alive connection each, on the standard
library's `http.client`.

The clients run on the same two cores as the server and the database, so what a client costs
is taken from the server. httpx spent 0.7-0.9 ms of CPU per request here; a plain keep-alive
connection about a fifth of that. The server sees the same requests either way.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Answer:
    status_code: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class LoadClient:
    """POSTs JSON to one server over one keep-alive connection (reopened if the server
    closes it); raises OSError or http.client.HTTPException when the connection fails."""

    def __init__(self, base: str, token: str, timeout: float = 120) -> None:
        parts = urlsplit(base)
        assert parts.hostname is not None and parts.port is not None, base
        self._connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def get(self, path: str) -> Answer:
        return self._send("GET", path, None)

    def post(self, path: str, body: Any) -> Answer:
        return self._send("POST", path, json.dumps(body).encode())

    def _send(self, method: str, path: str, body: bytes | None) -> Answer:
        self._connection.request(method, path, body=body, headers=self._headers)
        response = self._connection.getresponse()
        text = response.read().decode()
        if response.will_close:
            self._connection.close()  # the next request opens a new connection
        return Answer(response.status, text)

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> LoadClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


#: what a failed request raises
LoadError = (OSError, http.client.HTTPException)
