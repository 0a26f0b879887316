import pytest

from devstack.outbox import sent
from tests.conftest import every_stored_item, invitee, make_ins


def test_campaign_defaults_and_counts(api, enrolment):
    response = api.post("/v1/enrolment/campaigns", {"name": "Vague 1"}, token=enrolment.agent)
    assert response.status_code == 201
    body = response.json_body
    assert (body["response_days"], body["reminder_days_before"]) == (40, 10)
    counts = api.get(f"/v1/enrolment/campaigns/{body['campaign_id']}", token=enrolment.agent).json_body["counts"]
    assert counts == {"invited": 0, "active": 0, "auto_created": 0, "opposed": 0, "closed": 0}


def test_invitation_validates_each_person_and_notifies(api, enrolment):
    campaign = enrolment.campaign()
    people = [
        invitee(1),
        invitee(2, ins=make_ins(2)[:-2] + "00"),
        invitee(3, email=None),
        invitee(4, email=None, postal_address="12 rue des Lilas, 75011 Paris"),
        invitee(1),
    ]
    result = enrolment.invite(campaign, people)
    assert result["accepted"] == 2
    assert {r["index"]: r["error"]["code"] for r in result["rejected"]} == {
        1: "invalid_ins",
        2: "invalid_request",
        4: "already_enrolled",
    }
    email = sent(to="person1@example.test")[0]
    assert "Code provisoire : " in email["body"] and people[0]["ins"] not in email["body"]
    letter = sent(to="12 rue des Lilas, 75011 Paris")[0]
    assert letter["channel"] == "letter" and "Code provisoire : " in letter["body"]
    again = enrolment.invite(enrolment.campaign(), [invitee(1)])
    assert again["rejected"][0]["error"]["code"] == "already_enrolled"


def test_a_batch_is_invited_side_by_side_each_person_once(api, enrolment):
    campaign = enrolment.campaign()
    enrolment.invite(campaign, [invitee(n) for n in range(100, 140, 4)])  # 10 already invited
    result = enrolment.invite(campaign, [invitee(n) for n in range(100, 140)])
    assert result["accepted"] == 30
    assert [r["index"] for r in result["rejected"]] == list(range(0, 40, 4))
    assert {r["error"]["code"] for r in result["rejected"]} == {"already_enrolled"}
    assert all(len(sent(to=f"person{n}@example.test")) == 1 for n in range(100, 140))
    counts = api.get(f"/v1/enrolment/campaigns/{campaign}", token=enrolment.agent).json_body["counts"]
    assert counts["invited"] == 40


def test_activation_then_me(api, enrolment):
    person = invitee(7)
    enrolment.invite(enrolment.campaign(), [person])
    code = enrolment.code_of(person)
    sloppy = code.lower().replace("-", " ")
    response = api.post(
        "/v1/enrolment/activate", {"ins": person["ins"], "birth_date": person["birth_date"], "code": sloppy}
    )
    assert response.status_code == 200 and response.json_body["status"] == "active"
    me = api.get("/v1/me", token=enrolment.patient_token(person)).json_body
    assert me["status"] == "active" and me["patient_id"] == response.json_body["patient_id"]


def test_wrong_code_and_unknown_person_look_the_same_and_lock(api, enrolment):
    person = invitee(8)
    enrolment.invite(enrolment.campaign(), [person])
    wrong = {"ins": person["ins"], "birth_date": person["birth_date"], "code": "AAAA-AAAA-AA"}
    unknown = {**wrong, "ins": make_ins(999)}
    first, stranger = api.post("/v1/enrolment/activate", wrong), api.post("/v1/enrolment/activate", unknown)
    assert first.status_code == stranger.status_code == 403
    assert first.json_body == stranger.json_body
    for _ in range(4):
        api.post("/v1/enrolment/activate", wrong)
    right = {**wrong, "code": enrolment.code_of(person)}
    locked = api.post("/v1/enrolment/activate", right)
    assert locked.status_code == 429 and locked.json_body["error"]["code"] == "too_many_attempts"


def test_status_machine(api, enrolment):
    person = invitee(9)
    campaign = enrolment.campaign()
    enrolment.invite(campaign, [person])
    answer = {"ins": person["ins"], "birth_date": person["birth_date"], "code": enrolment.code_of(person)}
    assert api.post("/v1/enrolment/oppose", answer).json_body == {"status": "opposed"}
    again = api.post("/v1/enrolment/oppose", answer)
    assert again.status_code == 409 and "activate" in again.json_body["error"]["message"]
    patient = enrolment.patient_token(person)
    assert api.post("/v1/me/close", {}, token=patient).status_code == 409
    assert api.post("/v1/enrolment/activate", answer).status_code == 200
    assert api.post("/v1/me/close", {}, token=patient).json_body == {"status": "closed"}
    assert api.post("/v1/enrolment/activate", answer).status_code == 409
    counts = api.get(f"/v1/enrolment/campaigns/{campaign}", token=enrolment.agent).json_body["counts"]
    assert counts == {"invited": 0, "active": 0, "auto_created": 0, "opposed": 0, "closed": 1}
    history = api.get(
        f"/v1/patients/{api.get('/v1/me', token=patient).json_body['patient_id']}/activity", token=patient
    )
    actions = [event["action"] for event in history.json_body["items"]]
    assert actions == ["account.closed", "enrolment.activated", "enrolment.opposed", "enrolment.invited"]


def test_agent_records_opposition_by_phone(api, enrolment):
    person = invitee(10)
    enrolment.invite(enrolment.campaign(), [person])
    body = {"ins": person["ins"], "birth_date": person["birth_date"], "channel": "phone"}
    assert api.post("/v1/enrolment/oppositions", body, token=enrolment.agent).json_body == {"status": "opposed"}
    stranger = api.post("/v1/enrolment/oppositions", {**body, "ins": make_ins(4242)}, token=enrolment.agent)
    assert stranger.status_code == 404


def test_only_agents_run_campaigns(api, token):
    for role in ("patient", "professional", "insurer"):
        response = api.post("/v1/enrolment/campaigns", {"name": "x"}, token=token(role))
        assert response.status_code == 403


def test_an_invitation_that_fails_to_send_is_sent_later_with_its_code(api, enrolment, monkeypatch):
    from datetime import timedelta

    from chalicelib.core import clock
    from chalicelib.core.policy import notify as notifications
    from chalicelib.enrolment import deferred_notices

    people = [invitee(200), invitee(201)]
    real_send = notifications.send_email

    def ses_down_for_the_first(to, subject, body):
        if to == people[0]["email"]:
            raise RuntimeError("SES unavailable")
        real_send(to, subject, body)

    monkeypatch.setattr(notifications, "send_email", ses_down_for_the_first)
    result = enrolment.invite(enrolment.campaign(), people)
    assert result["accepted"] == 2 and not result["rejected"]  # the call does not fail half-way
    monkeypatch.undo()
    assert sent(to=people[0]["email"]) == []
    stored = repr(every_stored_item())
    assert deferred_notices.resend_due(clock.now() + timedelta(hours=1)) == 1
    code = enrolment.code_of(people[0])  # from the invitation sent late
    assert code not in stored  # it waited sealed
    answer = {"ins": people[0]["ins"], "birth_date": people[0]["birth_date"], "code": code}
    assert api.post("/v1/enrolment/activate", answer).status_code == 200


def _answers(api, path: str, body: dict, times: int) -> list[tuple[int, bytes]]:
    return [(response.status_code, response.body) for response in (api.post(path, body) for _ in range(times))]


@pytest.mark.parametrize("path", ["/v1/enrolment/activate", "/v1/enrolment/oppose"])
def test_an_ins_without_a_code_answers_byte_for_byte_as_an_unknown_one(api, enrolment, path):
    from tests.integration.test_families import adult, child, representative

    parent, guardian, protected = representative(31), representative(32), adult(33)
    young = child(30, [parent])
    enrolment.invite(enrolment.campaign(), [young, protected])
    enrolment.activate(protected)
    body = {"ins": protected["ins"], "birth_date": protected["birth_date"]}
    guardian_only = {key: guardian[key] for key in ("ins", "birth_date", "family_name", "given_names")}
    guardianship = {**body, "guardian": guardian_only, "court_reference": "TJ Paris 24/01234"}
    assert api.post("/v1/enrolment/guardianships", guardianship, token=enrolment.agent).status_code == 201
    wrong = {"birth_date": "1980-06-01", "code": "AAAA-AAAA-AA"}
    unknown = _answers(api, path, {**wrong, "ins": make_ins(998)}, 7)
    assert unknown[0][0] == 403 and len(set(unknown)) == 1
    # A legal representative's and a guardian's INS are in the INS index, without a code of their own.
    assert _answers(api, path, {**wrong, "ins": parent["ins"]}, 7) == unknown
    assert _answers(api, path, {**wrong, "birth_date": guardian["birth_date"], "ins": guardian["ins"]}, 7) == unknown
    # A used code (the space is active): never counted, whatever is wrong.
    assert _answers(api, path, {**wrong, "ins": protected["ins"]}, 7) == unknown
    # The child's code: the same answer for a wrong code or a wrong birth date, until the lock.
    code = enrolment.code_of(parent)
    right = {"ins": young["ins"], "birth_date": young["birth_date"], "code": code}
    tries = [{**right, "code": "AAAA-AAAA-AA"}, {**right, "birth_date": "2001-01-01"}] * 3
    answered = [api.post(path, attempt) for attempt in tries]
    assert [(r.status_code, r.body) for r in answered[:5]] == unknown[:5]
    assert answered[5].status_code == 429 and answered[5].json_body["error"]["code"] == "too_many_attempts"
    assert api.post(path, right).status_code == 429


@pytest.mark.parametrize(
    "actions", [["activate"] * 8, ["oppose"] * 8, ["activate", "oppose"] * 8], ids=["activate", "oppose", "both"]
)
def test_racing_right_answers_one_wins_and_none_is_counted(api, enrolment, actions):
    from concurrent.futures import ThreadPoolExecutor

    person, campaign = invitee(40), enrolment.campaign()
    enrolment.invite(campaign, [person])
    right = {"ins": person["ins"], "birth_date": person["birth_date"], "code": enrolment.code_of(person)}
    with ThreadPoolExecutor(16) as clients:
        statuses = list(clients.map(lambda action: api.post(f"/v1/enrolment/{action}", right).status_code, actions))
    won = sorted(action for action, status in zip(actions, statuses, strict=True) if status == 200)
    assert set(statuses) <= {200, 403, 409}, statuses
    assert won in (["activate"], ["oppose"], ["activate", "oppose"]), statuses  # opposed, then activated: allowed
    final = "active" if "activate" in won else "opposed"
    patient = enrolment.patient_token(person)
    me = api.get("/v1/me", token=patient).json_body
    assert me["status"] == final
    history = api.get(f"/v1/patients/{me['patient_id']}/activity", token=patient).json_body["items"]
    done = {"enrolment.activated": "activate", "enrolment.opposed": "oppose"}
    assert sorted(done[e["action"]] for e in history if e["action"] in done) == won
    counts = api.get(f"/v1/enrolment/campaigns/{campaign}", token=enrolment.agent).json_body["counts"]
    assert {status: n for status, n in counts.items() if n} == {final: 1}
    # The lock still counts wrong codes to a live code (opposed), and never to a used one (active).
    wrong = {**right, "code": "AAAA-AAAA-AA"}
    assert {api.post("/v1/enrolment/activate", wrong).status_code for _ in range(5)} == {403}
    assert api.post("/v1/enrolment/activate", right).status_code == (409 if final == "active" else 429)


class LambdaDied(BaseException):
    """Stands for the function dying (a timeout, a crash): nothing of it catches this."""


def dies_when_sending(to, subject, body):
    raise LambdaDied


def _pending_notices() -> list[dict]:
    from chalicelib.core.data import aws, layout

    return [item for item in aws.table(layout.ENROLMENT_TABLE).scan()["Items"] if item["pk"].startswith("NOTICE#")]


def test_an_invitation_is_sent_even_if_the_function_dies_between_commit_and_send(api, enrolment, monkeypatch):
    from datetime import timedelta

    from chalicelib.core import clock
    from chalicelib.core.policy import notify as notifications
    from chalicelib.enrolment import deferred_notices

    person, campaign = invitee(210), enrolment.campaign()
    monkeypatch.setattr(notifications, "send_email", dies_when_sending)
    with pytest.raises(LambdaDied):
        api.post(f"/v1/enrolment/campaigns/{campaign}/invitations", {"invitees": [person]}, token=enrolment.agent)
    monkeypatch.undo()
    assert enrolment.invite(campaign, [person])["rejected"][0]["error"]["code"] == "already_enrolled"  # the retry
    assert sent(to=person["email"]) == [] and len(_pending_notices()) == 1
    later = clock.now() + timedelta(hours=1)
    assert deferred_notices.resend_due(later) == 1
    assert deferred_notices.resend_due(later) == 0
    assert len(sent(to=person["email"])) == 1 and _pending_notices() == []
    answer = {"ins": person["ins"], "birth_date": person["birth_date"], "code": enrolment.code_of(person)}
    assert api.post("/v1/enrolment/activate", answer).status_code == 200


def test_a_sent_invitation_leaves_nothing_pending(api, enrolment):
    from datetime import timedelta

    from chalicelib.core import clock
    from chalicelib.enrolment import deferred_notices

    person = invitee(211)
    enrolment.invite(enrolment.campaign(), [person])
    assert _pending_notices() == []
    assert deferred_notices.resend_due(clock.now() + timedelta(hours=1)) == 0
    assert len(sent(to=person["email"])) == 1
