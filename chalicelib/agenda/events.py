"""The agenda module's event handlers (each its own Lambda function, with this module's role):
the hourly reminders and the purge requests of closed spaces."""

from __future__ import annotations

from chalice import Blueprint, Rate

from chalicelib.core.data import purge

blueprint = Blueprint(__name__)


def scheduled_work() -> None:
    from chalicelib.agenda import service

    service.send_reminders()


def purge_space(patient_id: str, actor) -> None:
    from chalicelib.agenda import service

    service.purge_space(patient_id, actor)


@blueprint.schedule(Rate(1, unit=Rate.HOURS))
def agenda_hourly(event) -> None:
    scheduled_work()


purge_agenda = purge.subscriber(blueprint, "agenda", purge_space)
