"""Legacy DMP import endpoints for migration operators (docs/api.md § Legacy DMP import)."""

from __future__ import annotations

from chalicelib.core.http.api import Call, Router, roles

router = Router(__name__, tag="migration")


def models():
    """The module's pydantic models: loaded with the first request, not at cold start."""
    from chalicelib.migration import models

    return models


def service():
    """The module's rules (and boto3 under them): loaded with the first request, not at cold start."""
    from chalicelib.migration import service

    return service


OPERATOR = roles("migration_operator", note="starts and follows migrations, never reads health data")


@router.route("/v1/migrations/source", "GET", access=OPERATOR, response=lambda: models().MigrationSource)
def source(call: Call):
    """The import bucket, where the legacy archives are put before a migration."""
    return service().source()


@router.route(
    "/v1/migrations",
    "POST",
    access=OPERATOR,
    body=lambda: models().MigrationStart,
    response=lambda: models().Migration,
    status=202,
)
def start(call: Call):
    """Starts importing every archive under a prefix of the import bucket (in the cloud, in parallel)."""
    return service().start(call.principal, call.body)


@router.route("/v1/migrations/{migration_id}", "GET", access=OPERATOR, response=lambda: models().MigrationProgress)
def progress(call: Call, migration_id: str):
    """A migration's status and counts."""
    return service().progress(migration_id)


@router.route(
    "/v1/migrations/{migration_id}/rejects",
    "GET",
    access=OPERATOR,
    query=lambda: models().RejectQuery,
    response=lambda: models().RejectPage,
)
def rejects(call: Call, migration_id: str):
    """The archives a migration refused, each with its reason."""
    return service().rejects(call.principal, migration_id, call.query)
