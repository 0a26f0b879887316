"""Legacy DMP migrations (docs/api.md § Legacy DMP import; docs/domain.md § Legacy DMPs).

A migration is one execution of the legacy import state machine over a prefix of the import
bucket: the request only records it and starts the execution (named after it); the cloud lists
the archives and imports them in parallel (documents/legacy.py), and the state machine's last
step marks it done. Operators see counts and the reasons of rejects, never a document.
"""

from __future__ import annotations

from chalicelib.core import clock, logs
from chalicelib.core.errors import InvalidRequest, NotFound
from chalicelib.core.http.pagination import decode_cursor, encode_cursor, scope
from chalicelib.core.ids import new_sortable_id
from chalicelib.core.security.auth import Principal
from chalicelib.core.settings import settings
from chalicelib.migration import store
from chalicelib.migration.models import (
    Counts,
    Migration,
    MigrationProgress,
    MigrationSource,
    MigrationStart,
    ProblemDetail,
    Reject,
    RejectPage,
    RejectQuery,
)

COUNTS = tuple(Counts.model_fields)


def source() -> MigrationSource:
    return MigrationSource(bucket=settings().import_bucket)


def start(operator: Principal, request: MigrationStart) -> Migration:
    if not store.has_archives(request.prefix):
        raise InvalidRequest(
            "No archive under this prefix in the import bucket: put the archives there first (GET "
            "/v1/migrations/source).",
            [{"field": "prefix", "message": "Nothing under this prefix."}],
        )
    migration_id = new_sortable_id("mig")
    item = {
        "migration_id": migration_id,
        "prefix": request.prefix,
        "status": "running",
        "started_at": clock.iso(clock.now()),
        "started_by": operator.sub,
    }
    store.put(item)
    try:
        store.start_import(migration_id, request.prefix)
    except Exception:
        store.delete(migration_id)  # not started: leave nothing that says it runs
        raise
    logs.info("migration started", migration_id=migration_id)
    return Migration(**{name: item[name] for name in Migration.model_fields})


def _found(migration_id: str) -> dict:
    item = store.get(migration_id)
    if item is None:
        raise NotFound("No such migration.")
    return item


def progress(migration_id: str) -> MigrationProgress:
    item = _found(migration_id)
    totals = store.counts(migration_id)
    failure = item.get("failure")
    return MigrationProgress(
        migration_id=migration_id,
        prefix=item["prefix"],
        status=item["status"],
        started_at=item["started_at"],
        # Written by the state machine ($$.State.EnteredTime): brought to the API's format.
        finished_at=clock.iso(clock.parse_iso(item["finished_at"])) if item.get("finished_at") else None,
        counts=Counts(**{name: totals.get(name, 0) for name in COUNTS}),
        error=ProblemDetail(
            code="migration_failed",
            message=f"The import stopped ({failure}). What was imported stays: "
            "start a migration over the same prefix to finish, nothing is imported twice.",
        )
        if failure
        else None,
    )


def rejects(principal: Principal, migration_id: str, query: RejectQuery) -> RejectPage:
    _found(migration_id)
    list_scope = scope("migration.rejects", principal, migration_id=migration_id)
    start_key = decode_cursor(query.cursor, list_scope)
    items, last_key = store.rejects_page(migration_id, query.limit, start_key)
    return RejectPage(
        items=[Reject(archive=i["archive"], error=ProblemDetail(code=i["code"], message=i["message"])) for i in items],
        next_cursor=encode_cursor(last_key, list_scope),
    )
