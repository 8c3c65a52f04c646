"""A loopback SMTP sink for the demo and the end-to-end tests: e-mail replies (邮件答复)
are really sent by the publishing service and kept here to be shown and checked.

Just enough of RFC 5321 for a well-behaved client (EHLO/HELO, MAIL, RCPT, DATA with
dot-unstuffing, RSET, NOOP, QUIT); no TLS, no authentication, loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

MAX_MESSAGE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the sink received it."""

    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        """The decoded subject."""
        return str(self.message["Subject"] or "")

    @property
    def body(self) -> str:
        """The decoded plain-text body."""
        part = self.message.get_body(preferencelist=("plain",))
        return "" if part is None else str(part.get_content())


@dataclass
class MailSink:
    """An SMTP server on 127.0.0.1 that keeps every message it is given."""

    messages: list[ReceivedMail] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    async def start(self, port: int = 0) -> int:
        """Listen (on a free port by default); the port."""
        self._server = await asyncio.start_server(self._session, "127.0.0.1", port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    def to(self, address: str) -> list[ReceivedMail]:
        """Messages addressed to `address`."""
        return [m for m in self.messages if address in m.recipients]

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        sender, recipients = "", list[str]()
        try:
            await say("220 mailbox-demo-sink ESMTP")
            while line := await reader.readline():
                verb, _, rest = line.decode("utf-8", "replace").strip().partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    await say("250-mailbox-demo-sink")
                    await say("250-8BITMIME")
                    await say(f"250 SIZE {MAX_MESSAGE_BYTES}")
                elif verb == "HELO":
                    await say("250 mailbox-demo-sink")
                elif verb == "MAIL":
                    sender, recipients = _address(rest), []
                    await say("250 OK")
                elif verb == "RCPT":
                    recipients.append(_address(rest))
                    await say("250 OK")
                elif verb == "DATA":
                    await say("354 end with <CRLF>.<CRLF>")
                    data = await _data(reader)
                    mail = message_from_bytes(data, policy=policy.default)
                    assert isinstance(mail, EmailMessage)
                    self.messages.append(ReceivedMail(sender, tuple(recipients), mail))
                    await say("250 OK queued")
                elif verb == "RSET":
                    sender, recipients = "", list[str]()
                    await say("250 OK")
                elif verb == "NOOP":
                    await say("250 OK")
                elif verb == "QUIT":
                    await say("221 bye")
                    break
                else:
                    await say("502 command not implemented")
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def _address(rest: str) -> str:
    """`FROM:<a@b>` or `TO:<a@b> SIZE=…` → `a@b`."""
    _, _, value = rest.partition(":")
    value = value.strip().split(" ")[0]
    return value.strip("<>")


async def _data(reader: asyncio.StreamReader) -> bytes:
    lines: list[bytes] = []
    size = 0
    while True:
        line = await reader.readline()
        if not line or line in (b".\r\n", b".\n"):
            return b"".join(lines)
        if line.startswith(b".."):
            line = line[1:]  # RFC 5321 §4.5.2 dot-stuffing
        size += len(line)
        if size > MAX_MESSAGE_BYTES:
            raise ConnectionError("message too large")
        lines.append(line)
