"""Catalogue and connected apps endpoints (API.md § Catalogue and connected apps)."""

from __future__ import annotations

from chalicelib.core.api import PUBLIC, Call, Router, lazy, roles

router = Router(__name__, tag="catalogue", models="chalicelib.catalogue.models")
service = lazy("chalicelib.catalogue.service")
ADMIN = roles("catalogue_admin")
PATIENT = roles("patient", note="own space only")
CONNECTIONS = "/v1/patients/{patient_id}/connections"


@router.route("/v1/catalogue/apps", "GET", access=PUBLIC, query="AppQuery", response="AppPage")
def list_apps(call: Call):
    """The referenced apps, by category then name."""
    return service.list_apps(call.query)


@router.route("/v1/catalogue/apps/{app_id}", "GET", access=PUBLIC, response="App")
def get_app(call: Call, app_id: str):
    """A referenced app."""
    return service.get_app(app_id)


@router.route("/v1/catalogue/apps", "POST", access=ADMIN, body="AppCreate", response="App", status=201)
def add_app(call: Call):
    """References an app in the catalogue."""
    return service.add_app(call.body)


@router.route("/v1/catalogue/apps/{app_id}", "PATCH", access=ADMIN, body="AppPatch", response="App")
def set_status(call: Call, app_id: str):
    """Withdraws an app (its tokens stop working at once) or references it again."""
    return service.set_status(app_id, call.body.status)


@router.route(CONNECTIONS, "POST", access=PATIENT, body="ConnectionCreate", response="Connection", status=201)
def connect(call: Call, patient_id: str):
    """Connects an app with a subset of its scopes."""
    return service.connect(call.principal, patient_id, call.body)


@router.route(CONNECTIONS, "GET", access=PATIENT, query="chalicelib.core.pagination:PageQuery", response="ConnectionPage")
def list_connections(call: Call, patient_id: str):
    """The apps connected to the space."""
    return service.list_connections(call.principal, patient_id, call.query)


@router.route(CONNECTIONS + "/{connection_id}", "DELETE", access=PATIENT, status=204)
def revoke(call: Call, patient_id: str, connection_id: str) -> None:
    """Revokes a connection: the app's tokens stop working at once."""
    service.revoke(call.principal, patient_id, connection_id)
