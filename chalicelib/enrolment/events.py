"""The enrolment module's event handlers (each its own Lambda function, with this module's role):
the timer queue (fed by the cohort state machine) and the hourly resending of deferred notices.

In the cloud Lambda event sources invoke these; locally the devstack's worker polls the same
queue and calls the same dispatch function (``chalice local`` serves HTTP only).
"""

from __future__ import annotations

import json
import time

from chalice import Blueprint, Rate

from chalicelib.core import logs
from chalicelib.core.data import aws
from chalicelib.core.settings import settings

blueprint = Blueprint(__name__)
TIMERS_QUEUE = settings().queue_name("timers")


# Time kept back from a Lambda's 15 minutes to finish the page in hand and hand over the rest.
HANDOVER_MARGIN_SECONDS = 60
SQS_BATCH = 10


def dispatch(message: dict, stop_at: float | None = None) -> None:
    """Runs one timer step. The state machine's message names a cohort: it becomes one message
    per shard, which Lambda runs in parallel. A shard too large to finish before ``stop_at``
    (monotonic clock) is handed over: the same message, with where to resume, goes back on the
    queue. Every write is conditional, so a message delivered twice changes nothing twice."""
    from chalicelib.enrolment import service as enrolment
    from chalicelib.enrolment.store import COHORT_SHARDS

    kind = message.get("kind")
    if kind not in ("enrolment.remind", "enrolment.deadline"):
        logs.warning("unknown timer message", kind=kind)
        return
    if "shard" not in message:
        _enqueue([{**message, "shard": shard} for shard in range(COHORT_SHARDS)])
        return
    step = enrolment.ShardStep(message["cohort_id"], int(message["shard"]), message.get("cursor"), stop_at)
    if kind == "enrolment.remind":
        progress = enrolment.remind_shard(step, message["remind_at"])
    else:
        progress = enrolment.auto_create_shard(step)
    if progress.cursor is not None:
        _enqueue([{**message, "cursor": progress.cursor}])
        logs.info("timer step handed over", kind=kind, cohort_id=step.cohort_id, shard=step.shard)


def _enqueue(messages: list[dict]) -> None:
    sqs, url = aws.client("sqs"), settings().timers_queue_url
    for start in range(0, len(messages), SQS_BATCH):
        entries = [
            {"Id": str(n), "MessageBody": json.dumps(m)} for n, m in enumerate(messages[start : start + SQS_BATCH])
        ]
        failed = sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed", [])
        if failed:  # the step fails and SQS delivers it again: the shards sent twice are harmless
            raise RuntimeError(f"{len(failed)} timer messages were not queued")


@blueprint.on_sqs_message(queue=TIMERS_QUEUE, batch_size=1)
def on_timer(event) -> None:
    stop_at = time.monotonic() + event.context.get_remaining_time_in_millis() / 1000 - HANDOVER_MARGIN_SECONDS
    for record in event:
        dispatch(json.loads(record.body), stop_at)


def scheduled_work() -> None:
    """Sends the notices that failed to send (SES down), if the person's status still matches."""
    from chalicelib.enrolment import deferred_notices

    deferred_notices.resend_due()


@blueprint.schedule(Rate(1, unit=Rate.HOURS))
def enrolment_hourly(event) -> None:
    scheduled_work()
