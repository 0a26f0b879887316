"""The emergency pathway through the API on moto (docs/domain.md § Emergency pathway, docs/api.md § Emergency
pathway): the patient's two choices, the SAMU regulators' access, the people to call and the trusted person, advance
directives, the emergency summary for each kind of reader."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.core import clock
from devstack.outbox import sent
from tests.conftest import captured, invitee
from tests.examples import examples
from tests.integration.test_access import DOC_A, DOC_B, DOC_C, access_path, actions
from tests.integration.test_documents import document
from tests.integration.test_families import Family
from tests.integration.test_fhir import provide, submitted

REASON = "Appel au 15 : douleur thoracique, patient confus"
CONTACT = {"name": "Claire Martin", "relationship": "fille", "phone": "06 12 34 56 78"}
TRUSTED = {"name": "Paul Martin", "phone": "+33 6 98 76 54 32", "email": "paul@example.test"}


@pytest.fixture
def regulator(token):
    """A professional's token; a SAMU regulator's when ``regulation`` is True."""

    def mint(number: str = DOC_A, profession: str = "medecin", **claims) -> str:
        return token("professional", rpps=number, profession=profession, **claims)

    return mint


class Space:
    def __init__(self, api, patient_id: str, patient: str):
        self.api, self.patient_id, self.patient = api, patient_id, patient
        self.base = f"/v1/patients/{patient_id}"

    def choose(self, which: str, allowed: bool):
        return self.api.put(access_path(self.patient_id, f"/{which}"), {"allowed": allowed}, token=self.patient)

    def settings(self) -> dict:
        return self.api.get(access_path(self.patient_id), token=self.patient).json_body

    def regulate(self, token: str, reason: str | None = REASON):
        return self.api.post(
            f"{self.base}/regulation-access", {} if reason is None else {"reason": reason}, token=token
        )

    def summary(self, token: str):
        return self.api.get(f"{self.base}/emergency-summary", token=token)

    def add(self, section: str, body: dict, token: str | None = None):
        return self.api.post(f"{self.base}/profile/{section}", body, token=token or self.patient)


@pytest.fixture
def person(enrolment) -> dict:
    person = invitee(60)
    captured((__name__, "invited"), lambda: enrolment.invite(enrolment.campaign(), [person]))
    return person


@pytest.fixture
def space(api, enrolment, person) -> Space:
    return Space(api, enrolment.activate(person), enrolment.patient_token(person))


# --- two choices -----------------------------------------------------------------------------------


def test_both_choices_allowed_by_default_each_changed_alone_and_in_the_history(api, space):
    first = space.settings()
    assert first["emergency_access_allowed"] is True and first["regulation_access_allowed"] is True
    refused = space.choose("regulation", False)
    assert refused.status_code == 200 and refused.json_body == {"regulation_access_allowed": False}
    now = space.settings()
    assert now["emergency_access_allowed"] is True and now["regulation_access_allowed"] is False
    assert space.choose("emergency", False).json_body == {"emergency_access_allowed": False}
    assert space.settings()["regulation_access_allowed"] is False
    assert space.choose("regulation", True).status_code == 200
    now = space.settings()
    assert now["emergency_access_allowed"] is False and now["regulation_access_allowed"] is True
    assert space.choose("regulation", True).status_code == 200  # already so: nothing recorded
    settings_events = [e for e in actions(api, space.patient_id, space.patient) if e[0].endswith("_setting")]
    assert settings_events == [
        ("access.regulation_setting", "patient", "refused"),
        ("access.emergency_setting", "patient", "refused"),
        ("access.regulation_setting", "patient", "allowed"),
    ]
    assert api.put(access_path(space.patient_id, "/regulation"), {"allowed": "no"}, token=space.patient).status_code
    assert api.put(access_path(space.patient_id, "/regulation"), {}, token=space.patient).status_code == 400


@settings(max_examples=examples(12), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.tuples(st.sampled_from(["emergency", "regulation"]), st.booleans()), max_size=4))
def test_changing_one_choice_leaves_the_other_as_it_was(space, changes):
    state = {name: space.settings()[f"{name}_access_allowed"] for name in ("emergency", "regulation")}
    for which, allowed in changes:
        assert space.choose(which, allowed).status_code == 200
        state[which] = allowed
        now = space.settings()
        assert {name: now[f"{name}_access_allowed"] for name in state} == state


# --- the regulators' access ------------------------------------------------------------------------


def test_regulator_opens_one_hour_of_read_access_the_patient_and_doctor_are_told(
    api, space, person, regulator, monkeypatch
):
    api.put(access_path(space.patient_id, "/treating-doctor"), {"rpps": DOC_C}, token=space.patient)
    space.add("allergies", {"substance": "Pénicilline", "severity": "severe"})
    samu = regulator(regulation=True)
    # without a grant a regulator token reads nothing
    assert api.get(f"{space.base}/profile", token=samu).status_code == 403
    assert space.summary(samu).status_code == 403

    short = space.regulate(samu, "urgence")
    assert short.status_code == 400 and short.json_body["error"]["details"][0]["field"] == "reason"
    assert space.regulate(samu, None).status_code == 400
    assert space.regulate(regulator()).status_code == 403  # no claim
    assert space.regulate(regulator(regulation=False)).status_code == 403
    assert space.regulate(regulator(DOC_B, "infirmier", regulation=True)).status_code == 403
    assert space.regulate(regulator(regulation="true")).status_code == 401  # a claim of the wrong type
    assert space.regulate(space.patient).status_code == 403
    assert api.post("/v1/patients/pat-unknown/regulation-access", {"reason": REASON}, token=samu).status_code == 404

    opened = space.regulate(samu)
    assert opened.status_code == 200 and set(opened.json_body) == {"expires_at"}
    [session] = space.settings()["regulation_sessions"]
    assert session["rpps"] == DOC_A and session["expires_at"] == opened.json_body["expires_at"]
    assert clock.parse_iso(session["expires_at"]) - clock.parse_iso(session["opened_at"]) == timedelta(hours=1)
    assert space.settings()["emergency_sessions"] == []

    # read access, not more: reads the record, adds nothing; the same RPPS without the claim reads nothing
    assert api.get(f"{space.base}/profile", token=samu).status_code == 200
    assert space.summary(samu).json_body["allergies"][0]["substance"] == "Pénicilline"
    assert space.add("allergies", {"substance": "Latex"}, samu).status_code == 403
    assert api.get(f"{space.base}/profile", token=regulator()).status_code == 403

    emails = [m for m in sent(to=person["email"]) if "SAMU" in m["subject"]]
    assert len(emails) == 1
    text = emails[0]["subject"] + emails[0]["body"]
    for secret in (person["ins"], person["family_name"], REASON, DOC_A):
        assert secret not in text
    history = [e for e in actions(api, space.patient_id, space.patient) if e[0].startswith("regulation_access")]
    assert history == [("regulation_access", "professional", DOC_A), ("regulation_access.notified", "system", DOC_C)]

    # it ends by the clock, one hour after it opened
    end = clock.parse_iso(opened.json_body["expires_at"])
    monkeypatch.setattr(clock, "now", lambda: end - timedelta(seconds=1))
    assert api.get(f"{space.base}/profile", token=samu).status_code == 200
    monkeypatch.setattr(clock, "now", lambda: end)
    assert api.get(f"{space.base}/profile", token=samu).status_code == 403
    assert space.summary(samu).status_code == 403


def test_opposing_one_emergency_never_changes_the_other(api, space, regulator):
    samu, doctor = regulator(regulation=True), regulator(DOC_B)
    assert space.regulate(samu).status_code == 200
    assert space.choose("regulation", False).status_code == 200
    # the regulator's session ends at once, a new one is refused; break-glass stays open to all
    assert api.get(f"{space.base}/profile", token=samu).status_code == 403
    assert space.regulate(samu).status_code == 403
    assert space.settings()["regulation_sessions"] == []
    glass = api.post(f"{space.base}/emergency-access", {"reason": REASON}, token=doctor)
    assert glass.status_code == 200
    assert api.get(f"{space.base}/profile", token=doctor).status_code == 200

    assert space.choose("regulation", True).status_code == 200
    assert api.get(f"{space.base}/profile", token=samu).status_code == 403  # not revived
    assert space.choose("emergency", False).status_code == 200
    assert api.get(f"{space.base}/profile", token=doctor).status_code == 403
    assert space.regulate(samu).status_code == 200  # opposing break-glass leaves the regulators theirs
    assert api.get(f"{space.base}/profile", token=samu).status_code == 200
    # a block ends a regulator's session too
    api.put(access_path(space.patient_id, f"/blocks/{DOC_A}"), token=space.patient)
    assert space.settings()["regulation_sessions"] == []
    assert space.regulate(samu).status_code == 403


# --- the people to call and the trusted person ------------------------------------------------------


def test_emergency_contacts_and_one_trusted_person(api, space):
    contact = space.add("emergency_contacts", CONTACT)
    assert contact.status_code == 201 and {k: contact.json_body[k] for k in CONTACT} == CONTACT
    assert space.add("emergency_contacts", {**CONTACT, "name": "Luc"}).status_code == 201
    trusted = space.add("trusted_person", TRUSTED)
    assert trusted.status_code == 201
    second = space.add("trusted_person", {"name": "Jeanne Petit"})
    assert second.status_code == 409 and second.json_body["error"]["code"] == "conflict"

    profile = api.get(f"{space.base}/profile", token=space.patient).json_body
    assert [c["name"] for c in profile["emergency_contacts"]] == ["Claire Martin", "Luc"]
    assert {k: profile["trusted_person"][k] for k in TRUSTED} == TRUSTED

    # deleted like the other sections; then another may be named
    wrong = api.delete(f"{space.base}/profile/trusted_person/tru-unknown", token=space.patient)
    assert wrong.status_code == 404
    path = f"{space.base}/profile/trusted_person/{trusted.json_body['entry_id']}"
    assert api.delete(path, token=space.patient).status_code == 204
    assert api.get(f"{space.base}/profile", token=space.patient).json_body["trusted_person"] is None
    assert space.add("trusted_person", {"name": "Jeanne Petit"}).status_code == 201
    contact_path = f"{space.base}/profile/emergency_contacts/{contact.json_body['entry_id']}"
    assert api.delete(contact_path, token=space.patient).status_code == 204
    assert [c["name"] for c in space.summary(space.patient).json_body["emergency_contacts"]] == ["Luc"]
    created = [
        e for e in actions(api, space.patient_id, space.patient) if e[0] in ("profile.created", "profile.deleted")
    ]
    assert [e[0] for e in created] == ["profile.created"] * 3 + [
        "profile.deleted",
        "profile.created",
        "profile.deleted",
    ]


@pytest.mark.parametrize(
    "section, body, field",
    [
        ("emergency_contacts", {**CONTACT, "phone": "appelez-moi"}, "phone"),
        ("emergency_contacts", {**CONTACT, "phone": "12"}, "phone"),
        ("emergency_contacts", {"name": "Claire", "phone": "0612345678"}, "relationship"),
        ("emergency_contacts", {**CONTACT, "name": ""}, "name"),
        ("trusted_person", {"name": "Paul", "email": "paul"}, "email"),
        ("trusted_person", {"phone": "0612345678"}, "name"),
        ("trusted_person", {"name": "Paul", "age": 40}, "age"),
    ],
)
def test_invalid_contacts_name_the_field(space, section, body, field):
    response = space.add(section, body)
    assert response.status_code == 400
    assert field in [detail["field"] for detail in response.json_body["error"]["details"]]


def test_two_trusted_persons_at_once_one_wins(space):
    from chalicelib.core.data import concurrency

    answers = concurrency.map_concurrently(
        lambda name: space.add("trusted_person", {"name": name}).status_code, ["Anne", "Bruno", "Carla", "Denis"]
    )
    assert sorted(answers) == [201, 409, 409, 409]


# --- advance directives and the emergency summary --------------------------------------------------


def directives(space: Space, token: str, date: str, **overrides) -> str:
    body = document(type="advance_directives", title="Directives anticipées", date=date, **overrides)
    response = space.api.post(f"{space.base}/documents", body, token=token)
    assert response.status_code == 201, response.json_body
    assert response.json_body["type_code"] == "EXPPAT_3"
    return response.json_body["document_id"]


def test_summary_for_the_patient_and_a_professional_in_each_access(api, space, regulator):
    space.add("allergies", {"substance": "Pénicilline"})
    space.add("treatments", {"medication": "Lévothyrox", "dosage": "75 µg"})
    space.add("conditions", {"label": "Hypothyroïdie"})
    space.add("vaccinations", {"vaccine": "DTP", "date": "2020-01-10"})
    space.add("emergency_contacts", CONTACT)
    space.add("trusted_person", TRUSTED)
    older = directives(space, space.patient, "2024-01-01")
    newest = directives(space, space.patient, "2025-06-01")
    directives(space, space.patient, "2023-01-01")  # deposited last, dated earlier

    mine = space.summary(space.patient)
    assert mine.status_code == 200
    body = mine.json_body
    assert set(body) == {
        "allergies",
        "treatments",
        "conditions",
        "vaccinations",
        "emergency_contacts",
        "trusted_person",
        "advance_directives",
    }
    assert [a["substance"] for a in body["allergies"]] == ["Pénicilline"]
    assert [t["medication"] for t in body["treatments"]] == ["Lévothyrox"]
    assert [c["label"] for c in body["conditions"]] == ["Hypothyroïdie"]
    assert [v["vaccine"] for v in body["vaccinations"]] == ["DTP"]
    assert body["emergency_contacts"][0]["phone"] == CONTACT["phone"]
    assert body["trusted_person"]["name"] == TRUSTED["name"]
    assert body["advance_directives"] == {"document_id": newest, "date": "2025-06-01"}

    # the latest the caller may see: masked from professionals, the one before it is theirs
    api.patch(f"{space.base}/documents/{newest}", {"masked": True}, token=space.patient)
    glass, samu, stranger = regulator(DOC_B), regulator(regulation=True), regulator(DOC_C)
    assert space.summary(stranger).status_code == 403
    assert space.summary(regulator(regulation=True)).status_code == 403
    api.post(f"{space.base}/emergency-access", {"reason": REASON}, token=glass)
    space.regulate(samu)
    for professional in (glass, samu):
        seen = space.summary(professional)
        assert seen.status_code == 200
        assert seen.json_body["advance_directives"] == {"document_id": older, "date": "2024-01-01"}
        assert seen.json_body["trusted_person"]["name"] == TRUSTED["name"]
    assert space.summary(space.patient).json_body["advance_directives"]["document_id"] == newest
    # every read by a professional is in the history, the patient's are not
    reads = [e for e in actions(api, space.patient_id, space.patient) if e[0] == "emergency_summary.read"]
    assert reads == [
        ("emergency_summary.read", "professional", "emergency_summary"),
        ("emergency_summary.read", "professional", "emergency_summary"),
    ]


def test_summary_with_nothing_and_a_granted_professional(api, space, regulator):
    granted = regulator(DOC_B, "infirmier")
    api.put(access_path(space.patient_id, f"/grants/{DOC_B}"), {}, token=space.patient)
    body = space.summary(granted).json_body
    assert body == {
        "allergies": [],
        "treatments": [],
        "conditions": [],
        "vaccinations": [],
        "emergency_contacts": [],
        "trusted_person": None,
        "advance_directives": None,
    }
    # a pharmacist with a grant: the matrix keeps advance directives from them, the summary too
    directives(space, space.patient, "2024-01-01")
    pharmacist = regulator(DOC_C, "pharmacien")
    api.put(access_path(space.patient_id, f"/grants/{DOC_C}"), {}, token=space.patient)
    assert space.summary(pharmacist).json_body["advance_directives"] is None
    assert space.summary(granted).json_body["advance_directives"] is not None


def test_summary_for_a_representative_never_shows_what_is_hidden_from_them(api, enrolment, token):
    family = Family(api, enrolment, token, n=160)
    space = Space(api, family.patient_id, family.parent)
    space.add("emergency_contacts", CONTACT, family.parent)
    kept = directives(space, family.doctor, "2025-01-01")
    directives(space, family.doctor, "2026-01-01", hidden_from_representatives=True)  # the minor's secret
    body = space.summary(family.parent).json_body
    assert body["emergency_contacts"][0]["name"] == CONTACT["name"]
    assert body["advance_directives"] == {"document_id": kept, "date": "2025-01-01"}
    assert space.summary(family.own).status_code == 403  # the child's own login: the parents manage it
    app = token("app", client_id="app-x", patient_id=family.patient_id, scope="profile:read")
    assert space.summary(app).status_code in (403, 404)


def test_advance_directives_through_fhir_carry_the_ans_code(api, space, regulator):
    document_id = directives(space, space.patient, "2025-02-02")
    doctor = regulator(DOC_B)
    api.put(access_path(space.patient_id, f"/grants/{DOC_B}"), {}, token=space.patient)
    tre_a05 = "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire"
    found = api.get(f"/v1/fhir/DocumentReference?patient={space.patient_id}&type={tre_a05}|EXPPAT_3", token=doctor)
    assert found.status_code == 200, found.json_body
    [entry] = found.json_body["entry"]
    assert entry["resource"]["id"] == document_id
    [coding] = entry["resource"]["type"]["coding"]
    assert coding["code"] == "EXPPAT_3" and coding["display"] == "Directives anticipées"
    assert coding["system"].endswith("TRE-A05-TypeDocComplementaire")
    wrong = api.get(
        f"/v1/fhir/DocumentReference?patient={space.patient_id}&type=http://loinc.org|EXPPAT_3", token=doctor
    )
    assert wrong.status_code == 400


def test_advance_directives_deposited_by_professional_software(api, space, person, regulator):
    """ITI-65 names them by TRE_A05's EXPPAT_3; under LOINC's system the code is unknown (400)."""
    doctor = regulator(DOC_B)
    tre_a05 = "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire"
    as_loinc = provide(api, submitted(person["ins"], {"code": "EXPPAT_3"}), doctor)
    assert as_loinc.status_code == 400
    deposited = provide(api, submitted(person["ins"], {"code": "EXPPAT_3", "system": tre_a05}), doctor)
    assert deposited.status_code == 200, deposited.json_body
    latest = space.summary(space.patient).json_body["advance_directives"]
    assert latest is not None and latest["date"] == "2026-03-03"
    stored = api.get(f"{space.base}/documents/{latest['document_id']}", token=space.patient).json_body
    assert (stored["type"], stored["type_code"]) == ("advance_directives", "EXPPAT_3")
