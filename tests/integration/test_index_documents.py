"""tools/index_documents.py: a deployed stack's documents, written before the FHIR search indexes,
get their keys and show in FHIR searches; a second run sets nothing."""

from __future__ import annotations

from chalicelib.core.data import aws, layout
from chalicelib.core.settings import settings
from tests.integration import test_fhir as fhir_tests
from tests.integration.test_fhir import grant, search
from tests.integration.test_fhir_search import deposit
from tools import index_documents

person, doctor = fhir_tests.person, fhir_tests.doctor  # the FHIR tests' fixtures, here too


def test_documents_from_before_the_indexes_are_keyed_once(api, person, doctor, capsys):
    grant(api, person, 1)
    documents = deposit(api, person, doctor, 3)
    table = aws.table(layout.DOCUMENTS_TABLE)
    for document_id in documents[:2]:  # as a document deposited before the indexes was stored
        table.update_item(
            Key=layout.document(person["patient_id"], document_id),
            UpdateExpression="REMOVE gsi2pk, gsi2sk, gsi3pk, gsi3sk",
        )
    found = search(api, doctor, patient=person["patient_id"]).json_body
    assert [entry["resource"]["id"] for entry in found["entry"]] == [documents[2]]

    stage = ["--stage", settings().stage, "--region", "eu-west-3"]
    assert index_documents.main([*stage, "--dry-run"]) == 0
    assert "2 documents to key" in capsys.readouterr().out
    assert search(api, doctor, patient=person["patient_id"]).json_body["total"] == 1  # a dry run writes nothing
    assert index_documents.main(stage) == 0
    assert "2 documents keyed" in capsys.readouterr().out
    found = search(api, doctor, patient=person["patient_id"], type="11502-2").json_body  # by type too
    assert [entry["resource"]["id"] for entry in found["entry"]] == [documents[1]]
    assert search(api, doctor, patient=person["patient_id"]).json_body["total"] == 3
    assert index_documents.main(stage) == 0
    assert "0 documents keyed" in capsys.readouterr().out
