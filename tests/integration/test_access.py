"""Access settings, professional search and emergency access, through the API on moto."""

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.security.identifiers import rpps_check_digit
from devstack.outbox import sent
from tests.conftest import invitee, make_ins


def rpps(n: int) -> str:
    first10 = f"{1000000000 + n:010d}"
    return first10 + rpps_check_digit(first10)


DOC_A, DOC_B, DOC_C = rpps(1), rpps(2), rpps(3)


def later(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def pro(token):
    def mint(number: str = DOC_A, profession: str = "medecin") -> str:
        return token("professional", rpps=number, profession=profession)

    return mint


def access_path(patient_id: str, rest: str = "") -> str:
    return f"/v1/patients/{patient_id}/access{rest}"


def actions(api, patient_id: str, patient: str) -> list[tuple[str, str | None, str | None]]:
    events = api.get(f"/v1/patients/{patient_id}/activity?limit=200", token=patient).json_body["items"]
    return [(e["action"], e["actor"]["role"], e.get("resource")) for e in reversed(events)]


def search(api, token: str, person: dict):
    return api.post("/v1/patients/search", {"ins": person["ins"], "birth_date": person["birth_date"]}, token=token)


def test_settings_cycle_and_history(api, enrolment):
    patient_id, patient = enrolment.active_patient(1)
    initial = api.get(access_path(patient_id), token=patient)
    assert initial.status_code == 200
    assert initial.json_body == {
        "grants": [],
        "blocked": [],
        "treating_doctor": None,
        "emergency_access_allowed": True,
        "emergency_sessions": [],
        "regulation_access_allowed": True,
        "regulation_sessions": [],
    }

    granted = api.put(access_path(patient_id, f"/grants/{DOC_A}"), {}, token=patient)
    assert granted.status_code == 200
    assert set(granted.json_body) == {"rpps", "granted_at"} and granted.json_body["rpps"] == DOC_A
    until = later(days=30)
    limited = api.put(access_path(patient_id, f"/grants/{DOC_B}"), {"expires_at": until}, token=patient)
    assert limited.status_code == 200 and limited.json_body["expires_at"] == until
    grants = api.get(access_path(patient_id), token=patient).json_body["grants"]
    assert [(g["rpps"], g.get("expires_at")) for g in grants] == [(DOC_A, None), (DOC_B, until)]

    assert api.delete(access_path(patient_id, f"/grants/{DOC_A}"), token=patient).status_code == 204
    assert api.delete(access_path(patient_id, f"/grants/{DOC_A}"), token=patient).status_code == 204  # idempotent

    blocked = api.put(access_path(patient_id, f"/blocks/{DOC_B}"), token=patient)
    assert (
        blocked.status_code == 200
        and blocked.json_body["rpps"] == DOC_B
        and blocked.json_body["blocked_at"].endswith("Z")
    )
    again = api.put(access_path(patient_id, f"/blocks/{DOC_B}"), token=patient)
    assert again.json_body == blocked.json_body
    settings = api.get(access_path(patient_id), token=patient).json_body
    assert settings["grants"] == [] and settings["blocked"] == [blocked.json_body]
    refused = api.put(access_path(patient_id, f"/grants/{DOC_B}"), {}, token=patient)
    assert refused.status_code == 409 and refused.json_body["error"]["code"] == "conflict"
    assert api.put(access_path(patient_id, "/treating-doctor"), {"rpps": DOC_B}, token=patient).status_code == 409
    assert api.delete(access_path(patient_id, f"/blocks/{DOC_B}"), token=patient).status_code == 204
    assert api.delete(access_path(patient_id, f"/blocks/{DOC_B}"), token=patient).status_code == 204

    doctor = api.put(access_path(patient_id, "/treating-doctor"), {"rpps": DOC_C}, token=patient)
    assert doctor.status_code == 200 and doctor.json_body == {"rpps": DOC_C}
    assert api.get(access_path(patient_id), token=patient).json_body["treating_doctor"] == {"rpps": DOC_C}
    assert api.delete(access_path(patient_id, "/treating-doctor"), token=patient).status_code == 204
    assert api.get(access_path(patient_id), token=patient).json_body["treating_doctor"] is None

    opt_out = api.put(access_path(patient_id, "/emergency"), {"allowed": False}, token=patient)
    assert opt_out.status_code == 200 and opt_out.json_body == {"emergency_access_allowed": False}
    assert api.get(access_path(patient_id), token=patient).json_body["emergency_access_allowed"] is False

    history = [event for event in actions(api, patient_id, patient) if event[0].startswith("access.")]
    assert history == [
        ("access.granted", "patient", DOC_A),
        ("access.granted", "patient", DOC_B),
        ("access.revoked", "patient", DOC_A),
        ("access.blocked", "patient", DOC_B),
        ("access.unblocked", "patient", DOC_B),
        ("access.treating_doctor_set", "patient", DOC_C),
        ("access.treating_doctor_removed", "patient", DOC_C),
        ("access.emergency_setting", "patient", "refused"),
    ]
    assert api.get(f"/v1/patients/{patient_id}/activity/verify", token=patient).json_body["valid"] is True


def test_bad_input(api, enrolment):
    patient_id, patient = enrolment.active_patient(2)
    bad_path = api.put(access_path(patient_id, "/grants/10000000000"), {}, token=patient)
    assert bad_path.status_code == 400 and bad_path.json_body["error"]["code"] == "invalid_rpps"
    assert (
        api.delete(access_path(patient_id, "/blocks/123"), token=patient).json_body["error"]["code"] == "invalid_rpps"
    )
    bad_body = api.put(access_path(patient_id, "/treating-doctor"), {"rpps": "10000000000"}, token=patient)
    assert bad_body.status_code == 400 and bad_body.json_body["error"]["code"] == "invalid_rpps"
    past = api.put(access_path(patient_id, f"/grants/{DOC_A}"), {"expires_at": "2020-01-01T00:00:00Z"}, token=patient)
    assert past.status_code == 400 and past.json_body["error"]["details"][0]["field"] == "expires_at"
    extra = api.put(access_path(patient_id, "/emergency"), {"allowed": True, "x": 1}, token=patient)
    assert extra.status_code == 400 and extra.json_body["error"]["code"] == "invalid_request"


def test_professional_search(api, enrolment, pro):
    person = invitee(3)
    enrolment.invite(enrolment.campaign(), [person])
    assert search(api, pro(), person).status_code == 404  # invited: no space yet
    patient_id = enrolment.activate(person)
    patient = enrolment.patient_token(person)

    found = search(api, pro(), person)
    assert found.status_code == 200
    assert found.json_body == {
        "patient_id": patient_id,
        "status": "active",
        "can_read": False,
        "can_deposit": True,
        "minor": False,
        "caregiver": False,
    }
    api.put(access_path(patient_id, f"/grants/{DOC_A}"), {}, token=patient)
    assert search(api, pro(), person).json_body["can_read"] is True

    api.put(access_path(patient_id, f"/blocks/{DOC_A}"), token=patient)
    blocked = search(api, pro(), person)
    assert blocked.status_code == 403 and blocked.json_body["error"]["code"] == "forbidden"
    api.delete(access_path(patient_id, f"/blocks/{DOC_A}"), token=patient)
    assert search(api, pro(), person).json_body["can_read"] is False  # unblocking restores no grant

    unknown = search(api, pro(), {**person, "ins": make_ins(4242)})
    mismatch = search(api, pro(), {**person, "birth_date": "1990-01-01"})
    assert unknown.status_code == mismatch.status_code == 404
    assert unknown.json_body == mismatch.json_body
    assert search(api, pro(), {**person, "ins": "185057512345600"}).json_body["error"]["code"] == "invalid_ins"
    assert ("access.searched", "professional", None) in actions(api, patient_id, patient)

    api.post("/v1/me/close", {}, token=patient)
    assert search(api, pro(), person).json_body == unknown.json_body  # closed


def test_search_opposed_space_is_not_found(api, enrolment, pro):
    person = invitee(5)
    enrolment.invite(enrolment.campaign(), [person])
    answer = {"ins": person["ins"], "birth_date": person["birth_date"], "code": enrolment.code_of(person)}
    assert api.post("/v1/enrolment/oppose", answer).status_code == 200
    assert search(api, pro(), person).status_code == 404


def test_occupational_doctor_needs_a_grant(api, enrolment, pro):
    person = invitee(6)
    enrolment.invite(enrolment.campaign(), [person])
    patient_id = enrolment.activate(person)
    occupational = pro(DOC_B, "medecin_du_travail")
    assert search(api, occupational, person).status_code == 403
    api.put(access_path(patient_id, f"/grants/{DOC_B}"), {}, token=enrolment.patient_token(person))
    assert search(api, occupational, person).json_body["can_read"] is True
    refused = api.post(
        f"/v1/patients/{patient_id}/emergency-access",
        {"reason": "Patient inconscient aux urgences"},
        token=occupational,
    )
    assert refused.status_code == 403


def test_expired_grant_gives_no_access(api, enrolment, pro, app_clock):
    person = invitee(7)
    enrolment.invite(enrolment.campaign(), [person])
    patient_id = enrolment.activate(person)
    patient = enrolment.patient_token(person)
    expiry = later(seconds=2)
    assert (
        api.put(access_path(patient_id, f"/grants/{DOC_A}"), {"expires_at": expiry}, token=patient).status_code == 200
    )
    assert search(api, pro(), person).json_body["can_read"] is True
    app_clock.advance(seconds=3)
    assert search(api, pro(), person).json_body["can_read"] is False
    assert api.get(access_path(patient_id), token=patient).json_body["grants"] == []  # expired: not listed


def test_treating_doctor_reads_and_loses_it_when_blocked(api, enrolment, pro):
    person = invitee(8)
    enrolment.invite(enrolment.campaign(), [person])
    patient_id = enrolment.activate(person)
    patient = enrolment.patient_token(person)
    api.put(access_path(patient_id, "/treating-doctor"), {"rpps": DOC_C}, token=patient)
    assert search(api, pro(DOC_C), person).json_body["can_read"] is True
    assert api.get(f"/v1/patients/{patient_id}/activity", token=pro(DOC_C)).status_code == 200
    api.put(access_path(patient_id, f"/blocks/{DOC_C}"), token=patient)
    settings = api.get(access_path(patient_id), token=patient).json_body
    assert settings["treating_doctor"] is None and [b["rpps"] for b in settings["blocked"]] == [DOC_C]
    assert search(api, pro(DOC_C), person).status_code == 403


def test_emergency_access(api, enrolment, pro):
    person = invitee(9)
    enrolment.invite(enrolment.campaign(), [person])
    patient_id = enrolment.activate(person)
    patient = enrolment.patient_token(person)
    api.put(access_path(patient_id, "/treating-doctor"), {"rpps": DOC_C}, token=patient)
    path = f"/v1/patients/{patient_id}/emergency-access"

    short = api.post(path, {"reason": "urgence"}, token=pro())
    assert short.status_code == 400 and short.json_body["error"]["details"][0]["field"] == "reason"
    reason = "Patient inconscient, allergie suspectée"
    opened = api.post(path, {"reason": reason}, token=pro())
    assert opened.status_code == 200
    expires = datetime.fromisoformat(opened.json_body["expires_at"].replace("Z", "+00:00"))
    assert abs((expires - datetime.now(UTC)) - timedelta(hours=4)) < timedelta(minutes=1)
    assert search(api, pro(), person).json_body["can_read"] is True
    sessions = api.get(access_path(patient_id), token=patient).json_body["emergency_sessions"]
    assert [(s["rpps"], s["expires_at"]) for s in sessions] == [(DOC_A, opened.json_body["expires_at"])]

    # The reason is kept for audit, encrypted: not in the table in clear, readable with KMS.
    from chalicelib.access.service import emergency_reason_context
    from chalicelib.core.data import aws
    from chalicelib.core.security import crypto

    stored = aws.table().get_item(Key={"pk": f"PAT#{patient_id}", "sk": f"SPACE#EMERGENCY#{DOC_A}"})["Item"]
    assert reason not in repr(stored) and "Patient inconscient" not in repr(stored)
    context = emergency_reason_context(patient_id, stored)
    assert crypto.unseal(stored["reason_sealed"], context) == reason

    emails = [m for m in sent(to=person["email"]) if "urgence" in m["subject"]]
    assert len(emails) == 1
    text = emails[0]["subject"] + emails[0]["body"]
    for secret in (person["ins"], person["family_name"], person["given_names"], reason, DOC_A):
        assert secret not in text
    assert "historique" in text and datetime.now(UTC).strftime("%d/%m/%Y") in text

    history = [event for event in actions(api, patient_id, patient) if event[0].startswith("emergency")]
    assert history == [("emergency_access", "professional", DOC_A), ("emergency_access.notified", "system", DOC_C)]
    doctor_view = api.get(f"/v1/patients/{patient_id}/activity", token=pro(DOC_C)).json_body["items"]
    assert {"action": "emergency_access.notified", "resource": DOC_C} in [
        {"action": e["action"], "resource": e["resource"]} for e in doctor_view
    ]

    # Opting out ends the open session; allowing again does not revive it.
    api.put(access_path(patient_id, "/emergency"), {"allowed": False}, token=patient)
    assert search(api, pro(), person).json_body["can_read"] is False
    refused = api.post(path, {"reason": reason}, token=pro(DOC_B))
    assert refused.status_code == 403
    api.put(access_path(patient_id, "/emergency"), {"allowed": True}, token=patient)
    assert search(api, pro(), person).json_body["can_read"] is False

    api.put(access_path(patient_id, f"/blocks/{DOC_B}"), token=patient)
    assert api.post(path, {"reason": reason}, token=pro(DOC_B)).status_code == 403
    assert api.post("/v1/patients/pat_unknown/emergency-access", {"reason": reason}, token=pro()).status_code == 404
    assert api.post(path, {"reason": reason}, token=patient).status_code == 403


def test_blocking_ends_an_emergency_session(api, enrolment, pro):
    person = invitee(10)
    enrolment.invite(enrolment.campaign(), [person])
    patient_id = enrolment.activate(person)
    patient = enrolment.patient_token(person)
    api.post(f"/v1/patients/{patient_id}/emergency-access", {"reason": "Détresse respiratoire aiguë"}, token=pro())
    api.put(access_path(patient_id, f"/blocks/{DOC_A}"), token=patient)
    api.delete(access_path(patient_id, f"/blocks/{DOC_A}"), token=patient)
    assert search(api, pro(), person).json_body["can_read"] is False
    assert api.get(access_path(patient_id), token=patient).json_body["emergency_sessions"] == []


def test_insurer_and_other_patients_are_kept_out(api, enrolment, token, pro):
    patient_id, patient = enrolment.active_patient(11)
    _, stranger = enrolment.active_patient(12)
    insurer = token("insurer")
    calls = [
        ("post", "/v1/patients/search", {"ins": make_ins(11), "birth_date": "1985-03-14"}),
        ("get", access_path(patient_id), None),
        ("put", access_path(patient_id, f"/grants/{DOC_A}"), {}),
        ("delete", access_path(patient_id, f"/grants/{DOC_A}"), None),
        ("put", access_path(patient_id, f"/blocks/{DOC_A}"), None),
        ("delete", access_path(patient_id, f"/blocks/{DOC_A}"), None),
        ("put", access_path(patient_id, "/treating-doctor"), {"rpps": DOC_A}),
        ("delete", access_path(patient_id, "/treating-doctor"), None),
        ("put", access_path(patient_id, "/emergency"), {"allowed": False}),
        ("post", f"/v1/patients/{patient_id}/emergency-access", {"reason": "Patient inconscient"}),
    ]
    for method, path, body in calls:
        response = api.call(method.upper(), path, body, token=insurer)
        assert response.status_code == 403, (method, path)
        assert response.json_body["error"]["code"] == "forbidden"
    for method, path, body in calls[1:-1]:
        response = api.call(method.upper(), path, body, token=stranger)
        assert response.status_code == 404, (method, path)
    for method, path, body in calls[1:-1]:
        assert api.call(method.upper(), path, body, token=pro()).status_code == 403, (method, path)
    assert api.get(access_path(patient_id), token=patient).json_body["grants"] == []
