"""FHIR R4 resources as plain dicts (no FHIR library at run time: the Lambda stays light).

Codes: the INS as Patient.identifier (system ``urn:oid:1.2.250.1.213.1.4.8``, FR Core type
INS-NIR), LOINC for observations and document types, UCUM for units, RPPS as the national
professional identifier (IdNatPS = "8" + RPPS, system ``urn:oid:1.2.250.1.71.4.2.1``).
"""

from __future__ import annotations

import uuid
from typing import Any

from chalicelib.core.policy import document_types
from chalicelib.core.security.identifiers import IDNATPS_SYSTEM, INS_SYSTEM
from chalicelib.documents import interface as documents
from chalicelib.profile import interface as profile

FR_CORE_V2_0203 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
ENTRY_ID_SYSTEM = "urn:mon-espace-sante:entry-id"
DOCUMENT_ID_SYSTEM = "urn:mon-espace-sante:document-id"
NAMESPACE = uuid.UUID("6f1c1c52-6a51-4d6a-9a0e-3f4b8f9e2d10")

SEVERITIES = {"mild", "moderate", "severe"}


def resource_id(kind: str, key: str) -> str:
    """A stable FHIR id (our ids hold '_', which FHIR ids do not allow)."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}/{key}"))


def _entry(resource: dict) -> dict:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def _concept(text: str, code: tuple[str, str] | None = None, system: str = document_types.LOINC) -> dict:
    concept: dict[str, Any] = {"text": text}
    if code:
        concept["coding"] = [{"system": system, "code": code[0], "display": code[1]}]
    return concept


def _identifier(system: str, value: str) -> list[dict]:
    return [{"system": system, "value": value}]


class Builder:
    """Turns one space's stored items into Bundle entries referencing its Patient."""

    def __init__(self, patient_id: str):
        self.patient_id = patient_id
        self.patient_url = f"urn:uuid:{resource_id('Patient', patient_id)}"

    def subject(self) -> dict:
        return {"reference": self.patient_url}

    def author(self, role: str, author_id: str) -> dict:
        if role == "patient":
            return self.subject()
        if role == "professional":
            return {"type": "Practitioner", "identifier": {"system": IDNATPS_SYSTEM, "value": f"8{author_id}"}}
        return {"display": f"{role} {author_id}"}

    # --- resources ------------------------------------------------------------------------------
    def patient(self, account: dict) -> dict:
        resource: dict[str, Any] = {
            "resourceType": "Patient",
            "id": resource_id("Patient", self.patient_id),
            "identifier": [
                {
                    "use": "official",
                    "type": {"coding": [{"system": FR_CORE_V2_0203, "code": "INS-NIR", "display": "NIR définitif"}]},
                    "system": INS_SYSTEM,
                    "value": account["ins"],
                }
            ],
        }
        name: dict[str, Any] = {"use": "official"}
        if account.get("family_name"):
            name["family"] = account["family_name"]
        if account.get("given_names"):
            name["given"] = account["given_names"].split()
        if len(name) > 1:
            resource["name"] = [name]
        gender = {"1": "male", "2": "female"}.get(str(account.get("ins", ""))[:1])
        if gender:
            resource["gender"] = gender
        if account.get("birth_date"):
            resource["birthDate"] = account["birth_date"]
        return resource

    def allergy(self, item: dict) -> dict:
        resource: dict[str, Any] = {
            "resourceType": "AllergyIntolerance",
            "id": resource_id("AllergyIntolerance", item["entry_id"]),
            "identifier": _identifier(ENTRY_ID_SYSTEM, item["entry_id"]),
            "code": _concept(item["substance"]),
            "patient": self.subject(),
            "recordedDate": item["recorded_at"],
            "recorder": self.author(item["author_role"], item["author_id"]),
        }
        if item.get("reaction") or item.get("severity"):
            reaction: dict[str, Any] = {"manifestation": [{"text": item.get("reaction") or "Réaction non précisée"}]}
            if item.get("severity") in SEVERITIES:
                reaction["severity"] = item["severity"]
            resource["reaction"] = [reaction]
        return resource

    def treatment(self, item: dict, today: str) -> dict:
        end, start = item.get("end_date"), item.get("start_date")
        status = "completed" if end and end < today else ("intended" if start and start > today else "active")
        resource: dict[str, Any] = {
            "resourceType": "MedicationStatement",
            "id": resource_id("MedicationStatement", item["entry_id"]),
            "identifier": _identifier(ENTRY_ID_SYSTEM, item["entry_id"]),
            "status": status,
            "medicationCodeableConcept": _concept(item["medication"]),
            "subject": self.subject(),
            "dateAsserted": item["recorded_at"],
            "informationSource": self.author(item["author_role"], item["author_id"]),
        }
        period = {k: v for k, v in (("start", start), ("end", end)) if v}
        if period:
            resource["effectivePeriod"] = period
        if item.get("dosage"):
            resource["dosage"] = [{"text": item["dosage"]}]
        return resource

    def vaccination(self, item: dict) -> dict:
        resource: dict[str, Any] = {
            "resourceType": "Immunization",
            "id": resource_id("Immunization", item["entry_id"]),
            "identifier": _identifier(ENTRY_ID_SYSTEM, item["entry_id"]),
            "status": "completed",
            "vaccineCode": _concept(item["vaccine"]),
            "patient": self.subject(),
            "occurrenceDateTime": item["date"],
            "recorded": item["recorded_at"],
            "primarySource": item["author_role"] == "professional",
        }
        if item.get("lot"):
            resource["lotNumber"] = item["lot"]
        return resource

    def condition(self, item: dict) -> dict:
        resource: dict[str, Any] = {
            "resourceType": "Condition",
            "id": resource_id("Condition", item["entry_id"]),
            "identifier": _identifier(ENTRY_ID_SYSTEM, item["entry_id"]),
            "code": _concept(item["label"]),
            "subject": self.subject(),
            "recordedDate": item["recorded_at"],
            "recorder": self.author(item["author_role"], item["author_id"]),
        }
        if item.get("status"):
            resource["clinicalStatus"] = {"coding": [{"system": CONDITION_CLINICAL, "code": item["status"]}]}
        if item.get("since"):
            resource["onsetDateTime"] = item["since"]
        return resource

    def observation(self, item: dict) -> dict:
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "id": resource_id("Observation", item["entry_id"]),
            "identifier": _identifier(ENTRY_ID_SYSTEM, item["entry_id"]),
            "status": "final",
            **profile.observation_parts(item),
            "subject": self.subject(),
            "effectiveDateTime": item["measured_at"],
            "issued": item["recorded_at"],
        }
        if item["author_role"] in ("patient", "professional"):
            resource["performer"] = [self.author(item["author_role"], item["author_id"])]
        if item.get("device") or item["author_role"] == "app":
            resource["device"] = {"display": item.get("device") or f"app {item['author_id']}"}
        return resource

    def document(self, item: dict) -> dict:
        code = document_types.code_of_item(item)  # the DMP's list, as the FHIR interface gives it
        attachment: dict[str, Any] = {
            "contentType": item["media_type"],
            "url": f"/v1/patients/{self.patient_id}/documents/{item['document_id']}/content",
            "size": int(item["size"]),
            "title": item["title"],
            "creation": item["date"],
        }
        resource = {
            "resourceType": "DocumentReference",
            "id": resource_id("DocumentReference", item["document_id"]),
            "identifier": _identifier(DOCUMENT_ID_SYSTEM, item["document_id"]),
            "status": "current",
            "type": _concept(
                item["type"], (code, document_types.DISPLAY.get(code, item["type"])), document_types.system_of(code)
            ),
            "subject": self.subject(),
            "date": item["created_at"],
            "author": [self.author(item["author_role"], item["author_id"])],
            "description": item["title"],
            "content": [{"attachment": attachment}],
        }
        if item.get("master_identifier"):
            resource["masterIdentifier"] = documents.master_identifier(
                item["master_identifier"]
            )  # as the FHIR interface gives it
        return resource


def bundle(bundle_id: str, timestamp: str, resources: list[dict]) -> dict:
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "type": "collection",
        "timestamp": timestamp,
        "entry": [_entry(resource) for resource in resources],
    }
