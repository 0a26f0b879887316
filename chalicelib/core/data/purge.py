"""Immediate deletion at closure, fanned out to the modules (``POST /v1/me/close {"delete_now": true}``).

The closure publishes one purge request on the stack's purge topic; each module that stores
something in a space subscribes its own queue (``mes-<stage>-purge-<module>``) and deletes what it
owns, in its own function with its own role: no function may delete another module's data.
Each deletion lands in the history. A request is honoured only for a closed space, and deleting
what is already gone changes nothing, so a request delivered twice is harmless.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from chalicelib.core import logs
from chalicelib.core.data import aws, layout, spaces
from chalicelib.core.settings import settings

Purge = Callable[[str, Any], None]  # (patient_id, actor: core.models.ActorRef)


def queue_name(module: str) -> str:
    """The module's subscription to the closure's topic (infra/template.yaml)."""
    return settings().queue_name(f"purge-{module}")


def request(patient_id: str, actor: Any) -> None:
    """Asks every module to delete what it stores in this (closed) space."""
    message = {"patient_id": patient_id, "actor": {"role": actor.role, "id": actor.id}}
    aws.client("sns").publish(TopicArn=settings().purge_topic_arn, Message=json.dumps(message))


def handle(body: str, purge: Purge) -> None:
    """One purge request, as its queue delivers it (an SNS notification, or the bare message)."""
    from chalicelib.core.models import ActorRef

    message = json.loads(body)
    if message.get("Type") == "Notification":
        message = json.loads(message["Message"])
    patient_id = message["patient_id"]
    account = spaces.get_account(patient_id)
    if account is None or account.get("status") != "closed":
        logs.warning("purge request ignored: the space is not closed")
        return
    purge(patient_id, ActorRef(**message["actor"]))


def subscriber(blueprint: Any, module: str, purge: Purge) -> Any:
    """Registers ``purge`` as ``module``'s handler of purge requests; assign the result to
    ``purge_<module>`` in the module's events.py (Lambda finds the handler by that name)."""

    def on_purge(event: Any) -> None:
        for record in event:
            handle(record.body, purge)

    on_purge.__name__ = f"purge_{module}"
    return blueprint.on_sqs_message(queue=queue_name(module), batch_size=1)(on_purge)


def space_items(patient_id: str, prefixes: Iterable[str], kind: str | None = None) -> list[dict[str, Any]]:
    """The keys of a space's items under these sort-key prefixes (one query each), in the table of
    ``kind`` (None: the spaces table)."""
    items: list[dict[str, Any]] = []
    for prefix in prefixes:
        items += aws.query_all(
            kind,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": layout.patient(patient_id), ":prefix": prefix},
            ProjectionExpression="pk, sk",
        )
    return items


def delete(keys: list[dict[str, Any]], kind: str | None = None) -> None:
    """Deletes the items at ``keys`` of the table of ``kind`` (None: the spaces table)."""
    with aws.table(kind).batch_writer() as batch:
        for key in keys:
            batch.delete_item(Key={"pk": key["pk"], "sk": key["sk"]})
