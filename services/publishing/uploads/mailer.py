"""E-mail replies (邮件答复) over SMTP with aiosmtplib."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

import aiosmtplib

from services.publishing.settings import PublishingSettings


class EmailFailed(Exception):
    """The e-mail was not sent; `permanent` when trying again cannot help (address refused)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    """Sends one e-mail."""

    @property
    def configured(self) -> bool:
        """Whether there is a mail server to send through."""
        ...

    async def send(self, *, to: str, subject: str, body: str, message_id: str) -> None:
        """Send, or raise EmailFailed."""
        ...


def build_message(
    *, sender: str, to: str, subject: str, body: str, message_id: str
) -> EmailMessage:
    """A plain-text UTF-8 message; the Message-ID is stable so a resend can be recognised."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id
    message.set_content(body, charset="utf-8")
    return message


class SmtpMailer:
    """Sends through one SMTP server (settings `smtp_*`)."""

    def __init__(self, settings: PublishingSettings) -> None:
        self._host = settings.smtp_host
        self._port = settings.smtp_port
        self._sender = settings.smtp_from
        self._starttls = settings.smtp_starttls
        self._use_tls = settings.smtp_use_tls
        self._username = settings.smtp_username
        self._password = (
            settings.smtp_password.get_secret_value() if settings.smtp_password else None
        )
        self._timeout_s = settings.smtp_timeout_s

    @property
    def configured(self) -> bool:
        """Whether a host is set."""
        return self._host is not None

    async def send(self, *, to: str, subject: str, body: str, message_id: str) -> None:
        """Send one message; EmailFailed(permanent=True) when the server refuses the address."""
        if self._host is None:
            raise EmailFailed("no SMTP host configured", permanent=False)
        message = build_message(
            sender=self._sender, to=to, subject=subject, body=body, message_id=message_id
        )
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._use_tls,
                start_tls=self._starttls,
                timeout=self._timeout_s,
            )
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPRecipientRefused) as exc:
            raise EmailFailed(
                f"the mail server refused the address: {exc}", permanent=True
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx is the server's final word about this message; 4xx is "later".
            raise EmailFailed(
                f"SMTP {exc.code}: {exc.message}", permanent=500 <= exc.code < 600
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise EmailFailed(f"SMTP: {type(exc).__name__}: {exc}", permanent=False) from exc
