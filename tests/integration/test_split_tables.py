"""tools.split_tables on moto: a stack's data put back where the one-table layout kept it (every item
of the module tables moved into the spaces table, keys unchanged), then split again by the tool and
read back through the API."""

from __future__ import annotations

import base64
from typing import Any

import boto3
import pytest

from chalicelib.core.data import layout
from chalicelib.core.settings import settings
from tests.conftest import captured, invitee
from tests.integration.test_catalogue import add_app, connect, glucose
from tests.integration.test_legacy_import import put_archives, run
from tests.xdm_factory import rpps
from tools import split_tables
from tools.split_tables import ALREADY_THERE, COPIED, DELETED, DIFFERS, NO_COPY, STAYS, TO_COPY, Splitter, Stopped

DOCTOR = rpps(41)
ALLERGY = {"substance": "Pénicilline", "reaction": "Urticaire", "severity": "severe"}
MARKERS = {"documents": layout.DOCUMENTS_TABLE, "messages": layout.MESSAGING_TABLE}  # bucket -> its module's table


def _db() -> Any:
    return boto3.resource("dynamodb", region_name="eu-west-3")


def _spaces() -> Any:
    return _db().Table(settings().table_name)


def _module(kind: str) -> Any:
    return _db().Table(settings().module_table(kind))


def _all(table: Any) -> list[dict]:
    page = table.scan(ConsistentRead=True)
    items = page["Items"]
    while "LastEvaluatedKey" in page:
        page = table.scan(ConsistentRead=True, ExclusiveStartKey=page["LastEvaluatedKey"])
        items += page["Items"]
    return items


def _keys(items: list[dict]) -> set[tuple[str, str]]:
    return {(item["pk"], item["sk"]) for item in items}


def _splitter(**options: Any) -> Splitter:
    return Splitter(stage=settings().stage, region="eu-west-3", table=settings().table_name, progress=False, **options)


class Stack:
    """A space with data of every module, a campaign, a conversation and a migration, written through
    the API; what the API answers about them; then moved back into the spaces table."""

    def __init__(self, api, enrolment, token, tmp_path) -> None:
        self.api, self.state = api, tmp_path / "state.json"
        vars(self).update(captured(__name__, lambda: self._set_up(api, enrolment, token)))

    def _set_up(self, api, enrolment, token) -> dict[str, Any]:
        """The world of every module's data, through the API; what the tests read of it."""
        person = invitee(1)
        self.campaign_id = enrolment.campaign()
        enrolment.invite(self.campaign_id, [person])
        self.patient_id, self.patient = enrolment.activate(person), enrolment.patient_token(person)
        self.agent, self.operator = enrolment.agent, token("migration_operator")
        self.doctor = token("professional", rpps=DOCTOR, profession="medecin", name="Dr Martin")
        base = f"/v1/patients/{self.patient_id}"
        assert api.put(f"{base}/access/grants/{DOCTOR}", {}, token=self.patient).status_code == 200
        assert api.post(f"{base}/profile/allergies", ALLERGY, token=self.patient).status_code == 201
        self.app_id = add_app(api, token("catalogue_admin"))["app_id"]
        connect(api, self.patient_id, self.patient, self.app_id, ["measurements:write"])
        weight = {"kind": "weight", "value": 72.4, "unit": "kg", "measured_at": "2026-01-10T08:00:00Z"}
        assert api.post(f"{base}/profile/measurements", weight, token=self.patient).status_code == 201
        appointment = {"kind": "appointment", "title": "Cardiologie", "start": "2031-03-03T09:00:00Z"}
        assert api.post(f"{base}/agenda", appointment, token=self.patient).status_code == 201
        document = {
            "type": "consultation_report",
            "title": "Consultation du 3 mars",
            "date": "2026-03-03",
            "media_type": "application/pdf",
            "content_base64": base64.b64encode(b"%PDF-1.7\n%%EOF").decode(),
        }
        deposited = api.post(f"{base}/documents", document, token=self.doctor)
        assert deposited.status_code == 201, deposited.json_body
        self.document_id = deposited.json_body["document_id"]
        opened = api.post(
            "/v1/conversations", {"patient_id": self.patient_id, "subject": "s", "body": "b"}, token=self.doctor
        )
        assert opened.status_code == 201, opened.json_body
        self.conversation_id = opened.json_body["conversation_id"]
        entry = {"rpps": DOCTOR, "name": "Dr Martin", "profession": "medecin"}  # born in its own table
        directory = api.put("/v1/mssante/directory/dr.martin@hopital.mssante.fr", entry, token=token("directory_admin"))
        assert directory.status_code == 200, directory.json_body
        put_archives({"old/broken.zip": b"not an archive"})
        self.migration_id = run(api, self.operator, "old/")["migration_id"]
        self.reads = self.read()
        assert {status for status, _ in self.reads.values()} == {200}
        self.history = self.activity()
        self.tables = {kind: _all(_module(kind)) for kind in layout.MODULE_TABLES}
        self.kept = _all(_spaces())
        assert all(self.tables.values()) and all(layout.table_of(item) is None for item in self.kept)
        return {name: value for name, value in vars(self).items() if name not in ("api", "state")}

    def activity(self) -> tuple[Any, Any]:
        """The space's history and its verification (reading them appends no event)."""
        base = f"/v1/patients/{self.patient_id}/activity"
        listed, verified = (self.api.get(path, token=self.patient) for path in (base, f"{base}/verify"))
        assert listed.status_code == verified.status_code == 200
        return listed.json_body, verified.json_body

    def gone(self) -> bool:
        """The campaign and the migration, read through the API, are not found (reads outside a
        space: they append to no history)."""
        campaign = self.api.get(f"/v1/enrolment/campaigns/{self.campaign_id}", token=self.agent)
        migration = self.api.get(f"/v1/migrations/{self.migration_id}", token=self.operator)
        return campaign.status_code == migration.status_code == 404

    def read(self) -> dict[str, Any]:
        """What the API answers about every module's data (the reads of health data are recorded in
        the history: read it first)."""
        base = f"/v1/patients/{self.patient_id}"
        paths = {
            f"{base}/documents": self.patient,
            f"{base}/documents/{self.document_id}": self.patient,
            f"{base}/profile": self.patient,
            f"{base}/agenda?from=2030-01-01T00:00:00Z": self.patient,
            f"{base}/access": self.patient,
            f"{base}/connections": self.patient,
            f"/v1/conversations/{self.conversation_id}/messages": self.patient,
            f"/v1/enrolment/campaigns/{self.campaign_id}": self.agent,
            f"/v1/migrations/{self.migration_id}": self.operator,
        }
        answers = {path: self.api.get(path, token=who) for path, who in paths.items()}
        return {path: (answer.status_code, answer.json_body) for path, answer in answers.items()}

    def to_old_layout(self) -> None:
        """Every module table's items into the spaces table, as the one-table layout kept them,
        with a content marker of each bucket (left by a write that crashed)."""
        spaces = _spaces()
        for kind, items in self.tables.items():
            with spaces.batch_writer() as batch, _module(kind).batch_writer() as emptied:
                for item in items:
                    batch.put_item(Item=item)
                    emptied.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
        for bucket, kind in MARKERS.items():
            key = f"{bucket}/unfinished"
            marker = {**layout.orphan(key), "object_key": key, "gsi1pk": layout.orphans_index(bucket), "gsi1sk": "1"}
            spaces.put_item(Item=marker)
            self.tables[kind].append(marker)
        assert not any(_all(_module(kind)) for kind in layout.MODULE_TABLES)
        self.moved = sum(map(len, self.tables.values()))


@pytest.fixture
def stack(api, enrolment, token, tmp_path) -> Stack:
    return Stack(api, enrolment, token, tmp_path)


def _by_key(items: list[dict]) -> dict[tuple[str, str], dict]:
    return {(item["pk"], item["sk"]): item for item in items}


def _by_outcome(counts) -> dict[str, int]:
    totals: dict[str, int] = {}
    for (_, _, outcome), n in counts.items():
        totals[outcome] = totals.get(outcome, 0) + n
    return totals


def test_the_copy_puts_every_family_in_its_table_and_the_api_reads_it(stack, capsys):
    stack.to_old_layout()
    assert stack.gone()  # the new code reads only its tables
    assert split_tables.main(["--stage", settings().stage, "--state", str(stack.state), "--no-progress"]) == 0
    for kind, items in stack.tables.items():
        assert _by_key(_all(_module(kind))) == _by_key(items), kind
    assert not stack.gone()
    events = [item for item in stack.tables[layout.HISTORY_TABLE] if item["sk"].startswith(layout.ACTIVITY_PREFIX)]
    assert stack.activity() == stack.history and stack.history[1] == {
        "valid": True,
        "events": len(events),
        "signed": False,
    }
    assert stack.read() == stack.reads
    printed = capsys.readouterr().out
    for family in ("PAT#/DOC#", "PAT#/SPACE#ACTIVITY_HEAD", "CONV#/MSG#", "MIGRATION#/META", "CAMPAIGN#/COUNT#"):
        assert family in printed
    assert "ORPHAN#/CONTENT (ORPHANS#messages)" in printed and "INS#/INS" in printed
    assert stack.patient_id not in printed and stack.document_id not in printed and "Pénicilline" not in printed

    # Again, with a fresh state: nothing is copied twice, nothing the new code wrote is overwritten.
    assert (
        stack.api.post(f"/v1/patients/{stack.patient_id}/profile/allergies", ALLERGY, token=stack.patient).status_code
        == 201
    )
    profile = _by_key(_all(_module(layout.PROFILE_TABLE)))
    again = _by_outcome(_splitter(state_path=stack.state.with_name("again.json")).run())
    assert again == {ALREADY_THERE: stack.moved, STAYS: len(stack.kept)}
    assert _by_key(_all(_module(layout.PROFILE_TABLE))) == profile
    # The finished state file: a no-op that gives the first run's counts.
    assert _by_outcome(_splitter(state_path=stack.state).run()) == {COPIED: stack.moved, STAYS: len(stack.kept)}


def test_a_dry_run_counts_per_family_and_writes_nothing(stack):
    stack.to_old_layout()
    before = _all(_spaces())
    counts = _splitter(dry_run=True, state_path=stack.state).run()
    assert _by_outcome(counts) == {TO_COPY: stack.moved, STAYS: len(stack.kept)}
    per_table: dict[str, int] = {}
    for (_, table, _), n in counts.items():
        per_table[table] = per_table.get(table, 0) + n
    assert per_table == {split_tables.SPACES: len(stack.kept), **{k: len(v) for k, v in stack.tables.items()}}
    assert counts[("PAT#/ACT#", layout.HISTORY_TABLE, TO_COPY)] == len(
        [i for i in stack.tables[layout.HISTORY_TABLE] if i["sk"].startswith(layout.ACTIVITY_PREFIX)]
    )
    assert not stack.state.exists() and _by_key(_all(_spaces())) == _by_key(before)
    assert not any(_all(_module(kind)) for kind in layout.MODULE_TABLES)


def test_a_stopped_copy_resumes_after_its_last_page(stack, monkeypatch):
    stack.to_old_layout()
    copy, pages = Splitter._copy, []

    def crash_on_third_page(self, resource, items):
        pages.append(len(items))
        if len(pages) == 3:
            raise RuntimeError("the process dies")
        return copy(self, resource, items)

    monkeypatch.setattr(Splitter, "_copy", crash_on_third_page)
    with pytest.raises(Stopped):
        _splitter(segments=2, page_size=5, state_path=stack.state).run()
    assert any(_all(_module(kind)) for kind in layout.MODULE_TABLES)
    counts = _splitter(segments=2, page_size=5, state_path=stack.state).run()
    # Every item copied exactly once: the second run started after the pages the first one handled.
    assert _by_outcome(counts) == {COPIED: stack.moved, STAYS: len(stack.kept)}
    for kind, items in stack.tables.items():
        assert _by_key(_all(_module(kind))) == _by_key(items), kind
    with pytest.raises(split_tables.BadInput):
        _splitter(segments=3, page_size=5, state_path=stack.state).run()


def test_delete_moved_removes_only_identical_copies_and_keeps_the_access_inputs(stack):
    stack.to_old_layout()
    _splitter(state_path=stack.state).run()
    # One copy changed since, one gone: both stay in the spaces table.
    changed, gone = (layout.orphan(f"{bucket}/unfinished") for bucket in MARKERS)
    _module(MARKERS["documents"]).update_item(
        Key=changed, UpdateExpression="SET gsi1sk = :later", ExpressionAttributeValues={":later": "2"}
    )
    _module(MARKERS["messages"]).delete_item(Key=gone)
    deleting = stack.state.with_name("delete.json")
    preview = _splitter(delete_moved=True, dry_run=True, state_path=deleting).run()
    expected = {DIFFERS: 1, NO_COPY: 1, STAYS: len(stack.kept)}
    assert _by_outcome(preview) == {**expected, split_tables.TO_DELETE: stack.moved - 2}
    assert len(_all(_spaces())) == len(stack.kept) + stack.moved
    assert _by_outcome(_splitter(delete_moved=True, state_path=deleting).run()) == {
        **expected,
        DELETED: stack.moved - 2,
    }

    left = _by_key(_all(_spaces()))
    assert left == {**_by_key(stack.kept), **_by_key([_spaces().get_item(Key=key)["Item"] for key in (changed, gone)])}
    assert (layout.patient(stack.patient_id), layout.ACCOUNT) in left
    assert (layout.patient(stack.patient_id), f"{layout.GRANT_PREFIX}{DOCTOR}") in left
    assert any(pk.startswith("INS#") for pk, _ in left)
    assert stack.activity() == stack.history
    assert stack.read() == stack.reads


def test_an_apps_connection_guard_of_the_old_layout_gets_its_app_and_scopes(stack, token):
    """The one-table layout's guard (CONNAPP#) named its connection only; the gate now reads the
    guard alone, so the copy completes it from the connection: the app keeps its access."""
    app_token = token("app", client_id=stack.app_id, patient_id=stack.patient_id, scope="measurements:write")
    measurements = f"/v1/patients/{stack.patient_id}/profile/measurements"
    guard_key = layout.app_connection(stack.patient_id, stack.app_id)
    guard = _module(layout.CATALOGUE_TABLE).get_item(Key=guard_key)["Item"]
    assert {"app_id", "scopes"} <= set(guard)
    stack.to_old_layout()
    _spaces().update_item(Key=guard_key, UpdateExpression="REMOVE app_id, scopes")  # as the one table kept it
    assert stack.api.post(measurements, glucose(), token=app_token).status_code == 403  # nothing in its table

    _splitter(state_path=stack.state).run()
    assert _module(layout.CATALOGUE_TABLE).get_item(Key=guard_key)["Item"] == guard
    deleting = _splitter(delete_moved=True, dry_run=True, state_path=stack.state.with_name("delete.json")).run()
    assert DIFFERS not in _by_outcome(deleting) and NO_COPY not in _by_outcome(deleting)  # the guard as completed
    assert stack.api.post(measurements, glucose(), token=app_token).status_code == 201
