"""Enrolment notices, recorded as pending with the change they tell of, sent, then cleared.

An invitation or a timer step changes a person's status, then tells them. The notice is recorded
as pending in the change's own transaction (``pending``), by template name and arguments, the
arguments encrypted (an invitation's carry the provisional code, of which the account keeps only
a keyed hash); never its text, never the contact: the account is read again when it is sent.
``send`` then sends it and clears the record. If the function dies in between (a timeout, a
crash), or sending fails for good (SES down after botocore's retries), the record stays: failing
the request or the step would not help (the change is made, a retry skips the person), and the
hourly schedule (``resend_due``) sends it, unless the person's status has moved on since (a
reminder after an activation would only confuse).

A caregiver's invitation (enrolment/caregivers.py) goes the same way: its "account" is the
invitation, read again from the adult's space when it is sent late, and it makes sense while
the invitation is still pending.

A minor's notices go to each legal representative (core.policy.notify.recipients): when some of them
failed, the record names those (by their place in that list), and only they get it again.
Their items: enrolment/store.py (§ Pending notices).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

from chalicelib.core import clock, logs
from chalicelib.core.data import spaces
from chalicelib.core.policy.notify import notify, recipients
from chalicelib.core.security import crypto
from chalicelib.enrolment import notices, store

# Longer than any function runs between its commit and its send (a timer step's Lambda: 15 min),
# so the schedule never sends a notice its change is still sending.
RESEND_AFTER = timedelta(minutes=15)
# One encryption context for every notice, so that the data key is cached (core.security.crypto) rather than
# asked of KMS for each person invited; the notice the arguments belong to is sealed with them.
SEALED = {"purpose": "deferred_notice"}
# template -> (its text, the status the person must still have for it to make sense)
TEMPLATES: dict[str, tuple[Callable[..., tuple[str, str]], str]] = {
    "enrolment.invitation": (notices.invitation, "invited"),
    "enrolment.reminder": (notices.reminder, "invited"),
    "enrolment.auto_created": (notices.auto_created, "auto_created"),
    "caregiver.invitation": (notices.caregiver_invitation, "invited"),
}
# template -> what it is about, read again by patient_id when it is sent late (else the account)
SUBJECTS: dict[str, Callable[[str], dict | None]] = {"caregiver.invitation": store.get_caregiver}


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


def pending(account: dict, template: str, *args: str) -> dict:
    """The transaction item recording the notice as pending: commit it with the change it tells of,
    then ``send`` it."""
    patient_id = account["patient_id"]
    sealed = crypto.seal(json.dumps({"patient_id": patient_id, "template": template, "args": args}), SEALED)
    return store.pending_notice_item(patient_id, template, sealed, clock.iso(clock.now()))


def send(account: dict, template: str, *args: str) -> None:
    """Sends the notice ``pending`` recorded, and clears the record but for those it could not be
    sent to (they get it from ``resend_due``)."""
    _settle(account["patient_id"], template, _send(account, template, args))


def resend_due(now: datetime | None = None) -> int:
    """Scheduled: sends the notices pending for more than RESEND_AFTER that still make sense."""
    cutoff = clock.iso((now or clock.now()) - RESEND_AFTER)
    due = store.notices_pending_since(cutoff)
    sent = 0
    for item in due:
        patient_id, template = item["patient_id"], item["template"]
        _, status = TEMPLATES[template]
        account = SUBJECTS.get(template, spaces.get_account)(patient_id)
        if account is None or account["status"] != status:
            _settle(patient_id, template, [])  # no longer makes sense
            continue
        args = _unseal_args(item)
        only = [int(index) for index in item["recipients"]] if "recipients" in item else None
        failed = _send(account, template, tuple(args), only)
        _settle(patient_id, template, failed)  # those still failing: next hour
        sent += not failed
    logs.info("deferred notices", sent=sent, dropped=len(due) - sent)
    return sent


def _settle(patient_id: str, template: str, failed: list[int]) -> None:
    """Clears a pending notice once sent; keeps it for the recipients it could not be sent to."""
    if failed:
        store.keep_notice_for(patient_id, template, failed)
    else:
        store.clear_notice(patient_id, template)


def _unseal_args(item: dict) -> list:
    sealed = json.loads(crypto.unseal(item["args_sealed"], SEALED))
    if (sealed["patient_id"], sealed["template"]) != (item["patient_id"], item["template"]):
        raise crypto.CannotDecrypt("the arguments belong to another notice")
    return sealed["args"]
