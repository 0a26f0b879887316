"""An XDS uniqueId as FHIR's DocumentReference.masterIdentifier (docs/legacy-import.md)."""

import pytest

from chalicelib.documents.interface import master_identifier

URI = "urn:ietf:rfc:3986"


@pytest.mark.parametrize(
    ("unique_id", "identifier"),
    [
        ("1.2.250.1.213.1.1.9.42", {"system": URI, "value": "urn:oid:1.2.250.1.213.1.1.9.42"}),
        ("1.2.250.1.999^CR-2015-0042", {"system": URI, "value": "urn:oid:1.2.250.1.999^CR-2015-0042"}),  # kept whole
        ("2.25.0", {"system": URI, "value": "urn:oid:2.25.0"}),
        ("01.2.3", {"value": "01.2.3"}),  # a leading zero: no OID
        ("3.1.2", {"value": "3.1.2"}),  # no OID starts with 3
        ("DOC-42^1.2.3", {"value": "DOC-42^1.2.3"}),
        ("1.2.", {"value": "1.2."}),
    ],
)
def test_an_oid_becomes_its_urn_and_anything_else_its_value_alone(unique_id, identifier):
    assert master_identifier(unique_id) == identifier
