"""An XDS uniqueId as FHIR's DocumentReference.masterIdentifier (docs/legacy-import.md)."""

import pytest

from chalicelib.documents.interface import master_identifier, unique_id_of

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


def test_a_uuid_urn_deposited_by_iti65_is_a_uri_too():
    value = "urn:uuid:6f1c1c52-6a51-4d6a-9a0e-3f4b8f9e2d10"
    assert master_identifier(value) == {"system": URI, "value": value}


@pytest.mark.parametrize(
    ("value", "unique_id"),
    [
        ("urn:oid:1.2.250.1.999.1", "1.2.250.1.999.1"),  # the OID alone, as the legacy import keeps it
        ("urn:oid:1.2.250.1.999^CR-1", "1.2.250.1.999^CR-1"),
        ("urn:uuid:6f1c1c52-6a51-4d6a-9a0e-3f4b8f9e2d10", "urn:uuid:6f1c1c52-6a51-4d6a-9a0e-3f4b8f9e2d10"),
        ("urn:oid:01.2", None),
        ("1.2.3", None),
        ("urn:uuid:6F1C1C52-6A51-4D6A-9A0E-3F4B8F9E2D10", None),  # RFC 4122 URNs are written lower case
    ],
)
def test_a_master_identifier_value_is_kept_as_its_unique_id(value, unique_id):
    assert unique_id_of(value) == unique_id
    if unique_id is not None:
        assert master_identifier(unique_id)["value"] == value  # and read back as given
