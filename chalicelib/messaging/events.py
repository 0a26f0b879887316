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
    from chalicelib.messaging import inbound

    return inbound.receive(mail_id, mail_from, recipients)


@blueprint.lambda_function(name="messaging_inbound")
def messaging_inbound(event, context) -> dict:
    """SES's Lambda action (after its S3 action, same rule): each record's message delivered or
    refused. The reply is logged (codes only); SES has accepted the message already, so a refusal
    reaches the sender as a bounce (docs/api.md § MSSanté)."""
    for record in event.get("Records", []):
        ses = record["ses"]
        receive_mail(ses["mail"]["messageId"], ses["mail"]["source"], list(ses["receipt"]["recipients"]))
    return {"disposition": "STOP_RULE_SET"}


def import_directory() -> None:
    from chalicelib.messaging import directory

    directory.import_latest()


@blueprint.schedule(Cron(0, 5, "*", "*", "?", "*"))  # 05:00 UTC, after annuaire.sante.fr's nightly extract
def messaging_directory_import(event) -> None:
    import_directory()
