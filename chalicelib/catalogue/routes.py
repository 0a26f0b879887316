"""Catalogue and connected apps endpoints (docs/api.md § Catalogue and connected apps)."""

from __future__ import annotations

from chalicelib.core.http.api import PUBLIC, Call, Router, page_query, roles

router = Router(__name__, tag="catalogue")


def models():
    """The module's pydantic models: loaded with the first request, not at cold start."""
    from chalicelib.catalogue import models

    return models


def service():
    """The module's rules (and boto3 under them): loaded with the first request, not at cold start."""
    from chalicelib.catalogue import service

    return service


ADMIN = roles("catalogue_admin")
PATIENT = roles("patient", note="own space only")
CONNECTIONS = "/v1/patients/{patient_id}/connections"


@router.route(
    "/v1/catalogue/apps", "GET", access=PUBLIC, query=lambda: models().AppQuery, response=lambda: models().AppPage
)
def list_apps(call: Call):
    """The referenced apps, by category then name."""
    return service().list_apps(call.query)


@router.route("/v1/catalogue/apps/{app_id}", "GET", access=PUBLIC, response=lambda: models().App)
def get_app(call: Call, app_id: str):
    """A referenced app."""
    return service().get_app(app_id)


@router.route(
    "/v1/catalogue/apps",
    "POST",
    access=ADMIN,
    body=lambda: models().AppCreate,
    response=lambda: models().App,
    status=201,
)
def add_app(call: Call):
    """References an app in the catalogue."""
    return service().add_app(call.body)


@router.route(
    "/v1/catalogue/apps/{app_id}", "PATCH", access=ADMIN, body=lambda: models().AppPatch, response=lambda: models().App
)
def set_status(call: Call, app_id: str):
    """Withdraws an app (its tokens stop working at once) or references it again."""
    return service().set_status(app_id, call.body.status)


@router.route(
    CONNECTIONS,
    "POST",
    access=PATIENT,
    body=lambda: models().ConnectionCreate,
    response=lambda: models().Connection,
    status=201,
)
def connect(call: Call, patient_id: str):
    """Connects an app with a subset of its scopes."""
    return service().connect(call.principal, patient_id, call.body)


@router.route(CONNECTIONS, "GET", access=PATIENT, query=page_query, response=lambda: models().ConnectionPage)
def list_connections(call: Call, patient_id: str):
    """The apps connected to the space."""
    return service().list_connections(call.principal, patient_id, call.query)


@router.route(CONNECTIONS + "/{connection_id}", "DELETE", access=PATIENT, status=204)
def revoke(call: Call, patient_id: str, connection_id: str) -> None:
    """Revokes a connection: the app's tokens stop working at once."""
    service().revoke(call.principal, patient_id, connection_id)
