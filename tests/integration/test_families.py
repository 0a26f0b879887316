"""Families through the API on moto: minors' spaces managed by their legal representatives, the
minor's secret, majority, guardians of protected adults (docs/domain.md § Families, docs/api.md § Families)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from chalicelib.core import clock
from chalicelib.core.security.identifiers import rpps_check_digit
from tests.conftest import captured, code_from, invitee, make_ins
from tests.integration.test_documents import PDF, document, whole_history


def rpps(n: int) -> str:
    first = f"{5000000000 + n:010d}"
    return first + rpps_check_digit(first)


def years_ago(years: int, days: int = 0) -> str:
    """The birth date of someone whose ``years``-th birthday is ``days`` from today."""
    today = clock.now().date()
    born = today.replace(year=today.year - years) if not (today.month == 2 and today.day == 29) else None
    if born is None:
        pytest.skip("nobody turns 18 on 29 February")
    return (born + timedelta(days=days)).isoformat()


def adult(n: int, **overrides) -> dict:
    return invitee(n, **{"birth_date": "1980-06-01", **overrides})


def representative(n: int, **overrides) -> dict:
    return {key: value for key, value in adult(n, **overrides).items() if value is not None}


def child(n: int, representatives: list[dict], birth_date: str | None = None, **overrides) -> dict:
    person = invitee(n, birth_date=birth_date or years_ago(10), **overrides)
    person.pop("email")
    return {**person, "representatives": representatives}


ANY = {"Accept": "*/*"}


def sent_to(address: str) -> list[dict]:
    from devstack.outbox import sent

    return sent(to=address)


class Family:
    """A child invited with two representatives (one by email, one by letter), and activated."""

    def __init__(self, api, enrolment, token, birth_date: str | None = None, n: int = 100):
        self.api, self.enrolment, self.token = api, enrolment, token
        self.parents = [
            representative(n + 1),
            representative(n + 2, email=None, postal_address="2 rue des Lilas, 75020 Paris"),
        ]
        # the child has an address of their own: no notice about the space goes there before 18
        self.child = {**child(n, self.parents, birth_date), "email": f"child{n}@example.test"}
        self.patient_id = captured((__name__, "family", birth_date, n), lambda: self._enrol(api, enrolment))
        self.base = f"/v1/patients/{self.patient_id}"
        self.parent = token("patient", ins=self.parents[0]["ins"])
        self.other_parent = token("patient", ins=self.parents[1]["ins"])
        self.own = token("patient", ins=self.child["ins"])
        self.doctor = token("professional", rpps=rpps(1), profession="medecin", name="Dr A")

    def _enrol(self, api, enrolment) -> str:
        result = enrolment.invite(enrolment.campaign(), [self.child])
        assert result["accepted"] == 1, result
        code = code_from(sent_to(self.parents[0]["email"])[-1])
        answer = {"ins": self.child["ins"], "birth_date": self.child["birth_date"], "code": code}
        response = api.post(
            "/v1/enrolment/activate", answer
        )  # a representative types the child's INS, birth date and code
        assert response.status_code == 200, response.json_body
        return response.json_body["patient_id"]

    def deposit(self, who: str, **overrides) -> dict:
        response = self.api.post(f"{self.base}/documents", document(**overrides), token=who)
        assert response.status_code == 201, response.json_body
        return response.json_body

    def titles(self, who: str, query: str = "") -> list[str]:
        response = self.api.get(f"{self.base}/documents{query}", token=who)
        assert response.status_code == 200, response.json_body
        return [d["title"] for d in response.json_body["items"]]

    def activity(self, who: str) -> list[dict]:
        return self.api.get(f"{self.base}/activity?limit=200", token=who).json_body["items"]


@pytest.fixture
def family(api, enrolment, token) -> Family:
    return Family(api, enrolment, token)


def test_a_minor_is_invited_through_their_representatives(api, enrolment):
    parents = [representative(11), representative(12, email=None, postal_address="12 rue des Lilas, 75020 Paris")]
    kid = {**child(10, parents), "email": "kid@example.test"}
    campaign = enrolment.campaign()
    bad = [
        child(20, []),  # no representative
        {key: value for key, value in child(21, parents).items() if key != "representatives"},
        child(22, [representative(23, birth_date=years_ago(17))]),  # a representative under 18
        child(24, [representative(25), representative(26), representative(27)]),  # three
        {**adult(28), "representatives": [representative(29)]},  # an adult: a guardianship instead
        child(30, [representative(30)]),  # the child as their own representative
    ]
    result = enrolment.invite(campaign, [kid, *bad])
    assert result["accepted"] == 1
    assert [(r["index"], r["error"]["code"]) for r in result["rejected"]] == [
        (i, "invalid_request") for i in range(1, 7)
    ]
    assert "representatives" in result["rejected"][0]["error"]["message"]
    email, letter = sent_to(parents[0]["email"]), sent_to(parents[1]["postal_address"])
    assert len(email) == 1 and len(letter) == 1 and letter[0]["channel"] == "letter"
    assert code_from(email[0]) == code_from(letter[0])  # one code, told to each representative
    assert "représentant légal" in email[0]["body"]
    for notice in (email[0], letter[0]):
        assert kid["ins"] not in notice["body"] and kid["given_names"] not in notice["body"]
    assert sent_to("kid@example.test") == []  # never to the child
    counts = api.get(f"/v1/enrolment/campaigns/{campaign}", token=enrolment.agent).json_body["counts"]
    assert counts["invited"] == 1


def test_representatives_act_under_their_own_person_id(api, enrolment, token):
    # the first parent has a space of their own already; the second gets one later
    first = representative(41)
    first_id = enrolment.activate(first) if enrolment.invite(enrolment.campaign(), [first]) else None
    second = representative(42)
    kid = child(40, [first, second])
    enrolment.invite(enrolment.campaign(), [kid])
    code = code_from(sent_to(second["email"])[-1])
    patient_id = api.post(
        "/v1/enrolment/activate", {"ins": kid["ins"], "birth_date": kid["birth_date"], "code": code}
    ).json_body["patient_id"]
    for parent in (first, second):
        deposit = api.post(
            f"/v1/patients/{patient_id}/documents",
            document(title=parent["email"]),
            token=enrolment.patient_token(parent),
        )
        assert deposit.status_code == 201, deposit.json_body
    authors = {
        d["title"]: d["author"]
        for d in api.get(f"/v1/patients/{patient_id}/documents", token=enrolment.patient_token(first)).json_body[
            "items"
        ]
    }
    assert authors[first["email"]] == {"role": "representative", "id": first_id}
    second_id = authors[second["email"]]["id"]
    assert authors[second["email"]]["role"] == "representative" and second_id != first_id
    # invited in turn, the second parent's space takes the id they already act under
    enrolment.invite(enrolment.campaign(), [second])
    assert enrolment.activate(second) == second_id


def test_a_representative_manages_the_childs_space(api, family, token):
    dependants = api.get("/v1/me/dependants", token=family.parent)
    assert dependants.status_code == 200
    assert dependants.json_body == {
        "items": [
            {
                "patient_id": family.patient_id,
                "family_name": family.child["family_name"],
                "given_names": family.child["given_names"],
                "birth_date": family.child["birth_date"],
                "status": "active",
                "relationship": "legal_representative",
                "until": (
                    date.fromisoformat(family.child["birth_date"]).replace(
                        year=date.fromisoformat(family.child["birth_date"]).year + 18
                    )
                ).isoformat(),
            }
        ],
        "next_cursor": None,
    }
    assert (
        api.get("/v1/me/dependants", token=family.other_parent).json_body["items"][0]["patient_id"] == family.patient_id
    )
    mine = family.deposit(family.parent, title="Carnet de santé", type="vaccination_record")
    assert mine["author"]["role"] == "representative"
    content = api.get(f"{family.base}/documents/{mine['document_id']}/content", token=family.parent, headers=ANY)
    assert content.status_code == 200 and content.body == PDF
    assert family.titles(family.other_parent) == ["Carnet de santé"]
    for path in ("/profile", "/agenda", "/access", "/connections", "/activity", "/activity/verify", "/export"):
        assert api.get(family.base + path, token=family.parent).status_code == 200, path
    grant = api.put(f"{family.base}/access/grants/{rpps(1)}", {}, token=family.parent)
    assert grant.status_code == 200
    actors = {(e["action"], e["actor"]["role"]) for e in family.activity(family.parent)}
    assert {
        ("document.created", "representative"),
        ("access.granted", "representative"),
        ("enrolment.activated", "patient"),
    } <= actors
    # the child's own login reaches nothing, and is told who manages the space until when
    refused = api.get(f"{family.base}/documents", token=family.own)
    until = dependants.json_body["items"][0]["until"]
    assert refused.status_code == 403
    assert (
        refused.json_body["error"]["message"] == f"This space is managed by your legal representatives until {until}."
    )
    assert api.get("/v1/me", token=family.own).status_code == 403
    assert api.post("/v1/me/close", {}, token=family.own).status_code == 403
    # a stranger's patient token: the space does not exist for them
    assert api.get(f"{family.base}/documents", token=token("patient", ins=make_ins(999))).status_code == 404
    # professionals see who they deal with
    found = api.post(
        "/v1/patients/search",
        {"ins": family.child["ins"], "birth_date": family.child["birth_date"]},
        token=family.doctor,
    )
    assert found.json_body["minor"] is True and found.json_body["patient_id"] == family.patient_id
    # and a representative closes the space as the holder would
    closed = api.post(f"{family.base}/close", {}, token=family.other_parent)
    assert closed.status_code == 200 and closed.json_body == {"status": "closed"}
    assert family.activity(family.parent)[0]["action"] == "account.closed"
    assert family.activity(family.parent)[0]["actor"]["role"] == "representative"


def test_the_minors_secret_leaves_no_trace_for_the_representatives(api, family, token):
    visible = [family.deposit(family.doctor, title=f"Visible {n}") for n in range(3)]
    secret = family.deposit(family.doctor, title="Contraception", hidden_from_representatives=True)
    visible.append(family.deposit(family.doctor, title="Visible 3"))
    assert secret["hidden_from_representatives"] is True and visible[0]["hidden_from_representatives"] is False
    secret_path = f"{family.base}/documents/{secret['document_id']}"
    # the author and the professionals with access see it as usual
    assert api.get(secret_path, token=family.doctor).status_code == 200
    assert api.get(secret_path + "/content", token=family.doctor, headers=ANY).status_code == 200
    expected = [d["title"] for d in reversed(visible)]
    for parent in (family.parent, family.other_parent):
        assert family.titles(parent) == expected
        assert family.titles(parent, "?type=consultation_report") == expected
        # pages of one: exactly one per visible document, each full, the cursor ends with them
        seen, cursor, pages = [], None, 0
        while True:
            page = api.get(
                f"{family.base}/documents?limit=1" + (f"&cursor={cursor}" if cursor else ""), token=parent
            ).json_body
            seen += [d["title"] for d in page["items"]]
            pages += 1
            assert len(page["items"]) == 1
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == expected and pages == len(expected)
        around = api.get(f"{family.base}/documents?limit=2&type=consultation_report", token=parent).json_body
        assert [d["title"] for d in around["items"]] == expected[:2] and around["next_cursor"]
        # metadata and content: the same 404 as a document that never existed
        missing = api.get(f"{family.base}/documents/doc_00000000000000000000000000", token=parent)
        for path in (secret_path, secret_path + "/content"):
            response = api.get(path, token=parent, headers=ANY)
            assert (response.status_code, response.json_body) == (404, missing.json_body)
        for change in ({"masked": True}, {"hidden_from_representatives": False}):
            assert api.patch(secret_path, change, token=parent).status_code == 404
        assert api.delete(secret_path, token=parent).status_code == 404
        # the export
        bundle = api.get(f"{family.base}/export", token=parent).json_body
        titles = [
            e["resource"].get("description")
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "DocumentReference"
        ]
        assert sorted(titles) == sorted(expected)
        # the history: no event about it, and the check counts what they see
        events = family.activity(parent)
        assert secret["document_id"] not in {e.get("resource") for e in events}
        check = api.get(f"{family.base}/activity/verify", token=parent).json_body
        assert check == {
            "valid": True,
            "events": len(api.get(f"{family.base}/activity?limit=200", token=parent).json_body["items"]),
            "signed": False,
        }
    # the history's pages of one skip the hidden events without a short page
    cursor, pages = None, 0
    while True:
        page = api.get(
            f"{family.base}/activity?limit=1" + (f"&cursor={cursor}" if cursor else ""), token=family.parent
        ).json_body
        assert len(page["items"]) == 1 and page["items"][0].get("resource") != secret["document_id"]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == api.get(f"{family.base}/activity/verify", token=family.parent).json_body["events"]
    # who may hide a document, and where
    assert (
        api.post(
            f"{family.base}/documents", document(hidden_from_representatives=True), token=family.parent
        ).status_code
        == 400
    )
    adult_id, adult_token = family.enrolment.active_patient(77)
    for who in (family.doctor, adult_token):
        refused = api.post(f"/v1/patients/{adult_id}/documents", document(hidden_from_representatives=True), token=who)
        assert (
            refused.status_code == 400
            and refused.json_body["error"]["details"][0]["field"] == "hidden_from_representatives"
        )
    # only its author lifts it, once and for good
    other_doctor = token("professional", rpps=rpps(2), profession="medecin")
    assert api.patch(secret_path, {"hidden_from_representatives": False}, token=other_doctor).status_code in (403, 404)
    assert api.patch(secret_path, {"hidden_from_representatives": True}, token=family.doctor).status_code == 409
    lifted = api.patch(secret_path, {"hidden_from_representatives": False}, token=family.doctor)
    assert lifted.status_code == 200 and lifted.json_body["hidden_from_representatives"] is False
    assert api.patch(secret_path, {"hidden_from_representatives": False}, token=family.doctor).status_code == 409
    assert api.patch(secret_path, {"hidden_from_representatives": True}, token=family.doctor).status_code == 409
    assert "Contraception" in family.titles(family.parent)
    assert api.get(secret_path + "/content", token=family.parent, headers=ANY).status_code == 200


@pytest.mark.parametrize(
    "change", [{"masked": True, "hidden_from_representatives": False}, {"masked": True, "invisible_to_patient": False}]
)
def test_a_representatives_patch_refused_in_part_writes_nothing(api, family, change):
    visible = family.deposit(family.doctor, title="Vaccins")
    path = f"{family.base}/documents/{visible['document_id']}"
    before = family.activity(family.parent)
    assert api.patch(path, change, token=family.parent).status_code == 403  # releasing and disclosing are the author's
    assert family.activity(family.parent) == before
    assert api.get(path, token=family.parent).json_body == visible


def test_the_authors_release_and_disclosure_are_written_at_once(api, family, monkeypatch):
    from chalicelib.core.history import journal

    secret = family.deposit(
        family.doctor, title="Contraception", invisible_to_patient=True, hidden_from_representatives=True
    )
    path = f"{family.base}/documents/{secret['document_id']}"
    commit_events, commits = journal.commit_events, []

    def counted(patient_id, actor, events, **kwargs):
        commits.append([event.action for event in events])
        return commit_events(patient_id, actor, events, **kwargs)

    monkeypatch.setattr(journal, "commit_events", counted)
    both = api.patch(path, {"invisible_to_patient": False, "hidden_from_representatives": False}, token=family.doctor)
    assert both.status_code == 200
    assert (both.json_body["invisible_to_patient"], both.json_body["hidden_from_representatives"]) == (False, False)
    assert commits == [["document.released", "document.disclosed"]]  # one transaction
    assert api.get(path, token=family.parent).json_body == both.json_body


def test_majority_on_the_18th_birthday(api, enrolment, token, app_clock):
    family = Family(api, enrolment, token, birth_date=years_ago(18, days=1), n=200)  # 18 tomorrow
    tomorrow = date.fromisoformat(family.child["birth_date"]).replace(
        year=date.fromisoformat(family.child["birth_date"]).year + 18
    )
    family.deposit(family.doctor, title="Ordinaire")
    family.deposit(family.doctor, title="Secret", hidden_from_representatives=True)
    # the day before: the representatives manage, the child's login reaches nothing
    assert family.titles(family.parent) == ["Ordinaire"]
    refused = api.get(f"{family.base}/documents", token=family.own)
    assert refused.status_code == 403 and tomorrow.isoformat() in refused.json_body["error"]["message"]
    for days in (1, 2):  # the day of the 18th birthday, and the day after
        app_clock.at(days=days)
        for parent in (family.parent, family.other_parent):
            for path in ("/documents", "/profile", "/activity", "/export", "/access"):
                assert api.get(family.base + path, token=parent).status_code in (403, 404), (days, path)
            assert api.get("/v1/me/dependants", token=parent).json_body["items"] == []
        assert family.titles(family.own) == ["Secret", "Ordinaire"]
        me = api.get("/v1/me", token=family.own)
        assert me.status_code == 200 and me.json_body["patient_id"] == family.patient_id
        events = family.activity(family.own)
        assert any(e["action"] == "document.created" for e in events)
        assert api.get(f"{family.base}/activity/verify", token=family.own).json_body == {
            "valid": True,
            "events": len(events),
            "signed": False,
        }
    found = api.post(
        "/v1/patients/search",
        {"ins": family.child["ins"], "birth_date": family.child["birth_date"]},
        token=family.doctor,
    )
    assert found.json_body["minor"] is False


def test_a_guardian_acts_for_a_protected_adult_until_the_end_date(api, enrolment, token, app_clock):
    person = invitee(300)
    patient_id, own = enrolment.active_patient(300)
    guardian = representative(301)
    guardian_token = token("patient", ins=guardian["ins"])
    base = f"/v1/patients/{patient_id}"
    body = {
        "ins": person["ins"],
        "birth_date": person["birth_date"],
        "guardian": {key: guardian[key] for key in ("ins", "birth_date", "family_name", "given_names")},
        "court_reference": "TJ Paris 24/01234",
    }
    today = clock.now().date()
    until = (today + timedelta(days=30)).isoformat()
    # refused: an end date in the past, a minor, a guardian under 18, an unknown person
    assert (
        api.post(
            "/v1/enrolment/guardianships",
            {**body, "until": (today - timedelta(days=1)).isoformat()},
            token=enrolment.agent,
        ).status_code
        == 400
    )
    assert (
        api.post(
            "/v1/enrolment/guardianships", {**body, "birth_date": years_ago(16)}, token=enrolment.agent
        ).status_code
        == 400
    )
    young = {**body["guardian"], "birth_date": years_ago(17)}
    assert (
        api.post("/v1/enrolment/guardianships", {**body, "guardian": young}, token=enrolment.agent).status_code == 400
    )
    assert (
        api.post("/v1/enrolment/guardianships", {**body, "birth_date": "1970-01-01"}, token=enrolment.agent).status_code
        == 404
    )
    assert api.post("/v1/enrolment/guardianships", body, token=token("patient", ins=person["ins"])).status_code == 403
    assert api.get(f"{base}/documents", token=guardian_token).status_code == 404  # nothing yet
    recorded = api.post("/v1/enrolment/guardianships", {**body, "until": until}, token=enrolment.agent)
    assert recorded.status_code == 201, recorded.json_body
    assert recorded.json_body["patient_id"] == patient_id and recorded.json_body["until"] == until
    assert (
        api.post("/v1/enrolment/guardianships", body, token=enrolment.agent).status_code == 409
    )  # already their guardian
    listed = api.get("/v1/me/dependants", token=guardian_token).json_body["items"]
    assert [(d["patient_id"], d["relationship"], d["until"]) for d in listed] == [(patient_id, "guardian", until)]
    deposit = api.post(f"{base}/documents", document(title="Par le tuteur"), token=guardian_token)
    assert deposit.status_code == 201 and deposit.json_body["author"]["role"] == "representative"
    assert [d["title"] for d in api.get(f"{base}/documents", token=own).json_body["items"]] == [
        "Par le tuteur"
    ]  # the adult keeps access
    # no minor's secret for an adult
    doctor = token("professional", rpps=rpps(3), profession="medecin")
    assert api.post(f"{base}/documents", document(hidden_from_representatives=True), token=doctor).status_code == 400
    # past the end date: nothing
    app_clock.at(days=31)
    assert api.get(f"{base}/documents", token=guardian_token).status_code == 403
    assert api.get("/v1/me/dependants", token=guardian_token).json_body["items"] == []
    assert api.get(f"{base}/documents", token=own).status_code == 200
    app_clock.at(days=0)
    ended = api.delete(f"/v1/enrolment/guardianships/{recorded.json_body['guardianship_id']}", token=enrolment.agent)
    assert ended.status_code == 204
    assert (
        api.delete(
            f"/v1/enrolment/guardianships/{recorded.json_body['guardianship_id']}", token=enrolment.agent
        ).status_code
        == 404
    )
    assert api.get(f"{base}/documents", token=guardian_token).status_code == 404
    actions = [e["action"] for e in api.get(f"{base}/activity", token=own).json_body["items"]]
    assert (
        actions.index("guardianship.ended") < actions.index("document.created") < actions.index("guardianship.recorded")
    )
    # a guardianship without an end date, recorded again after the first ended
    again = api.post("/v1/enrolment/guardianships", body, token=enrolment.agent)
    assert again.status_code == 201 and again.json_body["until"] is None
    assert api.get(f"{base}/documents", token=guardian_token).status_code == 200


def test_a_hidden_replacement_leaves_no_trace_for_the_representatives(api, family):
    """A document hidden from the representatives that replaces a visible one: for them the older
    one is still current, and nothing (link, status, event, count, page, export) names the newer."""
    older = family.deposit(family.doctor, title="Bilan")
    family.deposit(family.doctor, title="Vaccins")
    older_path = f"{family.base}/documents/{older['document_id']}"

    def seen_by(parent: str) -> dict:
        events = [
            (e["action"], e.get("resource")) for e in family.activity(parent) if e["actor"]["role"] != "representative"
        ]
        return {
            "current": api.get(f"{family.base}/documents", token=parent).json_body["items"],
            "superseded": api.get(f"{family.base}/documents?status=superseded", token=parent).json_body["items"],
            "older": api.get(older_path, token=parent).json_body,
            "events": events,
        }

    before = {parent: seen_by(parent) for parent in (family.parent, family.other_parent)}
    newer = family.deposit(
        family.doctor, title="Bilan corrigé", hidden_from_representatives=True, replaces=older["document_id"]
    )
    for parent in (family.parent, family.other_parent):
        after = seen_by(parent)
        assert after == before[parent]
        assert after["older"]["status"] == "current" and after["older"]["replaced_by"] is None
        assert after["superseded"] == []
        bundle = api.get(f"{family.base}/export", token=parent).json_body
        assert newer["document_id"] not in str(bundle)
        # the history in pages of one: each full, none about the newer, as many as verify counts
        listed = whole_history(api, family.patient_id, parent)
        assert newer["document_id"] not in str(listed) and "document.superseded" not in {e["action"] for e in listed}
    assert api.get(older_path, token=family.doctor).json_body["replaced_by"] == newer["document_id"]
    # once its author lifts the secret, the replacement shows (its past events stay theirs)
    assert (
        api.patch(
            f"{family.base}/documents/{newer['document_id']}",
            {"hidden_from_representatives": False},
            token=family.doctor,
        ).status_code
        == 200
    )
    lifted = api.get(older_path, token=family.parent).json_body
    assert (lifted["status"], lifted["replaced_by"]) == ("superseded", newer["document_id"])
    assert [
        d["document_id"]
        for d in api.get(f"{family.base}/documents?status=superseded", token=family.parent).json_body["items"]
    ] == [older["document_id"]]
