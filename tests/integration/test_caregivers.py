"""Caregivers through the API on moto: the invitation (notice, code, wrong token, lock, accept,
second invitation refused), what a caregiver may and may not do, the end by either side
(docs/domain.md § Caregivers, docs/api.md § Caregivers)."""

from __future__ import annotations

import pytest

from chalicelib.core.security.identifiers import rpps_check_digit
from tests.conftest import captured, every_stored_item, invitee, make_ins
from tests.integration.test_agenda import event
from tests.integration.test_documents import PDF, document
from tests.integration.test_families import ANY, Family, sent_to

ALLERGY = {"substance": "Pénicilline", "reaction": "Urticaire", "severity": "moderate"}


def rpps(n: int) -> str:
    first = f"{6000000000 + n:010d}"
    return first + rpps_check_digit(first)


def helper(n: int = 501, **overrides) -> dict:
    """The person invited as caregiver: an adult, with an email."""
    person = invitee(n, family_name="Martin", given_names="Claire", birth_date="1975-09-20")
    return {key: person[key] for key in ("ins", "birth_date", "family_name", "given_names", "email")} | overrides


def aidant_code(address: str) -> str:
    body = sent_to(address)[-1]["body"]
    line = next(line for line in body.splitlines() if line.startswith("Code aidant : "))
    return line.removeprefix("Code aidant : ").strip()


class Helped:
    """An adult's active space, and the person they invite as their caregiver."""

    def __init__(self, api, enrolment, token, n: int = 401):
        self.api, self.token = api, token
        self.person = invitee(n, birth_date="1942-04-11")

        def enrol() -> str:
            enrolment.invite(enrolment.campaign(), [self.person])
            return enrolment.activate(self.person)

        self.patient_id = captured((__name__, "helped", n), enrol)
        self.base = f"/v1/patients/{self.patient_id}"
        self.patient = enrolment.patient_token(self.person)
        self.helper = helper()
        self.caregiver = token("patient", ins=self.helper["ins"])
        self.doctor = token("professional", rpps=rpps(1), profession="medecin", name="Dr Roux")

    def invite(self, who: str | None = None, **overrides):
        return self.api.post(f"{self.base}/caregivers", {**self.helper, **overrides}, token=who or self.patient)

    def accept(self, code: str, who: str | None = None):
        return self.api.post("/v1/caregivers/accept", {"code": code}, token=who or self.caregiver)

    def invited_and_accepted(self) -> str:
        invited = self.invite()
        assert invited.status_code == 201, invited.json_body
        accepted = self.accept(aidant_code(self.helper["email"]))
        assert accepted.status_code == 200, accepted.json_body
        return invited.json_body["caregiver_id"]

    def history(self) -> list[dict]:
        return self.api.get(f"{self.base}/activity?limit=200", token=self.patient).json_body["items"]

    def search(self) -> dict:
        body = {"ins": self.person["ins"], "birth_date": self.person["birth_date"]}
        found = self.api.post("/v1/patients/search", body, token=self.doctor)
        assert found.status_code == 200, found.json_body
        return found.json_body


@pytest.fixture
def helped(api, enrolment, token) -> Helped:
    return Helped(api, enrolment, token)


def test_the_whole_invitation(api, helped, token):
    assert helped.search()["caregiver"] is False
    # the caregiver's INS is the patient's own: a bad request; a minor caregiver too
    assert helped.invite(ins=helped.person["ins"]).status_code == 400
    assert helped.invite(birth_date="2015-01-01").status_code == 400
    assert helped.invite(email="pas-une-adresse").status_code == 400
    invited = helped.invite()
    assert invited.status_code == 201, invited.json_body
    body = invited.json_body
    assert set(body) == {"caregiver_id", "status", "family_name", "given_names", "invited_at", "expires_at"}
    assert body["status"] == "invited" and body["family_name"] == "Martin" and body["given_names"] == "Claire"
    # the notice: the code, nobody's name; only the code's hash is kept
    notice = sent_to(helped.helper["email"])[-1]
    code = aidant_code(helped.helper["email"])
    assert "Martin" not in notice["body"] and helped.person["family_name"] not in notice["body"]
    assert not [item for item in every_stored_item() if code in str(item) or code.replace("-", "") in str(item)]
    # one caregiver per space, invited or active
    second = helped.invite(**helper(502))
    assert second.status_code == 409 and second.json_body["error"]["code"] == "conflict"
    # the invitation is listed to the patient; the invited person does not act yet
    listed = api.get(f"{helped.base}/caregivers", token=helped.patient).json_body
    fields = ("caregiver_id", "status", "family_name", "given_names", "invited_at")
    assert listed == {"items": [{**{key: body[key] for key in fields}, "accepted_at": None}], "next_cursor": None}
    assert api.get(f"{helped.base}/documents", token=helped.caregiver).status_code == 403
    assert api.get("/v1/me/dependants", token=helped.caregiver).json_body["items"] == []
    # the right code with someone else's token is the answer to a wrong code
    stranger = token("patient", ins=make_ins(777))
    wrong = helped.accept("AAAA-AAAA-AA")
    other = helped.accept(code, who=stranger)
    assert wrong.status_code == other.status_code == 403
    assert wrong.json_body == other.json_body and wrong.json_body["error"]["code"] == "invalid_code"
    # accepted, typed in any case with spaces
    accepted = helped.accept(code.lower().replace("-", " "))
    assert accepted.status_code == 200 and accepted.json_body == {"patient_id": helped.patient_id, "status": "active"}
    assert helped.accept(code).status_code == 403  # used
    dependants = api.get("/v1/me/dependants", token=helped.caregiver).json_body["items"]
    assert [(d["patient_id"], d["relationship"], d["status"]) for d in dependants] == [
        (helped.patient_id, "caregiver", "active")
    ]
    listed = api.get(f"{helped.base}/caregivers", token=helped.caregiver).json_body["items"]
    assert [(c["caregiver_id"], c["status"]) for c in listed] == [(body["caregiver_id"], "active")]
    assert listed[0]["accepted_at"]
    assert helped.search()["caregiver"] is True
    assert helped.invite(**helper(502)).status_code == 409
    # each step under the acting person's actor
    events = {e["action"]: e["actor"] for e in helped.history()}
    assert events["caregiver.invited"] == {"role": "patient", "id": helped.patient_id}
    assert events["caregiver.accepted"]["role"] == "caregiver"
    assert events["caregiver.accepted"]["id"] not in (helped.patient_id, helped.helper["ins"])


def test_five_wrong_codes_lock_the_invitation(helped):
    assert helped.invite().status_code == 201
    code = aidant_code(helped.helper["email"])
    answers = [helped.accept("AAAA-AAAA-AA") for _ in range(5)]
    assert {(r.status_code, r.json_body["error"]["code"]) for r in answers} == {(403, "invalid_code")}
    locked = helped.accept(code)
    assert locked.status_code == 429 and locked.json_body["error"]["code"] == "too_many_attempts"
    # the patient withdraws it and invites again: a new code, a new count
    caregiver_id = helped.api.get(f"{helped.base}/caregivers", token=helped.patient).json_body["items"][0]
    assert (
        helped.api.delete(f"{helped.base}/caregivers/{caregiver_id['caregiver_id']}", token=helped.patient).status_code
        == 204
    )
    assert helped.invite().status_code == 201
    assert helped.accept(aidant_code(helped.helper["email"])).status_code == 200


def test_an_expired_invitation_is_a_wrong_code_and_no_longer_counts(helped, app_clock):
    assert helped.invite().status_code == 201
    code = aidant_code(helped.helper["email"])
    app_clock.at(days=8)
    expired = helped.accept(code)
    assert expired.status_code == 403 and expired.json_body["error"]["code"] == "invalid_code"
    assert helped.api.get(f"{helped.base}/caregivers", token=helped.patient).json_body["items"] == []
    other = helper(503)
    assert helped.invite(**other).status_code == 201  # the expired one no longer holds the place
    assert helped.accept(code).status_code == 403
    assert helped.api.get("/v1/me/dependants", token=helped.caregiver).json_body["items"] == []


def test_racing_invitations_one_wins(helped, monkeypatch):
    """Both pass the first look (no caregiver yet): the conditional write decides."""
    from chalicelib.enrolment import caregivers

    monkeypatch.setattr(caregivers, "_counts", lambda caregiver, now: False)
    assert helped.invite(**helper(511)).status_code == 201
    refused = helped.invite(**helper(512))  # the stale look passes, the write refuses
    assert refused.status_code == 409 and refused.json_body["error"]["code"] == "conflict"
    assert len(sent_to(helper(511)["email"])) == 1 and sent_to(helper(512)["email"]) == []


def test_only_the_adult_invites(api, enrolment, token):
    family = Family(api, enrolment, token, n=600)
    body = helper(601)
    assert api.post(f"{family.base}/caregivers", body, token=family.parent).status_code == 403
    assert api.post(f"{family.base}/caregivers", body, token=family.own).status_code == 403  # a minor's space
    assert api.get(f"{family.base}/caregivers", token=family.parent).status_code == 403
    assert api.post(f"{family.base}/caregivers", body, token=family.doctor).status_code == 403
    assert api.post(f"{family.base}/caregivers", body, token=token("patient", ins=make_ins(778))).status_code == 404


def test_what_a_caregiver_may_and_may_not_do(api, helped):
    helped.invited_and_accepted()
    patient, caregiver, doctor, base = helped.patient, helped.caregiver, helped.doctor, helped.base
    assert api.put(f"{base}/access/grants/{rpps(1)}", {}, token=patient).status_code == 200
    shown = api.post(f"{base}/documents", document(title="Bilan"), token=doctor).json_body
    hidden = api.post(f"{base}/documents", document(title="Résultat", invisible_to_patient=True), token=doctor)
    assert hidden.status_code == 201
    assert api.patch(f"{base}/documents/{shown['document_id']}", {"masked": True}, token=patient).status_code == 200
    # may: exactly what the patient sees, its content, depositing, the profile, the agenda, the history
    seen = [d["title"] for d in api.get(f"{base}/documents", token=patient).json_body["items"]]
    assert [d["title"] for d in api.get(f"{base}/documents", token=caregiver).json_body["items"]] == seen == ["Bilan"]
    doc = f"{base}/documents/{shown['document_id']}"
    assert api.get(f"{base}/documents/{hidden.json_body['document_id']}", token=caregiver).status_code == 404
    assert api.get(f"{doc}/content", token=caregiver, headers=ANY).body == PDF
    deposited = api.post(f"{base}/documents", document(title="Ordonnance scannée"), token=caregiver)
    assert deposited.status_code == 201
    helper_actor = deposited.json_body["author"]
    assert helper_actor["role"] == "caregiver"
    added = api.post(f"{base}/profile/allergies", ALLERGY, token=caregiver)
    assert added.status_code == 201, added.json_body
    assert api.get(f"{base}/profile", token=caregiver).json_body["allergies"][0]["substance"] == "Pénicilline"
    booked = api.post(f"{base}/agenda", event(), token=caregiver)
    assert booked.status_code == 201, booked.json_body
    moved = api.patch(f"{base}/agenda/{booked.json_body['event_id']}", {"title": "Cardiologue"}, token=caregiver)
    assert moved.status_code == 200
    assert [e["title"] for e in api.get(f"{base}/agenda", token=caregiver).json_body["items"]] == ["Cardiologue"]
    assert api.get(f"{base}/activity", token=caregiver).status_code == 200
    assert api.get(f"{base}/activity/verify", token=caregiver).json_body["valid"] is True
    assert api.get(f"{base}/caregivers", token=caregiver).status_code == 200
    contact = {"name": "Karim Benali", "relationship": "frère", "phone": "06 11 22 33 44"}
    assert api.post(f"{base}/profile/emergency_contacts", contact, token=caregiver).status_code == 201
    summary = api.get(f"{base}/emergency-summary", token=caregiver)
    assert summary.status_code == 200, summary.json_body
    assert summary.json_body == api.get(f"{base}/emergency-summary", token=patient).json_body
    assert [a["substance"] for a in summary.json_body["allergies"]] == ["Pénicilline"]
    assert [c["name"] for c in summary.json_body["emergency_contacts"]] == ["Karim Benali"]
    # may not: the patient's decisions
    entry = added.json_body["entry_id"]
    refused = {
        "mask": api.patch(doc, {"masked": False}, token=caregiver),
        "change own document": api.patch(
            f"{base}/documents/{deposited.json_body['document_id']}", {"masked": True}, token=caregiver
        ),
        "delete document": api.delete(doc, token=caregiver),
        "delete own document": api.delete(f"{base}/documents/{deposited.json_body['document_id']}", token=caregiver),
        "delete profile entry": api.delete(f"{base}/profile/allergies/{entry}", token=caregiver),
        "delete agenda event": api.delete(f"{base}/agenda/{booked.json_body['event_id']}", token=caregiver),
        "read settings": api.get(f"{base}/access", token=caregiver),
        "grant": api.put(f"{base}/access/grants/{rpps(2)}", {}, token=caregiver),
        "block": api.put(f"{base}/access/blocks/{rpps(2)}", {}, token=caregiver),
        "treating doctor": api.put(f"{base}/access/treating-doctor", {"rpps": rpps(2)}, token=caregiver),
        "emergency": api.put(f"{base}/access/emergency", {"allowed": False}, token=caregiver),
        "regulation": api.put(f"{base}/access/regulation", {"allowed": False}, token=caregiver),
        "invite": api.post(f"{base}/caregivers", helper(520), token=caregiver),
        "connections": api.get(f"{base}/connections", token=caregiver),
        "export": api.get(f"{base}/export", token=caregiver),
        "close": api.post(f"{base}/close", {}, token=caregiver),
    }
    assert {name: (r.status_code, r.json_body["error"]["code"]) for name, r in refused.items()} == dict.fromkeys(
        refused, (403, "forbidden")
    )
    # messaging: the patient's conversations are not the caregiver's
    opened = api.post(
        "/v1/conversations", {"patient_id": helped.patient_id, "subject": "Suivi", "body": "Bonjour"}, token=doctor
    )
    assert opened.status_code == 201, opened.json_body
    conversation = opened.json_body["conversation_id"]
    assert api.get("/v1/conversations", token=caregiver).status_code == 404  # none of their own, nor the patient's
    for refused_message in (
        api.get(f"/v1/conversations/{conversation}/messages", token=caregiver),
        api.post(f"/v1/conversations/{conversation}/messages", {"body": "Oui"}, token=caregiver),
    ):
        assert refused_message.status_code == 403 and refused_message.json_body["error"]["code"] == "forbidden"
    # everything they did is in the history under their own name
    by_them = {e["action"] for e in helped.history() if e["actor"] == helper_actor}
    assert {"caregiver.accepted", "document.created", "profile.created", "agenda.created", "agenda.updated"} <= by_them


@pytest.mark.parametrize("who", ["patient", "caregiver"])
def test_either_side_ends_it_at_once(api, helped, token, who):
    caregiver_id = helped.invited_and_accepted()
    path = f"{helped.base}/caregivers/{caregiver_id}"
    assert api.get(f"{helped.base}/documents", token=helped.caregiver).status_code == 200
    assert api.delete(path, token=token("patient", ins=make_ins(779))).status_code == 404  # a stranger
    assert api.delete(f"{helped.base}/caregivers/cgv-nope", token=helped.patient).status_code == 404
    ended = api.delete(path, token=helped.patient if who == "patient" else helped.caregiver)
    assert ended.status_code == 204
    # the very next request of the caregiver
    refused = api.get(f"{helped.base}/documents", token=helped.caregiver)
    assert refused.status_code == 403 and refused.json_body["error"]["code"] == "forbidden"
    assert api.get(f"{helped.base}/caregivers", token=helped.caregiver).status_code == 403
    assert api.get("/v1/me/dependants", token=helped.caregiver).json_body["items"] == []
    assert api.get(f"{helped.base}/caregivers", token=helped.patient).json_body["items"] == []
    assert api.delete(path, token=helped.patient).status_code == 404  # already ended
    assert helped.search()["caregiver"] is False
    ended_event = next(e for e in helped.history() if e["action"] == "caregiver.ended")
    accepted_event = next(e for e in helped.history() if e["action"] == "caregiver.accepted")
    expected = {"role": "patient", "id": helped.patient_id} if who == "patient" else accepted_event["actor"]
    assert ended_event["actor"] == expected
    # the place is free again
    assert helped.invite(**helper(530)).status_code == 201


@pytest.mark.parametrize("withdrawn", [False, True])
def test_the_code_is_never_lost_between_commit_and_send(api, helped, monkeypatch, withdrawn):
    """The invitation's notice is pending with it: the hourly schedule sends it if the function
    died before it could, unless the invitation was withdrawn since."""
    from datetime import timedelta

    from chalicelib.core import clock
    from chalicelib.core.policy import notify as notifications
    from chalicelib.enrolment import deferred_notices
    from tests.integration.test_enrolment import LambdaDied, _pending_notices, dies_when_sending

    monkeypatch.setattr(notifications, "send_email", dies_when_sending)
    with pytest.raises(LambdaDied):
        helped.invite()
    monkeypatch.undo()
    assert sent_to(helped.helper["email"]) == []
    [invitation] = api.get(f"{helped.base}/caregivers", token=helped.patient).json_body["items"]
    if withdrawn:
        path = f"{helped.base}/caregivers/{invitation['caregiver_id']}"
        assert api.delete(path, token=helped.patient).status_code == 204
    later = clock.now() + timedelta(hours=1)
    assert deferred_notices.resend_due() == 0  # too soon: the function may still be sending it
    assert deferred_notices.resend_due(later) == (0 if withdrawn else 1)
    assert _pending_notices() == []
    if withdrawn:
        assert sent_to(helped.helper["email"]) == []
    else:
        assert helped.accept(aidant_code(helped.helper["email"])).status_code == 200


def test_a_guardian_does_not_name_the_caregiver(api, helped, enrolment, token):
    guardian = helper(540)
    body = {
        "ins": helped.person["ins"],
        "birth_date": helped.person["birth_date"],
        "guardian": {key: guardian[key] for key in ("ins", "birth_date", "family_name", "given_names")},
        "court_reference": "RG 26/00042",
    }
    assert api.post("/v1/enrolment/guardianships", body, token=enrolment.agent).status_code == 201
    guardian_token = token("patient", ins=guardian["ins"])
    assert api.get(f"{helped.base}/documents", token=guardian_token).status_code == 200  # a guardian, indeed
    refused = api.post(f"{helped.base}/caregivers", helper(541), token=guardian_token)
    assert refused.status_code == 403 and refused.json_body["error"]["code"] == "forbidden"
    assert api.get(f"{helped.base}/caregivers", token=guardian_token).status_code == 403
    assert helped.invite().status_code == 201  # the protected adult still names their own


def test_the_lock_is_counted_in_the_admitting_write(helped, monkeypatch):
    """Wrong codes counted after the invitation was read (by racing requests) still refuse the
    right one: the acceptance is conditional on fewer than 5 counted."""
    from chalicelib.enrolment import caregivers, store

    assert helped.invite().status_code == 201
    code = aidant_code(helped.helper["email"])
    stale = store.caregiver_invitations
    read_before: list[dict] = []

    def read_then_others_guess(person_id):
        read_before[:] = stale(person_id)
        for _ in range(caregivers.MAX_FAILED_ATTEMPTS):  # the racing wrong answers, counted meanwhile
            assert store.count_wrong_caregiver_code(helped.patient_id, caregivers.MAX_FAILED_ATTEMPTS)
        return list(read_before)

    monkeypatch.setattr(store, "caregiver_invitations", read_then_others_guess)
    refused = helped.accept(code)
    assert [i["failed_attempts"] for i in read_before] == [0]  # it looked unlocked when read
    assert refused.status_code == 429 and refused.json_body["error"]["code"] == "too_many_attempts"
    monkeypatch.undo()
    assert helped.accept(code).status_code == 429
    assert helped.api.get(f"{helped.base}/documents", token=helped.caregiver).status_code == 403
