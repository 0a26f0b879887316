"""Every AWS call an integration test makes inside a function's work must be one that function's
role allows (infra/functions.py): a missing permission fails here, not in production."""

from __future__ import annotations

from functools import cache

import pytest
from moto.core import DEFAULT_ACCOUNT_ID

from tests.permissions import Recorder, allows, granted, needs, physical_names

HOURLY = ("enrolment", "documents", "messaging", "agenda")
EVENT_HANDLERS = {
    ("chalicelib.enrolment.events", "dispatch"): "OnTimer",
    ("chalicelib.documents.events", "import_batch"): "LegacyImport",
    ("chalicelib.activity.events", "sign_records"): "SignHeads",
    **{("chalicelib.messaging.events", work): "MessagingInbound" for work in ("check_sender", "check_recipient")},
    ("chalicelib.messaging.events", "receive_mail"): "MessagingInbound",
    ("chalicelib.messaging.events", "received_by_ses"): "MessagingInbound",
    ("chalicelib.messaging.events", "import_directory"): "MessagingDirectoryImport",
    **{(f"chalicelib.{module}.events", "scheduled_work"): f"{module.title()}Hourly" for module in HOURLY},
}


@cache
def local_world() -> tuple[dict[str, str], str]:
    """The provisioned resources' names (tests/conftest.py: stage local, moto's account) and the
    sender of the emails (the template's default SenderEmail)."""
    from infra.render import render

    return physical_names("local", DEFAULT_ACCOUNT_ID), render()["Parameters"]["SenderEmail"]["Default"]


@pytest.fixture(autouse=True)
def calls_within_roles(monkeypatch):
    from infra.functions import role_statements

    recorder = Recorder()
    recorder.install(monkeypatch, EVENT_HANDLERS)
    yield
    names, sender = local_world()
    roles: dict[str, set] = {}
    refused = set()
    for function, service, operation, params in recorder.calls:
        if function not in roles:  # once per function: a role's statements are rendered from infra/
            roles[function] = granted(role_statements(function))
        grants = roles[function]
        for need in needs(service, operation, params, names):
            if not allows(grants, need, sender):
                refused.add(f"{function}: {need.action} on {need.resource} {need.context or ''}")
    assert not refused, "calls the function's role would refuse:\n  " + "\n  ".join(sorted(refused))
