"""core.data.layout.table_of: where each item family of the one-table layout now lives
(tools/split_tables.py moves a deployed stack's items by it)."""

from __future__ import annotations

import pytest

from chalicelib.core.data import layout

P, ID = "pat-1", "x-1"


def marker(bucket: str | None) -> dict:
    return {**layout.orphan("some/object"), **({"gsi1pk": layout.orphans_index(bucket)} if bucket else {})}


MOVED = [
    (layout.activity_head(P), layout.HISTORY_TABLE),
    (layout.activity_event(P, 1), layout.HISTORY_TABLE),
    (layout.activity_event(P, 10**11), layout.HISTORY_TABLE),
    (layout.document(P, ID), layout.DOCUMENTS_TABLE),
    (layout.legacy_document(P, "1.2.250.1"), layout.DOCUMENTS_TABLE),
    (layout.document_pointer(ID), layout.DOCUMENTS_TABLE),
    (marker("documents"), layout.DOCUMENTS_TABLE),
    (layout.profile_entry(P, "allergies", ID), layout.PROFILE_TABLE),
    (layout.measurement(P, "weight", "2026-01-01T00:00:00Z", ID), layout.PROFILE_TABLE),
    (layout.measurement_pointer(P, ID), layout.PROFILE_TABLE),
    ({"pk": layout.patient(P), "sk": layout.agenda_sort_key("2026-01-01T09:00:00Z", ID)}, layout.AGENDA_TABLE),
    (layout.agenda_pointer(P, ID), layout.AGENDA_TABLE),
    (layout.participant(ID, "patient"), layout.MESSAGING_TABLE),
    (layout.message(ID, ID), layout.MESSAGING_TABLE),
    (marker("messages"), layout.MESSAGING_TABLE),
    (layout.mail_id("<a1@hopital.mssante.fr>"), layout.MESSAGING_TABLE),
    (layout.directory_entry("dr.martin@hopital.mssante.fr"), layout.DIRECTORY_TABLE),
    (layout.campaign(ID), layout.ENROLMENT_TABLE),
    (layout.campaign_counter(ID, 3), layout.ENROLMENT_TABLE),
    (layout.deferred_notice(P, "enrolment.invitation"), layout.ENROLMENT_TABLE),
    (layout.migration(ID), layout.MIGRATION_TABLE),
    (layout.migration_counter(ID, 7), layout.MIGRATION_TABLE),
    (layout.migration_reject(ID, "a/b.zip"), layout.MIGRATION_TABLE),
    (layout.migration_archive(ID, "a/b.zip"), layout.MIGRATION_TABLE),
    (layout.app(ID), layout.CATALOGUE_TABLE),
    (layout.connection(P, ID), layout.CATALOGUE_TABLE),
    (layout.app_connection(P, ID), layout.CATALOGUE_TABLE),
]
STAYING = [  # the access decision's inputs and the people's index: the spaces table's
    layout.account(P),
    layout.grant(P, "10000000009"),
    layout.block(P, "10000000009"),
    layout.emergency(P, "10000000009"),
    layout.guardian(P, ID),
    layout.ins_index("ab" * 32),
    layout.dependant(ID, P, "parent"),
    layout.guardianship(ID),
    marker(None),  # a marker of no known bucket is not guessed at
    {**layout.orphan("some/object"), "gsi1pk": "ORPHANS#elsewhere"},
]


@pytest.mark.parametrize(("key", "kind"), MOVED)
def test_a_module_family_goes_to_its_table(key, kind):
    assert layout.table_of(key) == kind


@pytest.mark.parametrize("key", STAYING)
def test_the_access_inputs_stay_in_the_spaces_table(key):
    assert layout.table_of(key) is None


def test_every_module_table_receives_a_family():
    assert {kind for _, kind in MOVED} == set(layout.MODULE_TABLES)
