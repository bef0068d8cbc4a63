"""Settings come from DOM_* variables when asked for; JSON logs are one object per line."""

from __future__ import annotations

import json
import logging

import pytest
from pydantic import ValidationError

from dom.config import Settings
from dom.logs import JsonFormatter


def test_settings_are_read_from_dom_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOM_DATABASE_URL", "postgresql+psycopg://dom@db/dom")
    monkeypatch.setenv("DOM_PORT", "9001")
    monkeypatch.setenv("DOM_JSON_LOGS", "true")
    settings = Settings()
    assert (settings.database_url, settings.port, settings.json_logs) == (
        "postgresql+psycopg://dom@db/dom",
        9001,
        True,
    )


def test_the_default_database_is_a_sqlite_file_under_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOM_DATABASE_URL", raising=False)
    assert Settings().database_url == "sqlite:///./var/dom.sqlite3"


def test_a_bad_port_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOM_PORT", "70000")
    with pytest.raises(ValidationError):
        Settings()


def test_json_log_lines_carry_level_logger_and_message() -> None:
    record = logging.LogRecord(
        "dom.api", logging.WARNING, __file__, 1, "node %s paused", ("dc-1",), None
    )
    line = json.loads(JsonFormatter().format(record))
    assert (line["level"], line["logger"], line["message"]) == (
        "WARNING",
        "dom.api",
        "node dc-1 paused",
    )
    assert "time" in line
