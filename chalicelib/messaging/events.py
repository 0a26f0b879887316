"""The messaging module's event handlers (each its own Lambda function, with this module's role):
the hourly sweep of interrupted writes, the purge requests of closed spaces, and MSSanté mail
(docs/api.md § MSSanté): SES's receipt rule writes the raw message into the inbound bucket, then
invokes ``messaging_inbound``; locally devstack/smtp_server.py does both, and asks the envelope's
checks before DATA."""

from __future__ import annotations

from chalice import Blueprint, Cron, Rate

from chalicelib.core.data import purge

blueprint = Blueprint(__name__)


def scheduled_work() -> None:
    from chalicelib.messaging import service

    service.CONTENT.sweep()


def purge_space(patient_id: str, actor) -> None:
    from chalicelib.messaging import service

    service.purge_space(patient_id, actor)


@blueprint.schedule(Rate(1, unit=Rate.HOURS))
def messaging_hourly(event) -> None:
    scheduled_work()


purge_messaging = purge.subscriber(blueprint, "messaging", purge_space)


def check_sender(address: str):
    from chalicelib.messaging import inbound

    return inbound.check_sender(address)


def check_recipient(address: str, accepted: int):
    from chalicelib.messaging import inbound

    return inbound.check_recipient(address, accepted)


def receive_mail(mail_id: str, mail_from: str, recipients: list[str]):
    """Locally: the reply is answered in SMTP, after DATA."""
    from chalicelib.messaging import inbound

    return inbound.receive(mail_id, mail_from, recipients)


SCAN_FAILED = "FAIL"


def received_by_ses(ses: dict) -> None:
    """Deployed: SES has answered 250 already, so a refusal reaches the sender as a delivery status
    notification (docs/api.md § MSSanté), unless SES's scan (the rule's ScanEnabled) found spam or
    a virus, or the sender's domain's DMARC policy says its From is forged: that message is dropped
    (a notification would go to the forged sender's real mailbox)."""
    from chalicelib.messaging import inbound

    mail, receipt = ses["mail"], ses["receipt"]
    verdicts = [receipt.get(name, {}).get("status") for name in ("spamVerdict", "virusVerdict", "dmarcVerdict")]
    inbound.receive(
        mail["messageId"], mail["source"], list(receipt["recipients"]), notify=True, scanned_out=SCAN_FAILED in verdicts
    )


@blueprint.lambda_function(name="messaging_inbound")
def messaging_inbound(event, context) -> dict:
    """SES's Lambda action (after its S3 action, same rule): each record's message delivered or
    refused. The reply is logged (codes only)."""
    for record in event.get("Records", []):
        received_by_ses(record["ses"])
    return {"disposition": "STOP_RULE_SET"}


def import_directory() -> None:
    from chalicelib.messaging import directory

    directory.import_latest()


@blueprint.schedule(Cron(0, 5, "*", "*", "?", "*"))  # 05:00 UTC, after annuaire.sante.fr's nightly extract
def messaging_directory_import(event) -> None:
    import_directory()
