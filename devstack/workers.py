"""What Lambda event sources do in the cloud, done locally by polling.

``chalice local`` serves HTTP only; the timer queue (fed by the enrolment state machine), the legacy
import queue (fed by the legacy import state machine), the purge queues (fed by the purge topic) and
the schedules are driven from here by calling the very handlers the cloud would invoke (each
module's events.py); the table's stream is read as the signer's event source would, its filter
applied here (moto's streams know no filter).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from chalicelib.core import logs

POLL_SECONDS = 1.0
SCHEDULE_SECONDS = 60.0  # the deployed schedules are hourly; locally, every minute


def drain(queue_url: str, handle: Callable[[str], None], max_messages: int = 10) -> int:
    """Local stand-in for an SQS event source: handles and deletes what the queue holds."""
    from chalicelib.core.data import aws

    sqs = aws.client("sqs")
    handled = 0
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            return handled
        for message in messages:
            handle(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            handled += 1


def drain_timers() -> int:
    """The enrolment timer queue, as the OnTimer function would run it."""
    from chalicelib.core.settings import settings
    from chalicelib.enrolment import events

    return drain(settings().timers_queue_url, lambda body: events.dispatch(json.loads(body)))


def drain_imports() -> int:
    """The legacy import queue, as the documents module's import function would run it."""
    from chalicelib.core.settings import settings
    from chalicelib.documents import events

    return drain(settings().import_queue_url, lambda body: events.import_batch(json.loads(body)))


def _passes(record: dict, pattern: dict) -> bool:
    """An event source's filter pattern (the subset infra/functions.py uses): nested keys, each
    leaf a list of accepted values."""
    for key, accepted in pattern.items():
        value = record.get(key) if isinstance(record, dict) else None
        if isinstance(accepted, dict):
            if not _passes(value or {}, accepted):
                return False
        elif value not in accepted:
            return False
    return True


def drain_stream(positions: dict[str, str] | None = None) -> int:
    """The table's stream, as the signer's event source would read it: batches of its size, only
    the records its filter lets through, each batch handed to the handler. ``positions`` (shard ->
    last sequence number read) carries on from a previous drain; without it, from the start."""
    from chalicelib.activity import events
    from chalicelib.core.data import aws, layout
    from infra.functions import FUNCTIONS

    source = FUNCTIONS["SignHeads"].stream
    if source is None:
        raise ValueError("SignHeads has no stream to read")
    patterns = source.patterns
    streams = aws.client("dynamodbstreams")
    arn = aws.client("dynamodb").describe_table(TableName=aws.table(layout.HISTORY_TABLE).name)["Table"][
        "LatestStreamArn"
    ]
    positions = {} if positions is None else positions
    signed = 0
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        shard_id = shard["ShardId"]
        after = positions.get(shard_id)
        start = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
            if after
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, **start)["ShardIterator"]
        while True:
            records = streams.get_records(ShardIterator=iterator, Limit=events.BATCH_SIZE)
            if not records["Records"]:
                break
            positions[shard_id] = records["Records"][-1]["dynamodb"]["SequenceNumber"]
            batch = [r for r in records["Records"] if any(_passes(r, pattern) for pattern in patterns)]
            if batch:
                signed += events.sign_records(batch)
            iterator = records["NextShardIterator"]
    return signed


def _purging_modules() -> dict[str, Callable]:
    from chalicelib.agenda import events as agenda
    from chalicelib.catalogue import events as catalogue
    from chalicelib.documents import events as documents
    from chalicelib.messaging import events as messaging
    from chalicelib.profile import events as profile

    return {
        "documents": documents.purge_space,
        "messaging": messaging.purge_space,
        "profile": profile.purge_space,
        "agenda": agenda.purge_space,
        "catalogue": catalogue.purge_space,
    }


def drain_purges() -> int:
    """Every module's purge queue, as each module's purge function would run it."""
    from chalicelib.core.data import aws, purge

    sqs = aws.client("sqs")
    handled = 0
    for module, purge_space in _purging_modules().items():
        url = sqs.get_queue_url(QueueName=purge.queue_name(module))["QueueUrl"]

        def handle(body: str, purge_space: purge.Purge = purge_space) -> None:  # this module's, bound now
            purge.handle(body, purge_space)

        handled += drain(url, handle)
    return handled


def run_schedules() -> None:
    """Every module's hourly work, as its schedule function would run it."""
    from chalicelib.agenda import events as agenda
    from chalicelib.documents import events as documents
    from chalicelib.enrolment import events as enrolment
    from chalicelib.messaging import events as messaging

    for module in (documents, messaging, agenda, enrolment):
        module.scheduled_work()


def run_workers() -> None:
    next_schedule = 0.0
    stream_positions: dict[str, str] = {}
    while True:
        try:
            drain_stream(stream_positions)
            drain_timers()
            drain_imports()
            drain_purges()
            if time.monotonic() >= next_schedule:
                run_schedules()
                next_schedule = time.monotonic() + SCHEDULE_SECONDS
        except Exception:  # noqa: BLE001 - a local worker keeps polling; the error is logged
            logs.error("local worker failed", exc_info=True)
        time.sleep(POLL_SECONDS)
