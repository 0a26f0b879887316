"""The profile module's event handler (its own Lambda function, with this module's role): the purge
requests of closed spaces."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.core.data import purge

blueprint = Blueprint(__name__)


def purge_space(patient_id: str, actor) -> None:
    from chalicelib.profile import service

    service.purge_space(patient_id, actor)


purge_profile = purge.subscriber(blueprint, "profile", purge_space)
