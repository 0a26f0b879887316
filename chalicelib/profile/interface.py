"""What other modules may ask of the profile module, and nothing more: the export reads every
entry and measurement of a space (its caller's right to is decided by the export); the FHIR module
adds and searches measurements through the native API's own calls (the same access decision,
validation and history), and both say each kind in LOINC and UCUM as this module's table does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.profile import store
from chalicelib.profile.models import HEALTH_SECTIONS

if TYPE_CHECKING:
    from chalicelib.core.security.auth import Principal

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
# (kind, UCUM unit) -> its LOINC code and display, and its category (docs/api.md § FHIR for partners)
CODES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("weight", "kg"): ("29463-7", "Body weight", "vital-signs"),
    ("height", "cm"): ("8302-2", "Body height", "vital-signs"),
    ("heart_rate", "/min"): ("8867-4", "Heart rate", "vital-signs"),
    ("temperature", "Cel"): ("8310-5", "Body temperature", "vital-signs"),
    ("glucose", "g/L"): ("2339-0", "Glucose [Mass/volume] in Blood", "laboratory"),
    ("glucose", "mmol/L"): ("15074-8", "Glucose [Moles/volume] in Blood", "laboratory"),
    ("blood_pressure", "mm[Hg]"): ("85354-9", "Blood pressure panel with all children optional", "vital-signs"),
}
KIND_OF_CODE = {code: kind_unit for kind_unit, (code, _, _) in CODES.items()}
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


def quantity(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _concept(code: tuple[str, str]) -> dict:
    return {"text": code[1], "coding": [{"system": LOINC, "code": code[0], "display": code[1]}]}


def observation_parts(item: dict) -> dict:
    """A measurement's category, code and value (a blood pressure's two components) as the fields
    of a FHIR Observation: the export's and the FHIR interface's."""
    kind, unit = item["kind"], item["unit"]
    code, display, category = CODES[(kind, unit)]
    parts: dict[str, Any] = {
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": category}]}],
        "code": _concept((code, display)),
    }
    if kind == "blood_pressure":
        parts["component"] = [
            {"code": _concept(SYSTOLIC), "valueQuantity": quantity(item["value"]["systolic"], unit)},
            {"code": _concept(DIASTOLIC), "valueQuantity": quantity(item["value"]["diastolic"], unit)},
        ]
    else:
        parts["valueQuantity"] = quantity(item["value"], unit)
    return parts


def entries(patient_id: str) -> list[dict]:
    """Every allergy, treatment, vaccination and condition, by section then creation."""
    return [item for item in store.entries(patient_id) if item["section"] in HEALTH_SECTIONS]


def measurements(patient_id: str) -> list[dict]:
    """Every measurement, by kind then time."""
    return store.all_measurements(patient_id)


def measurement_request(fields: dict) -> Any:
    """A measurement's fields as the native API's request (models.MeasurementCreate); pydantic's
    ValidationError when they do not hold."""
    from chalicelib.profile.models import MeasurementCreate

    return MeasurementCreate.model_validate(fields)


def add_measurement(principal: Principal, patient_id: str, request: Any) -> Any:
    """``POST …/profile/measurements``: the one store, the one entry id (models.Measurement)."""
    from chalicelib.profile import service

    return service.add(principal, patient_id, "measurements", request)


def search_measurements(principal: Principal, patient_id: str, **filters: Any) -> Any:
    """A page of measurements (service.Search's filters): service.Found."""
    from chalicelib.profile import service

    return service.search(principal, patient_id, service.Search(**filters))
