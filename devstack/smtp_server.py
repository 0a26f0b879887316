"""The patients' MSSanté mail exchanger, locally (docs/api.md § MSSanté): an aiosmtpd server on
127.0.0.1:``MES_SMTP_PORT`` (2525) standing for SES receiving.

Deployed, SES's receipt rule writes the raw message into the inbound bucket and invokes the
messaging module's inbound function (infra/mail.yaml). Here ``DATA`` does the same two steps, so
the local stack runs the production parsing and delivery, and its reply is the function's. The
envelope's checks are the same function's, asked at ``MAIL`` and ``RCPT`` (before ``DATA``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

SMTP_PORT = int(os.environ.get("MES_SMTP_PORT", "2525"))
# aiosmtpd's own log quotes every command line, RCPT TO included: the patient's address holds the
# INS (docs/api.md § MSSanté). Its lines are off; the messaging module logs the outcome, codes only.
logging.getLogger("mail.log").disabled = True
TRY_AGAIN = "451 4.3.0 Temporary failure: try again later"


def _limits() -> Any:
    from chalicelib.messaging import mail

    return mail


class _Server(SMTP):
    """aiosmtpd answers a size over the limit (RFC 1870 SIZE announced at MAIL, or counted during
    DATA) with "552 Error: ...": the contract's reply carries its enhanced status code."""

    async def push(self, status: Any) -> None:  # a str here (aiosmtpd types it AnyStr)
        if isinstance(status, str) and status.startswith("552 Error"):
            status = _limits().TOO_BIG.line
        await super().push(status)


async def _asked(work: Callable[[], Any]) -> Any:
    """The handler's work off the server's loop (boto3 blocks)."""
    return await asyncio.to_thread(work)


def deliver(raw: bytes, mail_from: str, recipients: list[str]) -> Any:
    """What SES's receipt rule does: the raw message into the inbound bucket (the rule's
    ObjectKeyPrefix, then an opaque id), then the inbound function on it."""
    from chalicelib.core.data import aws
    from chalicelib.core.settings import settings
    from chalicelib.messaging import events, inbound

    mail_id = uuid.uuid4().hex
    aws.client("s3").put_object(Bucket=settings().inbound_mail_bucket, Key=inbound.inbound_key(mail_id), Body=raw)
    return events.receive_mail(mail_id, mail_from, recipients)


class Handler:
    """aiosmtpd's hooks: each answers with the messaging module's reply, or ``TRY_AGAIN`` if it failed."""

    async def _reply(self, work: Callable[[], Awaitable[str]]) -> str:
        try:
            return await work()
        except Exception:  # noqa: BLE001 - a failure of ours: the sender keeps the mail and tries again
            from chalicelib.core import logs

            logs.error("local mail exchanger failed")
            return TRY_AGAIN

    async def handle_MAIL(self, server, session, envelope, address: str, mail_options: list[str]) -> str:
        async def work() -> str:
            from chalicelib.messaging import events

            refused = await _asked(lambda: events.check_sender(address))
            if refused:
                return refused.line
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
            return "250 2.1.0 Sender OK"

        return await self._reply(work)

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options: list[str]) -> str:
        async def work() -> str:
            from chalicelib.messaging import events

            refused = await _asked(lambda: events.check_recipient(address, len(envelope.rcpt_tos)))
            if refused:
                return refused.line
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
            return "250 2.1.5 Recipient OK"

        return await self._reply(work)

    async def handle_DATA(self, server, session, envelope) -> str:
        async def work() -> str:
            raw = envelope.original_content or b""
            reply = await _asked(lambda: deliver(raw, envelope.mail_from, list(envelope.rcpt_tos)))
            return str(reply.line)

        return await self._reply(work)


class MailExchanger(Controller):
    def __init__(self, port: int = SMTP_PORT, hostname: str = "127.0.0.1") -> None:
        super().__init__(
            Handler(),
            hostname=hostname,
            port=port,
            data_size_limit=_limits().MAX_MESSAGE_BYTES,
            ident="Mon espace sante MSSante (local)",
        )

    def factory(self) -> SMTP:
        return _Server(self.handler, **self.SMTP_kwargs)


def start(port: int = SMTP_PORT) -> MailExchanger:
    """Listening on ``port`` until ``stop()``."""
    server = MailExchanger(port)
    server.start()
    return server
