"""A minor's messaging and notices through the API on moto (issue 22, item 6): the legal
representatives are told, list, read and answer the child's conversations as they do the record;
the child's own login reaches nothing before 18, and everything from the 18th birthday on."""

from __future__ import annotations

import base64
import time
from datetime import timedelta

from chalicelib.core import clock
from tests.conftest import invitee
from tests.integration.test_families import Family, representative, rpps, sent_to, years_ago

NEW_MESSAGE = "Vous avez un nouveau message sur Mon espace santé"
PDF = b"%PDF-1.7\nOrdonnance\n%%EOF"
ANY = {"Accept": "*/*"}


def pdf(name: str = "ordonnance.pdf") -> dict:
    return {"filename": name, "media_type": "application/pdf", "content_base64": base64.b64encode(PDF).decode()}


def message_notices(address: str) -> list[dict]:
    return [notice for notice in sent_to(address) if notice["subject"] == NEW_MESSAGE]


def inbox(api, who) -> list[dict]:
    response = api.get("/v1/conversations", token=who)
    assert response.status_code == 200, response.json_body
    return response.json_body["items"]


def messages(api, conversation_id: str, who) -> list[dict]:
    response = api.get(f"/v1/conversations/{conversation_id}/messages", token=who)
    assert response.status_code == 200, response.json_body
    return response.json_body["items"]


def open_conversation(api, family: Family, **overrides) -> str:
    body = {"patient_id": family.patient_id, "subject": "Vaccins", "body": "Le rappel est dû.", **overrides}
    response = api.post("/v1/conversations", body, token=family.doctor)
    assert response.status_code == 201, response.json_body
    return response.json_body["conversation_id"]


def test_a_childs_conversation_goes_to_the_representatives(api, enrolment, token):
    family = Family(api, enrolment, token, n=500)
    first, second = family.parents
    conversation = open_conversation(api, family, attachments=[pdf()])
    # told: the representative with an address; never the child, whose address is known too
    assert len(message_notices(first["email"])) == 1
    assert message_notices(family.child["email"]) == []
    # the child's own login reaches nothing before 18
    assert api.get("/v1/conversations", token=family.own).status_code == 403
    assert api.get(f"/v1/conversations/{conversation}/messages", token=family.own).status_code == 403
    assert api.post(f"/v1/conversations/{conversation}/messages", {"body": "Moi"}, token=family.own).status_code == 403
    # each representative lists it, the space named by its patient_id
    for parent in (family.parent, family.other_parent):
        (entry,) = inbox(api, parent)
        assert (entry["conversation_id"], entry["patient_id"], entry["subject"], entry["unread"]) == (
            conversation,
            family.patient_id,
            "Vaccins",
            1,
        )
    # reads it and its attachment, answers with one
    (first_message,) = messages(api, conversation, family.parent)
    assert first_message["body"] == "Le rappel est dû."
    path = f"/v1/conversations/{conversation}/messages/{first_message['message_id']}/attachments/0"
    assert api.get(path, token=family.parent, headers=ANY).body == PDF
    answer = api.post(
        f"/v1/conversations/{conversation}/messages",
        {"body": "Merci, nous viendrons.", "attachments": [pdf("carnet.pdf")]},
        token=family.parent,
    )
    assert answer.status_code == 201, answer.json_body
    assert inbox(api, family.parent)[0]["unread"] == 0
    # the professional sees the answer, under the representative's own id
    (opened,) = inbox(api, family.doctor)
    assert opened["unread"] == 1
    seen = messages(api, conversation, family.doctor)
    assert [m["body"] for m in seen] == ["Le rappel est dû.", "Merci, nous viendrons."]
    sent = next(e for e in family.activity(family.parent) if e["action"] == "message.sent")
    assert seen[1]["author"] == sent["actor"] and sent["actor"]["role"] == "representative"
    assert sent["actor"]["id"] != family.patient_id
    assert messages(api, conversation, family.other_parent)[1]["read"] is True  # the professional read it
    # their own answer is never counted as unread on the child's side
    messages(api, conversation, family.parent)
    assert (
        api.post(f"/v1/conversations/{conversation}/messages", {"body": "Parfait."}, token=family.doctor).status_code
        == 201
    )
    assert inbox(api, family.other_parent)[0]["unread"] == 1
    assert len(message_notices(first["email"])) == 2 and message_notices(family.child["email"]) == []
    assert "postal_address" in second and not [
        n for n in sent_to(second["postal_address"]) if n["subject"] == NEW_MESSAGE
    ]


def test_a_parent_lists_their_own_and_their_childs_conversations(api, enrolment, token):
    family = Family(api, enrolment, token, n=600)
    enrolment.invite(enrolment.campaign(), [family.parents[0]])  # the parent gets a space of their own
    parent_id = enrolment.activate(family.parents[0])
    body = {"patient_id": parent_id, "subject": "Pour vous", "body": "Bonjour"}
    assert api.post("/v1/conversations", body, token=family.doctor).status_code == 201
    time.sleep(1.1)  # last_message_at has second precision
    child_conversation = open_conversation(api, family)
    assert [(c["patient_id"], c["subject"]) for c in inbox(api, family.parent)] == [
        (family.patient_id, "Vaccins"),
        (parent_id, "Pour vous"),
    ]
    page = api.get("/v1/conversations?limit=1", token=family.parent).json_body
    assert [c["conversation_id"] for c in page["items"]] == [child_conversation] and page["next_cursor"]
    rest = api.get(f"/v1/conversations?limit=1&cursor={page['next_cursor']}", token=family.parent).json_body
    assert [c["patient_id"] for c in rest["items"]] == [parent_id] and rest["next_cursor"] is None
    assert api.get(f"/v1/conversations?cursor={page['next_cursor']}", token=family.other_parent).status_code == 400
    assert [c["patient_id"] for c in inbox(api, family.other_parent)] == [family.patient_id]


def test_on_the_18th_birthday_the_young_adult_holds_the_messaging(api, enrolment, token, monkeypatch):
    family = Family(api, enrolment, token, birth_date=years_ago(18, days=1), n=700)  # 18 tomorrow
    conversation = open_conversation(api, family)
    assert (
        api.post(f"/v1/conversations/{conversation}/messages", {"body": "Reçu."}, token=family.parent).status_code
        == 201
    )
    assert api.get("/v1/conversations", token=family.own).status_code == 403
    real = clock.now
    monkeypatch.setattr(clock, "now", lambda: real() + timedelta(days=1))
    for parent in (family.parent, family.other_parent):
        assert api.get("/v1/conversations", token=parent).status_code in (403, 404)
        for method, path, body in (("GET", "/messages", None), ("POST", "/messages", {"body": "Encore"})):
            assert api.call(method, f"/v1/conversations/{conversation}{path}", body, token=parent).status_code in (
                403,
                404,
            )
    assert [c["conversation_id"] for c in inbox(api, family.own)] == [conversation]
    assert [m["author"]["role"] for m in messages(api, conversation, family.own)] == ["professional", "representative"]
    assert (
        api.post(f"/v1/conversations/{conversation}/messages", {"body": "Merci."}, token=family.doctor).status_code
        == 201
    )
    assert len(message_notices(family.child["email"])) == 1  # now theirs
    assert len(message_notices(family.parents[0]["email"])) == 1  # only the notice from before


def test_a_guardian_reads_and_answers_beside_the_protected_adult(api, enrolment, token):
    patient_id, own = enrolment.active_patient(800)
    person, guardian = invitee(800), representative(801)
    body = {
        "ins": person["ins"],
        "birth_date": person["birth_date"],
        "guardian": {key: guardian[key] for key in ("ins", "birth_date", "family_name", "given_names")},
        "court_reference": "TJ Paris 24/01234",
    }
    assert api.post("/v1/enrolment/guardianships", body, token=enrolment.agent).status_code == 201
    doctor = token("professional", rpps=rpps(8), profession="medecin", name="Dr G")
    opened = api.post(
        "/v1/conversations", {"patient_id": patient_id, "subject": "Suivi", "body": "Bonjour"}, token=doctor
    )
    assert opened.status_code == 201
    conversation = opened.json_body["conversation_id"]
    guardian_token = token("patient", ins=guardian["ins"])
    assert [c["patient_id"] for c in inbox(api, guardian_token)] == [patient_id]
    assert (
        api.post(
            f"/v1/conversations/{conversation}/messages", {"body": "Je suis son tuteur."}, token=guardian_token
        ).status_code
        == 201
    )
    assert [m["author"]["role"] for m in messages(api, conversation, own)] == [
        "professional",
        "representative",
    ]  # the adult keeps access
    assert len(message_notices(person["email"])) == 1  # the adult is told, as before


def test_a_childs_agenda_reminder_goes_to_the_representatives(api, enrolment, token):
    from chalicelib.agenda import service as agenda

    family = Family(api, enrolment, token, n=900)
    event = {
        "kind": "vaccination_reminder",
        "title": "Rappel DTP",
        "start": clock.iso(clock.now() + timedelta(hours=3)),
    }
    assert api.post(f"{family.base}/agenda", event, token=family.parent).status_code == 201
    assert agenda.send_reminders() == 1
    reminders = [n for n in sent_to(family.parents[0]["email"]) if n["subject"].startswith("Rappel")]
    assert len(reminders) == 1 and "DTP" not in reminders[0]["body"]
    assert sent_to(family.child["email"]) == []
