"""AWS clients, created lazily and cached per process.

Chalice imports app.py when packaging and every cold start pays for each import, so nothing
here touches boto3 until a client is first asked for. ``reset()`` drops the cache (tests start
a fresh moto world per test). The endpoint comes from boto3's own ``AWS_ENDPOINT_URL``.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from chalicelib.core.memo import built_once
from chalicelib.core.settings import settings


@built_once
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=2, read_timeout=10)
    return boto3.session.Session().client(service, region_name=settings().region, config=config)


@built_once
def table() -> Any:
    """The DynamoDB table (resource API: plain Python values in and out)."""
    import boto3

    resource = boto3.session.Session().resource("dynamodb", region_name=settings().region)
    return resource.Table(settings().table_name)


def query_page(query: dict[str, Any], start_key: dict | None) -> tuple[list[dict], dict | None]:
    """One page of a table query from ``start_key``: its items and the key of the next page."""
    from botocore.exceptions import ClientError

    if start_key:
        query = {**query, "ExclusiveStartKey": start_key}
    try:
        result = table().query(**query)
    except ClientError as error:
        # DynamoDB refuses a start key outside the query's key range. Cursors only open on the
        # list and filters that wrote them (core.pagination), but a range may still move under
        # one (the agenda's "from" defaults to now): ask for a fresh first page.
        if start_key and error.response["Error"]["Code"] == "ValidationException":
            from chalicelib.core.pagination import foreign_cursor

            raise foreign_cursor() from None
        raise
    return result.get("Items", []), result.get("LastEvaluatedKey")


def query_all(**query: Any) -> list[dict]:
    """Every item a table query matches, page after page (DynamoDB answers 1 MB at a time)."""
    items: list[dict] = []
    while True:
        result = table().query(**query)
        items += result.get("Items", [])
        if "LastEvaluatedKey" not in result:
            return items
        query["ExclusiveStartKey"] = result["LastEvaluatedKey"]


def batch_get(keys: list[dict]) -> list[dict]:
    """The table items at ``keys`` (at most 100), strongly consistent, retrying what DynamoDB
    leaves unprocessed under load."""
    name = table().name
    request: dict[str, Any] = {name: {"Keys": keys, "ConsistentRead": True}}
    items: list[dict] = []
    for attempt in itertools.count():
        result = table().meta.client.batch_get_item(RequestItems=request)
        items += result.get("Responses", {}).get(name, [])
        request = result.get("UnprocessedKeys") or {}
        if not request:
            return items
        time.sleep(min(1.0, 0.05 * 2**attempt))


def reset() -> None:
    """Forgets every client and what was built on them (a new moto world in tests)."""
    from chalicelib.core import crypto, pseudonyms

    client.cache_clear()
    table.cache_clear()
    crypto.reset()
    pseudonyms.reset()
