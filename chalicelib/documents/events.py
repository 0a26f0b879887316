"""The documents module's event handlers (each its own Lambda function, with this module's role):
the hourly schedule, the purge requests of closed spaces and the legacy DMP import queue (fed
by the legacy import state machine; locally devstack/workers.py drains it)."""

from __future__ import annotations

import json

from chalice import Blueprint, Rate

from chalicelib.core.data import purge
from chalicelib.core.settings import settings

blueprint = Blueprint(__name__)
IMPORT_QUEUE = settings().queue_name("legacy-import")


def scheduled_work() -> None:
    """Releases documents whose 30 days of invisibility are over; finishes interrupted writes."""
    from chalicelib.documents import service

    service.release_due()
    service.CONTENT.sweep()


def purge_space(patient_id: str, actor) -> None:
    from chalicelib.documents import service

    service.purge_space(patient_id, actor)


@blueprint.schedule(Rate(1, unit=Rate.HOURS))
def documents_hourly(event) -> None:
    scheduled_work()


purge_documents = purge.subscriber(blueprint, "documents", purge_space)


def import_batch(message: dict) -> None:
    """One batch of legacy DMP archives, as the state machine queued it (with its task token)."""
    from chalicelib.documents import legacy

    legacy.import_batch(message)


@blueprint.on_sqs_message(queue=IMPORT_QUEUE, batch_size=1)
def legacy_import(event) -> None:
    for record in event:
        import_batch(json.loads(record.body))
