"""Catalogue of referenced apps, and the connections (pairing) a patient grants them.

An app token (role ``app``: ``client_id`` = app_id, ``patient_id``, ``scope``) is honoured only
while the patient's connection to that app exists, the app is referenced, and the scope (token ∩
connection) covers the call: core.policy.gate actor_of reads the connection's guard and the app
(this module's table, strongly consistent) on every request of an app, so revocation and
withdrawal apply at once.
"""

from __future__ import annotations

from typing import Any

from chalicelib.catalogue import store
from chalicelib.catalogue.models import App, AppCreate, AppPage, AppQuery, Connection, ConnectionCreate, ConnectionPage
from chalicelib.core import clock
from chalicelib.core.data import purge
from chalicelib.core.errors import Conflict, InvalidRequest, NotFound, is_condition_failure
from chalicelib.core.history import journal
from chalicelib.core.http.pagination import PageQuery, decode_cursor, encode_cursor, scope
from chalicelib.core.ids import new_id
from chalicelib.core.models import ActorRef
from chalicelib.core.policy.decision import CONNECTION, CREATE, DELETE, READ, Resource
from chalicelib.core.policy.gate import authorize
from chalicelib.core.security.auth import Principal

CONNECTIONS = Resource(kind=CONNECTION)


def _app(item: dict) -> App:
    return App(
        app_id=item["app_id"],
        name=item["name"],
        publisher=item["publisher"],
        category=item["category"],
        description=item["description"],
        scopes=list(item["scopes"]),
        status=item["status"],
        referenced_at=item.get("referenced_at"),
    )


# --- catalogue ----------------------------------------------------------------------------------
def list_apps(query: AppQuery) -> AppPage:
    list_scope = scope("apps", None, category=query.category)
    items, last_key = store.listing(query.category, query.limit, decode_cursor(query.cursor, list_scope))
    return AppPage(
        items=[_app(item) for item in items if item.get("status") == store.REFERENCED],
        next_cursor=encode_cursor(last_key, list_scope),
    )


def get_app(app_id: str) -> App:
    item = store.get_app(app_id, consistent=False)
    if item is None or item["status"] != store.REFERENCED:
        raise NotFound("No such app in the catalogue.")
    return _app(item)


def add_app(request: AppCreate) -> App:
    item: dict[str, Any] = {
        "app_id": request.app_id or new_id("app"),
        "name": request.name,
        "publisher": request.publisher,
        "category": request.category,
        "description": request.description,
        "scopes": list(request.scopes),
        "status": store.REFERENCED,
        "referenced_at": clock.iso(clock.now()),
    }
    try:
        store.create_app(item)
    except Exception as error:
        if is_condition_failure(error):
            raise Conflict("An app with this app_id is already in the catalogue.") from None
        raise
    return _app(item)


def set_status(app_id: str, status: str) -> App:
    item = store.get_app(app_id)
    if item is None:
        raise NotFound("No such app in the catalogue.")
    if item["status"] == status:
        return _app(item)
    return _app(store.set_status(item, status, clock.iso(clock.now())))


# --- connections --------------------------------------------------------------------------------
def _connection(item: dict) -> Connection:
    return Connection(
        connection_id=item["connection_id"],
        app_id=item["app_id"],
        scopes=list(item["scopes"]),
        created_at=item["created_at"],
    )


def connect(principal: Principal, patient_id: str, request: ConnectionCreate) -> Connection:
    granted = authorize(principal, patient_id, CREATE, CONNECTIONS)
    app, connected = store.connected_app(patient_id, request.app_id)
    if app is None or app["status"] != store.REFERENCED:
        raise InvalidRequest(
            "This app is not in the catalogue.", [{"field": "app_id", "message": "No referenced app with this id."}]
        )
    extra = sorted(set(request.scopes) - set(app["scopes"]))
    if extra:
        raise InvalidRequest(
            "Grant the app only scopes it declares.",
            [
                {
                    "field": "scopes",
                    "message": (
                        f"Not declared by this app: {', '.join(extra)}. It declares: {', '.join(app['scopes'])}."
                    ),
                }
            ],
        )
    if connected is not None:
        raise Conflict("This app is already connected: revoke the connection first to change its scopes.")
    item: dict[str, Any] = {
        "connection_id": new_id("con"),
        "app_id": request.app_id,
        "scopes": list(request.scopes),
        "created_at": clock.iso(clock.now()),
    }
    try:
        journal.commit(
            patient_id,
            granted.actor_ref,
            "connection.created",
            item["connection_id"],
            writes=store.connect_items(patient_id, item),
        )
    except journal.StateChanged:
        raise Conflict("This app is already connected: revoke the connection first to change its scopes.") from None
    return _connection(item)


def list_connections(principal: Principal, patient_id: str, query: PageQuery) -> ConnectionPage:
    """The connections, oldest first (a handful per person: one query, sorted here)."""
    authorize(principal, patient_id, READ, CONNECTIONS)
    ordered = sorted(store.connections(patient_id), key=lambda c: (c["created_at"], c["sk"]))
    list_scope = scope("connections", principal, patient_id=patient_id)
    start_key = decode_cursor(query.cursor, list_scope)
    if start_key:
        ordered = [
            c
            for c in ordered
            if (c["created_at"], c["sk"]) > (start_key.get("created_at", ""), start_key.get("sk", ""))
        ]
    page, rest = ordered[: query.limit], ordered[query.limit :]
    last = page[-1] if rest else None
    cursor = encode_cursor({"sk": last["sk"], "created_at": last["created_at"]}, list_scope) if last else None
    return ConnectionPage(items=[_connection(c) for c in page], next_cursor=cursor)


def revoke(principal: Principal, patient_id: str, connection_id: str) -> None:
    granted = authorize(principal, patient_id, DELETE, CONNECTIONS)
    connection = store.get_connection(patient_id, connection_id)
    if connection is None:
        raise NotFound("No such connection.")
    try:
        journal.commit(
            patient_id,
            granted.actor_ref,
            "connection.revoked",
            connection_id,
            writes=store.revoke_items(patient_id, connection),
        )
    except journal.StateChanged:
        raise NotFound("No such connection.") from None


def purge_space(patient_id: str, actor: ActorRef) -> int:
    """Closure with immediate deletion: every connected app goes (their tokens stop at once)."""
    items = purge.space_items(patient_id, store.OWNED_PREFIXES, store.TABLE)
    purge.delete(items, store.TABLE)
    journal.record(patient_id, actor, "space.purged", f"connections: {len(items)} items")
    return len(items)
