"""Logs are JSON lines with a request id, and never carry an INS, a name or a code."""

import json

from tests.conftest import invitee


def test_a_flow_leaves_no_personal_data_in_logs(api, enrolment, capsys):
    person = invitee(5, family_name="Quenehervé", given_names="Maëlys")
    enrolment.invite(enrolment.campaign(), [person])
    code = enrolment.code_of(person)
    enrolment.activate(person)
    patient = enrolment.patient_token(person)
    api.get("/v1/me", token=patient)
    api.post("/v1/enrolment/activate", {"ins": person["ins"], "birth_date": "1900-01-01", "code": "WRONG"})
    output = capsys.readouterr().out
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert lines and all(line["request_id"] for line in lines)
    assert any(line["message"] == "request" and line["route"] == "/v1/me" for line in lines)
    for secret in (person["ins"], "Quenehervé", "Maëlys", person["email"], code, patient):
        assert secret not in output
