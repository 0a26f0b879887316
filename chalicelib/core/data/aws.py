"""AWS clients, created lazily and cached per process.

Chalice imports app.py when packaging and every cold start pays for each import, so nothing
here touches boto3 until a client is first asked for. ``memo.forget_all()`` drops what was built
(tests start a fresh moto world per test), but for ``CLIENTS``: they hold no data of a world, only
the region and the endpoint (boto3's own ``AWS_ENDPOINT_URL``), the same for a whole process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chalicelib.core.errors import foreign_cursor
from chalicelib.core.memo import built_once
from chalicelib.core.settings import settings


@built_once
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=2, read_timeout=10)
    return boto3.session.Session().client(service, region_name=settings().region, config=config)


@built_once
def _dynamodb() -> Any:
    """One DynamoDB resource (one session, one client) for every table: a cold start builds it once,
    and one transaction spans tables through its client."""
    import boto3

    resource = boto3.session.Session().resource("dynamodb", region_name=settings().region)
    _one_condition_at_a_time(resource)
    return resource


@built_once
def table(kind: str | None = None) -> Any:
    """A DynamoDB table (resource API: plain Python values in and out), shared by threads: the
    spaces table, or the table of a module's data (``kind``: core.data.layout's *_TABLE)."""
    return _dynamodb().Table(settings().table_name if kind is None else settings().module_table(kind))


CLIENTS = (client, _dynamodb)  # what memo.forget_all(keep=CLIENTS) keeps: see the docstring


def put_new(item: dict[str, Any], kind: str | None = None) -> dict[str, Any]:
    """A transaction item writing ``item`` unless an item with its key is there already."""
    return {"Put": {"TableName": table(kind).name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}


def _one_condition_at_a_time(resource: Any) -> None:
    """boto3 turns Key()/Attr() conditions into expressions with one placeholder counter per
    resource, reset by every call: two threads building at once mix their placeholders (DynamoDB
    then answers "Query condition missed key schema element"). A lock around that step, which
    takes microseconds, makes the table's actions safe from several threads."""
    import threading

    lock, inject = threading.Lock(), resource._injector.inject_condition_expressions
    event, name = "before-parameter-build.dynamodb", "dynamodb-condition-expression"

    def one_at_a_time(**kwargs: Any) -> None:
        with lock:
            inject(**kwargs)

    resource.meta.client.meta.events.unregister(event, unique_id=name)
    resource.meta.client.meta.events.register_first(event, one_at_a_time, unique_id=name)  # before the values are typed


def query_page(
    query: dict[str, Any], start_key: dict[str, Any] | None, kind: str | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of a table query from ``start_key``: its items and the key of the next page."""
    from botocore.exceptions import ClientError

    if start_key:
        query = {**query, "ExclusiveStartKey": start_key}
    try:
        result = table(kind).query(**query)
    except ClientError as error:
        # DynamoDB refuses a start key outside the query's key range. Cursors only open on the
        # list and filters that wrote them (core.http.pagination), but a range may still move under
        # one (the agenda's "from" defaults to now): ask for a fresh first page.
        if start_key and error.response["Error"]["Code"] == "ValidationException":
            raise foreign_cursor() from None
        raise
    return result.get("Items", []), result.get("LastEvaluatedKey")


def visible_page(
    query: dict[str, Any],
    start_key: dict[str, Any] | None,
    limit: int,
    keep: Callable[[dict[str, Any]], bool],
    key_names: tuple[str, ...] = ("pk", "sk"),
    kind: str | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Up to ``limit`` items of a query that ``keep`` accepts, from ``start_key`` on, and the start
    key of the next page: the key of the last item returned, and only when another accepted item
    follows. Pages and cursor depend on the accepted items alone, so the others (what this caller
    may not see) leave no trace: no short page, no cursor pointing at one of them. Reading one
    item past the page answers "is there more" in the same query when all are accepted."""
    kept: list[dict[str, Any]] = []
    while len(kept) <= limit:
        items, start_key = query_page({**query, "Limit": limit + 1}, start_key, kind)
        kept += [item for item in items if keep(item)]
        if not start_key:
            break
    if len(kept) <= limit:
        return kept, None
    page = kept[:limit]
    return page, {name: page[-1][name] for name in key_names}


def query_all(kind: str | None = None, **query: Any) -> list[dict[str, Any]]:
    """Every item a table query matches, page after page (DynamoDB answers 1 MB at a time)."""
    items: list[dict[str, Any]] = []
    while True:
        result = table(kind).query(**query)
        items += result.get("Items", [])
        if "LastEvaluatedKey" not in result:
            return items
        query["ExclusiveStartKey"] = result["LastEvaluatedKey"]


def batch_get(keys: list[dict[str, Any]], kind: str | None = None) -> list[dict[str, Any]]:
    """The items of one table at ``keys`` (at most 100), strongly consistent."""
    return batch_get_tables({kind: keys})[kind]


def batch_get_tables(keys: dict[str | None, list[dict[str, Any]]]) -> dict[str | None, list[dict[str, Any]]]:
    """The items at ``keys`` of each table (by kind; at most 100 keys in all) in one call,
    strongly consistent, retrying what DynamoDB leaves unprocessed under load."""
    kinds = {table(kind).name: kind for kind in keys}
    request: dict[str, Any] = {
        table(kind).name: {"Keys": wanted, "ConsistentRead": True} for kind, wanted in keys.items() if wanted
    }
    found: dict[str | None, list[dict[str, Any]]] = {kind: [] for kind in keys}
    attempt = 0
    while request:
        result = table().meta.client.batch_get_item(RequestItems=request)
        for name, items in result.get("Responses", {}).items():
            found[kinds[name]] += items
        request = result.get("UnprocessedKeys") or {}
        if request:
            time.sleep(min(1.0, 0.05 * 2**attempt))
            attempt += 1
    return found
