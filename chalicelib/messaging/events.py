"""The messaging module's event handlers (each its own Lambda function, with this module's role):
the hourly sweep of interrupted writes and the purge requests of closed spaces."""

from __future__ import annotations

from chalice import Blueprint, Rate

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
