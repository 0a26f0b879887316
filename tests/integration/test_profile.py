"""Health profile and measurements through the API on moto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.security.identifiers import rpps_check_digit


def rpps(n: int) -> str:
    first = f"{2000000000 + n:010d}"
    return first + rpps_check_digit(first)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


NOW = datetime.now(UTC).replace(microsecond=0)


def ago(**delta) -> str:
    return iso(NOW - timedelta(**delta))


def grant(patient_id: str, number: str) -> None:
    """A grant written as the access module stores it (the access routes are another module's)."""
    from chalicelib.core.data import aws

    aws.table().put_item(
        Item={"pk": f"PAT#{patient_id}", "sk": f"SPACE#GRANT#{number}", "rpps": number, "granted_at": ago(days=1)}
    )


def actions(api, patient_id: str, patient: str) -> list[tuple[str, str, str | None]]:
    events = api.get(f"/v1/patients/{patient_id}/activity?limit=200", token=patient).json_body["items"]
    return [(e["action"], e["actor"]["role"], e.get("resource")) for e in reversed(events)]


@pytest.fixture
def space(enrolment, token):
    patient_id, patient = enrolment.active_patient()
    return patient_id, patient


def path(patient_id: str, rest: str = "") -> str:
    return f"/v1/patients/{patient_id}/profile{rest}"


def glucose(value=1.05, unit="g/L", measured_at=None, **extra) -> dict:
    return {"kind": "glucose", "value": value, "unit": unit, "measured_at": measured_at or ago(hours=1), **extra}


ENTRIES = {
    "allergies": {"substance": "Pénicilline", "reaction": "Urticaire", "severity": "moderate"},
    "treatments": {
        "medication": "Metformine 500 mg",
        "dosage": "1 cp matin et soir",
        "start_date": "2024-01-10",
        "end_date": "2026-12-31",
    },
    "vaccinations": {"vaccine": "DTP", "date": "2023-05-02", "lot": "AB123"},
    "conditions": {"label": "Diabète de type 2", "since": "2019-06-01", "status": "active"},
}


def test_patient_keeps_a_profile_and_deletes_entries(api, space):
    patient_id, patient = space
    created = {}
    for section, body in ENTRIES.items():
        response = api.post(path(patient_id, f"/{section}"), body, token=patient)
        assert response.status_code == 201, response.json_body
        entry = response.json_body
        assert entry["author"] == {"role": "patient", "id": patient_id}
        assert entry["entry_id"] and entry["recorded_at"].endswith("Z")
        assert {k: entry[k] for k in body} == body
        created[section] = entry
    bp = {
        "kind": "blood_pressure",
        "value": {"systolic": 128, "diastolic": 82},
        "unit": "mm[Hg]",
        "measured_at": ago(days=2),
    }
    assert api.post(path(patient_id, "/measurements"), bp, token=patient).status_code == 201
    for hours, value in ((5, 1.2), (1, 0.95)):
        assert (
            api.post(
                path(patient_id, "/measurements"), glucose(value, measured_at=ago(hours=hours)), token=patient
            ).status_code
            == 201
        )

    profile = api.get(path(patient_id), token=patient)
    assert profile.status_code == 200
    for section, entry in created.items():
        assert profile.json_body[section] == [entry]
    latest = {m["kind"]: m for m in profile.json_body["measurements"]}
    assert set(latest) == {"glucose", "blood_pressure"}
    assert latest["glucose"]["value"] == 0.95  # the latest of each kind
    assert latest["blood_pressure"]["value"] == {"systolic": 128, "diastolic": 82}

    allergy = created["allergies"]["entry_id"]
    assert api.delete(path(patient_id, f"/allergies/{allergy}"), token=patient).status_code == 204
    assert api.get(path(patient_id), token=patient).json_body["allergies"] == []
    again = api.delete(path(patient_id, f"/allergies/{allergy}"), token=patient)
    assert again.status_code == 404 and again.json_body["error"]["code"] == "not_found"
    assert api.delete(path(patient_id, f"/horoscope/{allergy}"), token=patient).status_code == 404

    history = actions(api, patient_id, patient)
    assert history.count(("profile.created", "patient", created["treatments"]["entry_id"])) == 1
    assert ("profile.deleted", "patient", allergy) in history
    assert [a for a, _, _ in history].count("measurement.created") == 3
    assert ("profile.read", "patient", "profile") in history


@pytest.mark.parametrize(
    ("section", "body", "field"),
    [
        ("measurements", glucose(unit="kg"), "unit"),
        ("measurements", glucose(unit="mg/dL"), "unit"),
        ("measurements", {**glucose(), "kind": "sugar"}, "kind"),
        ("measurements", glucose(value=42), "value"),
        ("measurements", glucose(value="1.0"), "value"),
        ("measurements", glucose(value=True), "value"),
        ("measurements", glucose(measured_at=iso(NOW + timedelta(days=1))), "measured_at"),
        ("measurements", glucose(device="x" * 201), "device"),
        ("measurements", glucose(colour="blue"), "colour"),
        ("measurements", {"kind": "weight", "value": 72, "unit": "lb", "measured_at": ago(hours=1)}, "unit"),
        ("measurements", {"kind": "weight", "value": 7200, "unit": "kg", "measured_at": ago(hours=1)}, "value"),
        ("measurements", {"kind": "heart_rate", "value": 72, "unit": "bpm", "measured_at": ago(hours=1)}, "unit"),
        ("measurements", {"kind": "temperature", "value": 98.6, "unit": "Cel", "measured_at": ago(hours=1)}, "value"),
        (
            "measurements",
            {"kind": "blood_pressure", "value": 120, "unit": "mm[Hg]", "measured_at": ago(hours=1)},
            "value",
        ),
        (
            "measurements",
            {
                "kind": "blood_pressure",
                "value": {"systolic": 70, "diastolic": 90},
                "unit": "mm[Hg]",
                "measured_at": ago(hours=1),
            },
            "value",
        ),
        (
            "measurements",
            {"kind": "blood_pressure", "value": {"systolic": 120}, "unit": "mm[Hg]", "measured_at": ago(hours=1)},
            "value",
        ),
        (
            "measurements",
            {
                "kind": "blood_pressure",
                "value": {"systolic": 120, "diastolic": 80},
                "unit": "mmHg",
                "measured_at": ago(hours=1),
            },
            "unit",
        ),
        ("vaccinations", {"vaccine": "DTP", "date": "2999-01-01"}, "date"),
        ("treatments", {"medication": "X", "start_date": "2024-05-01", "end_date": "2024-04-01"}, "end_date"),
        ("conditions", {"label": "Asthme", "since": "2999-01-01"}, "since"),
        ("conditions", {"label": "Asthme", "status": "cured"}, "status"),
        ("allergies", {"substance": "Arachide", "severity": "deadly"}, "severity"),
        ("allergies", {"substance": ""}, "substance"),
    ],
)
def test_invalid_entries_name_the_field(api, space, section, body, field):
    patient_id, patient = space
    response = api.post(path(patient_id, f"/{section}"), body, token=patient)
    assert response.status_code == 400, response.json_body
    error = response.json_body["error"]
    assert error["code"] == "invalid_request"
    assert field in {d["field"] for d in error["details"]}, error
    assert api.get(path(patient_id), token=patient).json_body["measurements"] == []


def test_time_series_by_kind_and_period_oldest_first(api, space):
    patient_id, patient = space
    pushed = {}
    for days, value in ((3, 1.10), (10, 0.90), (1, 1.30), (6, 1.00), (20, 0.80)):  # out of order
        response = api.post(
            path(patient_id, "/measurements"), glucose(value, measured_at=ago(days=days)), token=patient
        )
        assert response.status_code == 201
        pushed[days] = response.json_body
    weight = {"kind": "weight", "value": 71.5, "unit": "kg", "measured_at": ago(days=2)}
    assert api.post(path(patient_id, "/measurements"), weight, token=patient).status_code == 201

    series = api.get(path(patient_id, "/measurements?kind=glucose"), token=patient)
    assert series.status_code == 200
    assert [m["value"] for m in series.json_body["items"]] == [0.80, 0.90, 1.00, 1.10, 1.30]
    assert series.json_body["next_cursor"] is None

    window = api.get(
        path(patient_id, f"/measurements?kind=glucose&from={ago(days=10)}&to={ago(days=3)}"), token=patient
    )
    assert [m["value"] for m in window.json_body["items"]] == [0.90, 1.00, 1.10]  # bounds included
    since = api.get(path(patient_id, f"/measurements?kind=glucose&from={ago(days=5)}"), token=patient)
    assert [m["value"] for m in since.json_body["items"]] == [1.10, 1.30]

    weights = api.get(path(patient_id, "/measurements?kind=weight"), token=patient).json_body["items"]
    assert [(m["kind"], m["value"], m["unit"]) for m in weights] == [("weight", 71.5, "kg")]

    first = api.get(path(patient_id, "/measurements?kind=glucose&limit=2"), token=patient).json_body
    assert [m["value"] for m in first["items"]] == [0.80, 0.90] and first["next_cursor"]
    second = api.get(
        path(patient_id, f"/measurements?kind=glucose&limit=2&cursor={first['next_cursor']}"), token=patient
    ).json_body
    assert [m["value"] for m in second["items"]] == [1.00, 1.10]
    foreign = api.get(path(patient_id, f"/measurements?kind=weight&cursor={first['next_cursor']}"), token=patient)
    assert foreign.status_code == 400 and foreign.json_body["error"]["details"][0]["field"] == "cursor"

    every = api.get(path(patient_id, "/measurements"), token=patient).json_body  # no kind: all, by time
    assert [(m["kind"], m["value"]) for m in every["items"]] == [
        ("glucose", 0.80),
        ("glucose", 0.90),
        ("glucose", 1.00),
        ("glucose", 1.10),
        ("weight", 71.5),
        ("glucose", 1.30),
    ]
    page = api.get(path(patient_id, f"/measurements?from={ago(days=7)}&limit=2"), token=patient).json_body
    assert [m["value"] for m in page["items"]] == [1.00, 1.10]
    rest = api.get(
        path(patient_id, f"/measurements?from={ago(days=7)}&limit=2&cursor={page['next_cursor']}"), token=patient
    ).json_body
    assert [m["value"] for m in rest["items"]] == [71.5, 1.30]
    mixed = api.get(path(patient_id, f"/measurements?cursor={first['next_cursor']}"), token=patient)
    assert mixed.status_code == 400 and mixed.json_body["error"]["details"][0]["field"] == "cursor"
    glucose_first = api.get(path(patient_id, "/measurements?limit=1"), token=patient).json_body["next_cursor"]
    mixed = api.get(path(patient_id, f"/measurements?kind=glucose&cursor={glucose_first}"), token=patient)
    assert mixed.status_code == 400 and mixed.json_body["error"]["details"][0]["field"] == "cursor"

    for query, field in (
        ("?kind=sugar", "kind"),
        (f"?kind=glucose&from={ago(days=1)}&to={ago(days=2)}", "to"),
        ("?kind=glucose&from=yesterday", "from"),
    ):
        bad = api.get(path(patient_id, f"/measurements{query}"), token=patient)
        assert bad.status_code == 400 and field in {d["field"] for d in bad.json_body["error"]["details"]}, (
            query,
            bad.json_body,
        )

    gone = pushed[6]["entry_id"]
    assert api.delete(path(patient_id, f"/measurements/{gone}"), token=patient).status_code == 204
    after = api.get(path(patient_id, "/measurements?kind=glucose"), token=patient).json_body["items"]
    assert [m["value"] for m in after] == [0.80, 0.90, 1.10, 1.30]
    assert api.delete(path(patient_id, f"/measurements/{gone}"), token=patient).status_code == 404
    assert ("measurement.deleted", "patient", gone) in actions(api, patient_id, patient)


def test_series_is_a_query_never_a_scan(api, space, monkeypatch):
    from chalicelib.core.data import aws, layout

    patient_id, patient = space
    api.post(path(patient_id, "/measurements"), glucose(), token=patient)
    table, seen = aws.table(layout.PROFILE_TABLE), []
    query = table.query

    def scan(**kwargs):
        raise AssertionError("a measurement read must not scan")

    def spy(**kwargs):
        seen.append(kwargs)
        return query(**kwargs)

    monkeypatch.setattr(table, "scan", scan, raising=False)
    monkeypatch.setattr(table, "query", spy, raising=False)
    assert api.get(path(patient_id, "/measurements?kind=glucose"), token=patient).status_code == 200
    series = [q for q in seen if not isinstance(q["KeyConditionExpression"], str)]
    assert len(series) == 1 and "FilterExpression" not in series[0] and "IndexName" not in series[0]


def test_professionals_need_read_access(api, space, token):
    patient_id, patient = space
    stranger = token("professional", rpps=rpps(1), profession="medecin", name="Dr Inconnu")
    for method, rest, body in (
        ("POST", "/measurements", glucose()),
        ("POST", "/allergies", ENTRIES["allergies"]),
        ("GET", "", None),
        ("GET", "/measurements?kind=glucose", None),
    ):
        response = api.call(method, path(patient_id, rest), body, token=stranger)
        assert response.status_code == 403 and response.json_body["error"]["code"] == "forbidden", (method, rest)

    doctor_rpps = rpps(2)
    grant(patient_id, doctor_rpps)
    doctor = token("professional", rpps=doctor_rpps, profession="medecin", name="Dr Traitant")
    added = api.post(path(patient_id, "/conditions"), ENTRIES["conditions"], token=doctor)
    assert added.status_code == 201 and added.json_body["author"] == {"role": "professional", "id": doctor_rpps}
    measured = api.post(
        path(patient_id, "/measurements"),
        {"kind": "heart_rate", "value": 64, "unit": "/min", "measured_at": ago(minutes=5)},
        token=doctor,
    )
    assert measured.status_code == 201
    assert api.get(path(patient_id), token=doctor).json_body["conditions"][0]["entry_id"] == added.json_body["entry_id"]
    assert api.delete(path(patient_id, f"/conditions/{added.json_body['entry_id']}"), token=doctor).status_code == 403
    employer = token("employer")
    assert api.get(path(patient_id), token=employer).status_code == 403
    history = actions(api, patient_id, patient)
    assert ("profile.created", "professional", added.json_body["entry_id"]) in history
    assert ("profile.read", "professional", "profile") in history


def test_someone_elses_space_does_not_exist(api, space, enrolment):
    patient_id, _patient = space
    _, other = enrolment.active_patient(2)
    response = api.post(path(patient_id, "/measurements"), glucose(), token=other)
    assert response.status_code == 404
