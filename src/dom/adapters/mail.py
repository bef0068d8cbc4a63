"""Customer messages out: over SMTP when a server is configured, else as .eml files in a
folder a person can open."""

from __future__ import annotations

import os
import smtplib
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

SMTP_TIMEOUT_SECONDS = 30


class Undeliverable(Exception):
    """The server refused the message for good (a 5xx reply): trying again will not help."""


class MailUnavailable(Exception):
    """The message could not be handed over now (connection, timeout, a 4xx reply)."""


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


def compose(
    sender: str, to: str, subject: str, body: str, event_id: str, event: str
) -> EmailMessage:
    """A plain-text message whose Message-ID comes from the event: a resent message is
    recognisably the same one."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{event_id}@dom>"
    message["X-Dom-Event-Id"] = event_id
    message["X-Dom-Event-Type"] = event
    message.set_content(body)
    return message


class SmtpMailer:
    """Hands messages to an SMTP server: smtp://[user:password@]host[:port] (smtps:// for TLS)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("DOM_SMTP_URL must look like smtp://host:port")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None

    def send(self, message: EmailMessage) -> None:
        try:
            with self._connect() as server:
                if self.user is not None:
                    server.login(self.user, self.password or "")
                server.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            raise Undeliverable(f"recipient refused: {list(error.recipients)}") from error
        except smtplib.SMTPResponseException as error:
            reply = f"{error.smtp_code} {error.smtp_error!r}"
            if error.smtp_code >= 500:
                raise Undeliverable(reply) from error
            raise MailUnavailable(reply) from error
        except (smtplib.SMTPException, OSError) as error:
            raise MailUnavailable(f"{type(error).__name__}: {error}") from error

    def _connect(self) -> smtplib.SMTP:
        if self.tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)
        return smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)


class FolderMailer:
    """Writes each message to <folder>/<event id>.eml; a resent message replaces its file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        event_id = str(message["X-Dom-Event-Id"])
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.folder / f"{event_id}.eml"
            partial = target.with_suffix(".eml.part")
            partial.write_bytes(message.as_bytes())
            os.replace(partial, target)
        except OSError as error:
            raise MailUnavailable(f"{type(error).__name__}: {error}") from error


def mailer_for(smtp_url: str | None, folder: Path) -> Mailer:
    """SMTP when a server is configured, else the mail folder."""
    if smtp_url:
        return SmtpMailer(smtp_url)
    return FolderMailer(folder)
