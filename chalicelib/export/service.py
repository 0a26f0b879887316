"""FHIR export of a whole space (API.md § Health profile: GET /v1/patients/{id}/export).

Patient only (policy kind ``export``). Reads: the space (one query, with the access decision),
the profile entries (one query), the measurements (one query, paged by 1 MB), the document
metadata (one query per 500): no scan, no document content — each DocumentReference links to
the content endpoint. Recorded as ``export.created``.
"""

from __future__ import annotations

from chalicelib.core.policy import EXPORT, READ, Resource, decide
from chalicelib.core.gate import authorize
from chalicelib.core import history
from chalicelib.core import clock
from chalicelib.core.auth import Principal
from chalicelib.documents import store as documents
from chalicelib.documents.service import as_resource
from chalicelib.export import fhir
from chalicelib.profile import store as profile

SECTION_BUILDERS = ("allergies", "treatments", "vaccinations", "conditions")


def export(principal: Principal, patient_id: str) -> dict:
    granted = authorize(principal, patient_id, READ, Resource(kind=EXPORT))
    now = clock.now()
    build = fhir.Builder(patient_id)
    today = now.date().isoformat()
    resources = [build.patient(granted.items.account)]
    by_section: dict[str, list[dict]] = {name: [] for name in SECTION_BUILDERS}
    for item in profile.entries(patient_id):
        by_section[item["section"]].append(item)
    resources += [build.allergy(item) for item in by_section["allergies"]]
    resources += [build.treatment(item, today) for item in by_section["treatments"]]
    resources += [build.vaccination(item) for item in by_section["vaccinations"]]
    resources += [build.condition(item) for item in by_section["conditions"]]
    resources += [build.observation(item) for item in profile.all_measurements(patient_id)]
    for item in sorted(documents.all_of(patient_id), key=lambda d: d["document_id"]):
        # what the patient sees: documents still invisible to them stay out of the export
        if decide(granted.actor, granted.space, READ, as_resource(item), now).allowed:
            resources.append(build.document(item))
    event = history.record(patient_id, granted.actor_ref, "export.created", None, head=granted.items.activity_head)
    return fhir.bundle(fhir.resource_id("Bundle", event["event_id"]), clock.iso(now), resources)
