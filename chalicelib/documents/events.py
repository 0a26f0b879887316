"""The documents module's event handlers (each its own Lambda function, with this module's role):
the hourly schedule and the purge requests of closed spaces."""

from __future__ import annotations

from chalice import Blueprint, Rate

from chalicelib.core import purge

blueprint = Blueprint(__name__)


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
