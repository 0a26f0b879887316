"""What external clients found running the stack against its contract, docs/api.md (issue "Hardening"): each test is
one defect, driven through the public HTTP API on moto."""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest

from chalicelib.core.security.identifiers import rpps_check_digit
from tests.conftest import captured, invitee

ACTIVATE = "/v1/enrolment/activate"
PDF = base64.b64encode(b"%PDF-1.7\nCompte rendu\n%%EOF").decode()


def rpps(n: int) -> str:
    first = f"{n:010d}"
    return first + rpps_check_digit(first)


def error_of(response) -> dict:
    return response.json_body["error"]


def fields_of(response) -> set[str]:
    return {detail["field"] for detail in error_of(response).get("details") or []}


def document(**overrides) -> dict:
    return {
        "type": "lab_result",
        "title": "Bilan",
        "date": "2026-01-05",
        "media_type": "application/pdf",
        "content_base64": PDF,
        **overrides,
    }


# 1. The provisional-code lock under concurrency ----------------------------------------------


def _answers(person: dict, codes: list[str]) -> list[dict]:
    return [{"ins": person["ins"], "birth_date": person["birth_date"], "code": code} for code in codes]


@pytest.mark.parametrize("path", [ACTIVATE, "/v1/enrolment/oppose"])
def test_parallel_wrong_codes_try_at_most_five(api, enrolment, path):
    person = invitee(41)
    enrolment.invite(enrolment.campaign(), [person])
    wrong = _answers(person, [f"WRNG-CODE-{n:02d}" for n in range(30)])
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda body: api.post(path, body), wrong))
    assert Counter(error_of(a)["code"] for a in answers) == {"invalid_code": 5, "too_many_attempts": 25}
    assert {a.status_code for a in answers} == {403, 429}
    right = _answers(person, [enrolment.code_of(person)])[0]
    assert api.post(path, right).status_code == 429


def test_right_answers_do_not_use_up_the_attempts(api, enrolment):
    """Only wrong answers to a live code count toward the lock: right ones never do, even when the
    status refuses the move (409), so a person can always use their code; once it is used (the space
    active), answers to it are no longer counted at all."""
    person = invitee(42)
    enrolment.invite(enrolment.campaign(), [person])
    wrong, right = _answers(person, ["WRNG-CODE-00", enrolment.code_of(person)])
    for _ in range(4):
        assert api.post(ACTIVATE, wrong).status_code == 403
    assert api.post("/v1/enrolment/oppose", right).status_code == 200
    for _ in range(3):
        assert api.post("/v1/enrolment/oppose", right).status_code == 409
    assert api.post(ACTIVATE, right).status_code == 200
    for _ in range(3):  # the fifth wrong code and more: the code is used, nothing left to guess
        assert api.post(ACTIVATE, wrong).status_code == 403


# 2. Bodies the parser cannot take --------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 10_000 + b"]" * 10_000,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b'{"birth_date": "1985-03-14", "code": NaN}',
        b'{"code": "\xff"}',
    ],
    ids=["deep-arrays", "deep-objects", "nan", "not-utf8"],
)
def test_bodies_the_parser_cannot_take_are_400(api, token, raw):
    agent = token("enrolment_agent")  # a route that takes 64 KiB: room for 10,000 levels
    response = api.post("/v1/enrolment/campaigns", raw=raw, token=agent, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_request", response.body[:300]


def test_nesting_inside_strings_is_only_text(api, enrolment):
    person = invitee(43)
    enrolment.invite(enrolment.campaign(), [person])
    body = {**_answers(person, ["[" * 60])[0]}
    assert error_of(api.post(ACTIVATE, body))["code"] == "invalid_code"


# An unterminated string of escaped quotes: the string scanner restarted at each quote (160 KB: 39 s).
def hostile(length: int) -> bytes:
    return b'"' + b'\\"' * (length // 2)


QUICK = 1.0  # CPU seconds: generous, such a refusal takes milliseconds


def timed(request):
    """The response and the CPU time it took (the client runs the app in this process; CPU time,
    not wall time, so that other work on the machine does not count)."""
    started = time.process_time()
    response = request()
    return response, time.process_time() - started


def test_a_hostile_body_is_answered_at_once(api):
    response, took = timed(
        lambda: api.post(ACTIVATE, raw=hostile(160_000), headers={"Content-Type": "application/json"})
    )
    assert response.status_code in (400, 413) and took < QUICK, (response.status_code, took)


def test_a_hostile_body_under_the_limit_is_answered_at_once(api, enrolment):
    response, took = timed(lambda: api.post(ACTIVATE, raw=hostile(3_000), headers={"Content-Type": "application/json"}))
    assert response.status_code == 400 and took < QUICK, (response.status_code, took)
    patient_id, patient = enrolment.active_patient()
    in_a_document = b'{"title": ' + hostile(5_000_000)  # a deposit takes up to 6 MiB
    deposit = f"/v1/patients/{patient_id}/documents"
    response, took = timed(
        lambda: api.post(deposit, raw=in_a_document, token=patient, headers={"Content-Type": "application/json"})
    )
    assert response.status_code == 400 and took < QUICK, (response.status_code, took)


def test_each_route_takes_the_body_it_needs(api, enrolment):
    """Over its route's limit a body is refused unread (413); content routes keep their room."""
    too_long = json.dumps({"ins": "185057512345641", "birth_date": "1985-05-01", "code": "A" * 4096}).encode()
    for path in (ACTIVATE, "/v1/enrolment/oppose"):
        response = api.post(path, raw=too_long, headers={"Content-Type": "application/json"})
        assert response.status_code == 413 and error_of(response)["code"] == "payload_too_large", path
        assert fields_of(response) == {"body"} and "4 KiB" in error_of(response)["message"]
    patient_id, patient = enrolment.active_patient()
    space = f"/v1/patients/{patient_id}"
    many_words = {"substance": "arachide", "reaction": "urticaire " * 7_000}
    response = api.post(f"{space}/profile/allergies", many_words, token=patient)
    assert response.status_code == 413 and "64 KiB" in error_of(response)["message"]
    content = base64.b64encode(b"%PDF-" + b"x" * (4 * 1024 * 1024 - 5)).decode()  # 4 MiB exactly
    assert api.post(f"{space}/documents", document(content_base64=content), token=patient).status_code == 201
    response = api.post(
        f"{space}/documents",
        raw=b" " * (6 * 1024 * 1024 + 1),
        token=patient,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413 and "6 MiB" in error_of(response)["message"]


# 3. Claims of the wrong type -------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, claims, name",
    [
        ("professional", {"profession": ["medecin"]}, "profession"),
        ("professional", {"profession": {"medecin": True}}, "profession"),
        ("professional", {"rpps": True}, "rpps"),  # digits as a JSON number are an RPPS (test_input_bounds)
        ("professional", {"name": ["Dr", "Martin"]}, "name"),
        ("patient", {"ins": 1.85037500100004e14}, "ins"),
        ("patient", {"ins": ["185037500100004"]}, "ins"),
        ("app", {"client_id": ["app_demo"]}, "client_id"),
        ("app", {"patient_id": 12}, "patient_id"),
        ("app", {"scope": ["documents:read"]}, "scope"),
        ("patient", {"role": ["patient"]}, "role"),
    ],
)
def test_claims_of_the_wrong_type_are_401(api, enrolment, key_file, role, claims, name):
    from devstack import keys

    patient_id, _ = enrolment.active_patient()
    response = api.get(f"/v1/patients/{patient_id}/documents", token=keys.mint(role, claims, path=key_file))
    assert response.status_code == 401 and error_of(response)["code"] == "unauthenticated", response.json_body
    assert f"'{name}'" in error_of(response)["message"]


# 4. Cursors bound to their list, its filters and its caller ------------------------------------


@pytest.fixture
def lists(api, enrolment, token):
    """A space with two items in each of its lists, the patient's token and every list's path."""

    def set_up() -> tuple:
        patient_id, patient = enrolment.active_patient()
        doctor = token("professional", rpps=rpps(1), profession="medecin", name="Dr Martin")
        admin = token("catalogue_admin")
        space = f"/v1/patients/{patient_id}"
        conversations = []
        for n in range(2):
            assert api.post(f"{space}/documents", document(title=f"Bilan {n}"), token=patient).status_code == 201
            assert (
                api.post(
                    f"{space}/agenda",
                    {"kind": "appointment", "title": f"RDV {n}", "start": f"2099-01-0{n + 1}T09:00:00Z"},
                    token=patient,
                ).status_code
                == 201
            )
            measurement = {
                "kind": "weight",
                "value": 70 + n,
                "unit": "kg",
                "measured_at": f"2026-01-0{n + 1}T08:00:00Z",
            }
            assert api.post(f"{space}/profile/measurements", measurement, token=patient).status_code == 201
            app = {
                "name": f"App {n}",
                "publisher": "Éditeur",
                "category": "diabetes",
                "description": "Carnet.",
                "scopes": ["measurements:read"],
            }
            app_id = api.post("/v1/catalogue/apps", app, token=admin).json_body["app_id"]
            assert (
                api.post(
                    f"{space}/connections", {"app_id": app_id, "scopes": ["measurements:read"]}, token=patient
                ).status_code
                == 201
            )
            opened = api.post(
                "/v1/conversations",
                {"patient_id": patient_id, "subject": f"Objet {n}", "body": "Bonjour"},
                token=doctor,
            )
            conversations.append(opened.json_body["conversation_id"])
        assert (
            api.post(f"/v1/conversations/{conversations[0]}/messages", {"body": "Merci"}, token=patient).status_code
            == 201
        )
        paths = {
            "documents": f"{space}/documents",
            "activity": f"{space}/activity",
            "agenda": f"{space}/agenda",
            "measurements": f"{space}/profile/measurements",
            "connections": f"{space}/connections",
            "conversations": "/v1/conversations",
            "messages": f"/v1/conversations/{conversations[0]}/messages",
            "apps": "/v1/catalogue/apps",
        }
        return patient_id, patient, doctor, paths

    return captured((__name__, "lists"), set_up)


def _page(api, path: str, who: str, query: str = "") -> dict:
    separator = "&" if "?" in path else "?"
    response = api.get(f"{path}{separator}limit=1{query}", token=who)
    assert response.status_code == 200, (path, response.json_body)
    return response.json_body


def _refused(response) -> bool:
    return response.status_code == 400 and fields_of(response) == {"cursor"}


def test_a_cursor_works_only_on_its_own_list(api, lists, monkeypatch):
    from chalicelib.core.data import aws, layout

    _, patient, _, paths = lists
    cursors = {name: _page(api, path, patient)["next_cursor"] for name, path in paths.items()}
    assert all(cursors.values()), cursors
    for name, path in paths.items():
        assert len(_page(api, path, patient, f"&cursor={cursors[name]}")["items"]) == 1, name

    start_keys: list = []

    def recording(real_query):
        def query(**request):
            start_keys.append(request.get("ExclusiveStartKey"))
            return real_query(**request)

        return query

    for kind in (None, *layout.MODULE_TABLES):
        table = aws.table(kind)
        monkeypatch.setattr(table, "query", recording(table.query))
    accepted = [
        (cursor_of, used_on)
        for cursor_of, cursor in cursors.items()
        for used_on, path in paths.items()
        if cursor_of != used_on and not _refused(api.get(f"{path}?cursor={cursor}", token=patient))
    ]
    assert accepted == []
    assert not any(start_keys), "DynamoDB saw a foreign start key"


def test_a_cursor_is_bound_to_the_filters_and_the_caller(api, lists, token):
    patient_id, patient, doctor, paths = lists
    documents = paths["documents"]
    cursor = _page(api, documents, patient)["next_cursor"]
    assert _refused(api.get(f"{documents}?type=lab_result&cursor={cursor}", token=patient))
    typed = _page(api, documents, patient, "&type=lab_result")["next_cursor"]
    assert _refused(api.get(f"{documents}?cursor={typed}", token=patient))
    assert api.put(f"/v1/patients/{patient_id}/access/grants/{rpps(1)}", {}, token=patient).status_code == 200
    assert _refused(api.get(f"{documents}?cursor={cursor}", token=doctor))
    measurements = paths["measurements"]
    since = _page(api, measurements, patient, "&from=2025-12-01T00:00:00Z")["next_cursor"]
    assert _refused(api.get(f"{measurements}?from=2025-12-02T00:00:00Z&cursor={since}", token=patient))
    fresh = token("patient", ins=invitee(1)["ins"])  # the same patient, another token
    assert len(_page(api, documents, fresh, f"&cursor={cursor}")["items"]) == 1


def test_a_cursor_is_opaque_and_tamper_evident(api, lists):
    patient_id, patient, _, paths = lists
    page = _page(api, paths["documents"], patient)
    cursor = page["next_cursor"]
    clear = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    assert patient_id.encode() not in clear and b"DOC#" not in clear
    flipped = cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:]
    crafted = base64.urlsafe_b64encode(json.dumps({"pk": f"PAT#{patient_id}", "sk": "DOC#zzz"}).encode()).decode()
    for bad in (flipped, crafted, "not-a-cursor", cursor[:-4]):
        response = api.get(f"{paths['documents']}?cursor={bad}", token=patient)
        assert _refused(response), (bad, response.json_body)


# 5. Media types outside the allowed list --------------------------------------------------------


def test_a_media_type_not_allowed_is_415(api, enrolment, token):
    patient_id, patient = enrolment.active_patient()
    response = api.post(
        f"/v1/patients/{patient_id}/documents", document(media_type="application/x-msdownload"), token=patient
    )
    assert response.status_code == 415 and error_of(response)["code"] == "unsupported_media_type"
    assert fields_of(response) == {"media_type"}
    doctor = token("professional", rpps=rpps(2), profession="medecin", name="Dr B")
    attachment = {"filename": "x.exe", "media_type": "application/x-msdownload", "content_base64": PDF}
    body = {"patient_id": patient_id, "subject": "Objet", "body": "Bonjour", "attachments": [attachment]}
    response = api.post("/v1/conversations", body, token=doctor)
    assert response.status_code == 415 and fields_of(response) == {"attachments.0.media_type"}


# 6. Control characters -------------------------------------------------------------------------


@pytest.mark.parametrize("control", ["\u0000", "\u0007", "\u001b", "\u001f"])
def test_control_characters_are_refused_in_every_text(api, enrolment, control):
    patient_id, patient = enrolment.active_patient()
    space = f"/v1/patients/{patient_id}"
    cases = [
        (f"{space}/documents", document(title=f"Bilan{control}"), "title"),
        (f"{space}/profile/allergies", {"substance": f"arachide{control}"}, "substance"),
        (
            f"{space}/agenda",
            {"kind": "appointment", "title": "RDV", "start": "2099-01-01T09:00:00Z", "location": f"Paris{control}"},
            "location",
        ),
        (
            f"/v1/enrolment/campaigns/{enrolment.campaign()}/invitations",
            {"invitees": [invitee(44), invitee(45, family_name=f"Du{control}rand")]},
            "invitees.1.family_name",
        ),
    ]
    for path, body, field in cases:
        who = enrolment.agent if "enrolment" in path else patient
        response = api.post(path, body, token=who)
        assert response.status_code == 400 and fields_of(response) == {field}, (path, response.json_body)
    query = api.get(f"{space}/documents?type=lab_result{quote(control)}", token=patient)
    assert query.status_code == 400 and fields_of(query) == {"type"}
    assert "control characters" in error_of(query)["details"][0]["message"].lower()


def test_tab_and_line_breaks_are_text(api, enrolment):
    patient_id, patient = enrolment.active_patient()
    response = api.post(
        f"/v1/patients/{patient_id}/profile/allergies",
        {"substance": "arachide", "reaction": "urticaire\r\n\tœdème"},
        token=patient,
    )
    assert response.status_code == 201, response.json_body


# 7. Duplicate keys -----------------------------------------------------------------------------


def test_duplicate_keys_are_refused(api, enrolment):
    patient_id, patient = enrolment.active_patient()
    raw = b'{"substance": "arachide", "substance": "latex"}'
    response = api.post(
        f"/v1/patients/{patient_id}/profile/allergies",
        raw=raw,
        token=patient,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_request"
    assert fields_of(response) == {"substance"}
    nested = json.dumps({"invitees": [invitee(46)]})[:-3] + ', "email": "b@example.test"}]}'
    agent = enrolment.agent
    response = api.post(
        f"/v1/enrolment/campaigns/{enrolment.campaign()}/invitations",
        raw=nested.encode(),
        token=agent,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and fields_of(response) == {"invitees.0.email"}
    assert api.get(f"/v1/patients/{patient_id}/profile", token=patient).json_body["allergies"] == []


# 8. Numeric query parameters -------------------------------------------------------------------


@pytest.mark.parametrize("value", ["²", "٣", "１２", "-1", "1e3", "+5", " 7", "1_0", "12.0", "0", "201", "9" * 5000])
def test_a_limit_is_ascii_digits_within_its_bounds(api, value):
    response = api.get(f"/v1/catalogue/apps?limit={quote(value)}")
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_request", response.json_body
    assert fields_of(response) == {"limit"}
    assert api.get("/v1/catalogue/apps?limit=007").status_code == 200


# Moments UTC cannot hold (found by fuzzing: a 500) --------------------------------------------

YEAR_0 = "0001-01-01T00:03:00+01:00"  # the year 0 in UTC
YEAR_10000 = "9999-12-31T23:00:00-05:00"  # the year 10000 in UTC


@pytest.mark.parametrize("moment", [YEAR_0, YEAR_10000, "0999-12-31T00:00:00Z"])
def test_a_moment_utc_cannot_hold_is_a_400_naming_its_field(api, enrolment, moment):
    patient_id, patient = enrolment.active_patient(1)
    space = f"/v1/patients/{patient_id}"
    calls = {
        "from": lambda: api.get(f"{space}/profile/measurements?from={quote(moment)}", token=patient),
        "to": lambda: api.get(f"{space}/agenda?to={quote(moment)}", token=patient),
        "measured_at": lambda: api.post(
            f"{space}/profile/measurements",
            {"kind": "weight", "value": 70, "unit": "kg", "measured_at": moment},
            token=patient,
        ),
        "start": lambda: api.post(
            f"{space}/agenda", {"kind": "appointment", "title": "Visite", "start": moment}, token=patient
        ),
        "expires_at": lambda: api.put(f"{space}/access/grants/{rpps(7)}", {"expires_at": moment}, token=patient),
        "deadline": lambda: api.post(
            f"/v1/enrolment/campaigns/{enrolment.campaign()}/invitations",
            {"invitees": [invitee(99)], "deadline": moment},
            token=enrolment.agent,
        ),
    }
    for field, call in calls.items():
        response = call()
        assert response.status_code == 400 and error_of(response)["code"] == "invalid_request", (
            field,
            response.json_body,
        )
        assert fields_of(response) == {field}
        assert "9999" in json.dumps(error_of(response)), (field, response.json_body)
