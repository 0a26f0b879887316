"""FHIR export of a whole space (docs/api.md § Health profile: GET /v1/patients/{id}/export).

Patient only (policy kind ``export``). Reads: the space (one query, with the access decision),
the profile entries (one query), the measurements (one query, paged by 1 MB), the document
metadata (one query per 500): no scan, no document content — each DocumentReference links to
the content endpoint. Recorded as ``export.created``. The export asks documents and profile
through their narrow interfaces (``<module>/interface.py``), never their stores.
"""

from __future__ import annotations

from chalicelib.core import clock
from chalicelib.core.history import journal
from chalicelib.core.policy.decision import EXPORT, READ, Resource
from chalicelib.core.policy.gate import authorize
from chalicelib.core.security.auth import Principal
from chalicelib.documents import interface as documents
from chalicelib.export import fhir
from chalicelib.profile import interface as profile

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
    resources += [build.observation(item) for item in profile.measurements(patient_id)]
    # what the caller may read: documents still invisible to the patient stay out of the export
    resources += [build.document(item) for item in documents.readable_metadata(granted.actor, granted.space, now)]
    event = journal.record(patient_id, granted.actor_ref, "export.created", None)
    return fhir.bundle(fhir.resource_id("Bundle", event["event_id"]), clock.iso(now), resources)
