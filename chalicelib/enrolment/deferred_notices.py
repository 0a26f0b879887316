"""Timer notices that could not be sent when their change was made, sent again by the schedule.

An invitation or a timer step changes a person's status, then tells them. When sending fails for
good (SES down after botocore's retries), failing the request or the step would not help: the
change is made, a retry skips the person, and the notice would be lost. It is recorded instead,
by template name and arguments, the arguments encrypted (an invitation's carry the provisional
code); never its text, never the contact: the account is read again when it is sent. The hourly
schedule sends it, unless the person's status has moved on since (a reminder after an
activation would only confuse).

A minor's notices go to each legal representative (core.notify.recipients): the record names
the ones (by their place in that list) whose notice failed, and only they get it again.

    pk = NOTICE#<patient_id>#<template>  sk = NOTICE   patient_id, template, args_sealed, deferred_at,
                                                       recipients? (indexes; none: every recipient)
        gsi1pk = NOTICES  gsi1sk = <deferred_at>       what the schedule queries
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from boto3.dynamodb.conditions import Key

from chalicelib.core import aws, clock, crypto, layout, logs
from chalicelib.enrolment import notices
from chalicelib.core.notify import notify, recipients
from chalicelib.core import spaces

PENDING = "NOTICES"
RESEND_AFTER = timedelta(minutes=15)
# template -> (its text, the status the person must still have for it to make sense)
TEMPLATES = {
    "enrolment.invitation": (notices.invitation, "invited"),
    "enrolment.reminder": (notices.reminder, "invited"),
    "enrolment.auto_created": (notices.auto_created, "auto_created"),
}


def _send(account: dict, template: str, args: tuple, only: list[int] | None = None) -> list[int]:
    """Sends the notice to the account's recipients (those at ``only``, if given); returns the
    places of those it could not be sent to."""
    text, _ = TEMPLATES[template]
    failed = []
    for index, recipient in enumerate(recipients(account, clock.now().date())):
        if only is not None and index not in only:
            continue
        try:
            notify(recipient, *text(*args, for_representative=recipient is not account), purpose=template)
        except Exception:  # noqa: BLE001 - any sending failure: the notice waits, the step goes on
            logs.error("notice deferred", purpose=template, patient_id=account["patient_id"], exc_info=True)
            failed.append(index)
    return failed


def send(account: dict, template: str, *args: str) -> None:
    """Sends the notice now or, when sending fails, records it for ``resend_due``."""
    failed = _send(account, template, args)
    if failed:
        at = clock.iso(clock.now())
        aws.table().put_item(
            Item={
                **_key(account["patient_id"], template),
                "patient_id": account["patient_id"],
                "template": template,
                "args_sealed": crypto.seal(json.dumps(args), _context(account["patient_id"], template)),
                "deferred_at": at,
                "recipients": failed,
                "gsi1pk": PENDING,
                "gsi1sk": at,
            }
        )


def resend_due(now: datetime | None = None) -> int:
    """Scheduled: sends the notices deferred more than RESEND_AFTER ago that still make sense."""
    cutoff = clock.iso((now or clock.now()) - RESEND_AFTER)
    due = aws.query_all(IndexName="gsi1", KeyConditionExpression=Key("gsi1pk").eq(PENDING) & Key("gsi1sk").lte(cutoff))
    sent = 0
    for item in due:
        _, status = TEMPLATES[item["template"]]
        account = spaces.get_account(item["patient_id"])
        if account is not None and account["status"] == status:
            args = json.loads(crypto.unseal(item["args_sealed"], _context(item["patient_id"], item["template"])))
            only = [int(index) for index in item["recipients"]] if "recipients" in item else None
            failed = _send(account, item["template"], tuple(args), only)
            if failed:  # still failing for them: stays, next hour
                aws.table().update_item(Key=_key(item["patient_id"], item["template"]), UpdateExpression="SET recipients = :r", ExpressionAttributeValues={":r": failed})
                continue
            sent += 1
        aws.table().delete_item(Key=_key(item["patient_id"], item["template"]))
    logs.info("deferred notices", sent=sent, dropped=len(due) - sent)
    return sent


def _context(patient_id: str, template: str) -> dict[str, str]:
    return {"purpose": "deferred_notice", "patient_id": patient_id, "template": template}


def _key(patient_id: str, template: str) -> dict:
    return layout.deferred_notice(patient_id, template)
