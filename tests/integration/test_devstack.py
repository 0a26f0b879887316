"""The local stack itself (``python -m devstack run``, started once on free ports for this file):
bursts of simultaneous connections, the outbox read from the moto server, and the errors the
local gateway answers as API Gateway does. Integration tests of devstack/, over real HTTP."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
from urllib.parse import urlsplit

import pytest

from devstack import keys
from tests.conftest import invitee

pytestmark = pytest.mark.devstack

PDF = "JVBERi0xLjcKJSVFT0YK"  # %PDF-1.7 %%EOF


@pytest.fixture(scope="module")
def smtp_port() -> int:
    from devstack.run import free_port

    return free_port()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, smtp_port):
    from devstack.run import started

    log_path = tmp_path_factory.mktemp("devstack") / "stack.log"
    with log_path.open("w") as log:
        try:
            with started(log, smtp_port=smtp_port) as urls:
                yield urls
        except SystemExit as failure:  # the stack did not come up: say why, with its log
            pytest.fail(f"{failure}\n{log_path.read_text()[-3000:]}")


def send(api: str, method: str, path: str, body=None, token=None, headers=None, raw: bytes | None = None):
    parts = urlsplit(api)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    all_headers = {"Connection": "close", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    payload = raw
    if body is not None:
        payload, all_headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    try:
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def outbox(moto: str, *args: str) -> list[dict]:
    """``python -m devstack outbox`` against this stack's moto: one JSON object per line."""
    env = {**os.environ, "MES_MOTO_PORT": str(urlsplit(moto).port)}
    printed = subprocess.run(
        [sys.executable, "-m", "devstack", "outbox", *args],
        env=env,
        cwd=keys.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return [json.loads(line) for line in printed.splitlines()]


@pytest.fixture(scope="module")
def space(stack):
    """(patient_id, doctor token) of a space enrolled through the API, its code read from the outbox."""
    api, moto, _ = stack
    agent = keys.mint("enrolment_agent")
    person = invitee(7301, email="burst7301@example.test")
    status, _, body = send(api, "POST", "/v1/enrolment/campaigns", {"name": "Devstack"}, agent)
    assert status == 201, body
    campaign = json.loads(body)["campaign_id"]
    status, _, body = send(
        api, "POST", f"/v1/enrolment/campaigns/{campaign}/invitations", {"invitees": [person]}, agent
    )
    assert status == 200 and json.loads(body)["accepted"] == 1, body
    [notice] = outbox(moto, "--to", person["email"])
    code = next(line for line in notice["body"].splitlines() if line.startswith("Code provisoire : ")).split(" : ")[1]
    status, _, body = send(
        api, "POST", "/v1/enrolment/activate", {"ins": person["ins"], "birth_date": person["birth_date"], "code": code}
    )
    assert status == 200, body
    patient_id = json.loads(body)["patient_id"]
    send(
        api,
        "PUT",
        f"/v1/patients/{patient_id}/access/grants/10000000009",
        {},
        keys.mint("patient", {"ins": person["ins"]}),
    )
    return patient_id, keys.mint("professional", {"rpps": "10000000009", "profession": "medecin"})


def test_bursts_of_simultaneous_deposits_lose_no_connection(stack, space):
    api, *_ = stack
    patient_id, doctor = space
    clients, outcomes = 48, []
    document = {
        "type": "lab_result",
        "title": "Bilan",
        "date": "2026-01-15",
        "media_type": "application/pdf",
        "content_base64": PDF,
    }

    def deposit(start: threading.Barrier) -> None:
        start.wait()
        try:
            outcomes.append(send(api, "POST", f"/v1/patients/{patient_id}/documents", document, doctor)[0])
        except (OSError, http.client.HTTPException) as error:  # reset, refused, timed out
            outcomes.append(type(error).__name__)

    for _ in range(2):
        start = threading.Barrier(clients)
        threads = [threading.Thread(target=deposit, args=(start,)) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert outcomes == [201] * (2 * clients)


def test_responses_say_how_long_their_aws_calls_took(stack, space):
    api, *_ = stack
    patient_id, doctor = space
    status, headers, _ = send(api, "GET", f"/v1/patients/{patient_id}/documents", token=doctor)
    assert status == 200
    assert float(headers["X-Devstack-Aws-Ms"]) > 0


def test_outbox_reads_emails_and_letters_from_the_moto_server_whatever_the_table_holds(stack, space):
    import boto3

    api, moto, _ = stack
    agent = keys.mint("enrolment_agent")
    address = "3 rue des Tests, 75011 Paris"
    _, _, body = send(api, "POST", "/v1/enrolment/campaigns", {"name": "Lettres"}, agent)
    campaign = json.loads(body)["campaign_id"]
    letter_invitee = {**{k: v for k, v in invitee(7302).items() if k != "email"}, "postal_address": address}
    send(api, "POST", f"/v1/enrolment/campaigns/{campaign}/invitations", {"invitees": [letter_invitee]}, agent)

    [letter] = outbox(moto, "--to", address)
    assert letter["channel"] == "letter" and "Code provisoire : " in letter["body"] and letter["subject"]
    everything = outbox(moto)
    assert {"email", "letter"} <= {n["channel"] for n in everything} <= {"email", "letter", "mssante"}
    assert all({"channel", "to", "subject", "body"} <= set(n) for n in everything)

    from devstack.outbox import ROUTE

    before = _get(f"{moto}{ROUTE}")
    table = boto3.resource(
        "dynamodb", endpoint_url=moto, region_name="eu-west-3", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with table.Table("mes-local").batch_writer() as writer:
        for n in range(5000):
            writer.put_item(
                Item={
                    "pk": f"PAT#pat_filler{n // 50}",
                    "sk": f"MEAS#weight#2026-01-01T00:00:{n % 50:02d}Z#m{n}",
                    "value": n,
                }
            )
    assert _get(f"{moto}{ROUTE}") == before  # what it answers does not grow with the table
    assert outbox(moto, "--to", address) == [letter]


def _get(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        return response.read()


def _gateway_response(kind: str) -> dict:
    from infra.package import API_OVERLAY as OVERLAY
    from infra.render import load_template

    definition = load_template(OVERLAY)["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    return json.loads(
        definition["x-amazon-apigateway-gateway-responses"][kind]["responseTemplates"]["application/json"]
    )


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/v1/patients/pat_x/profile/bogus"),  # no such route
        ("GET", "/v2/health"),
        ("DELETE", "/v1/health"),  # a route without this method: API Gateway answers the same
        ("HEAD", "/v1/health"),
    ],
)
def test_unknown_routes_and_methods_answer_as_the_gateway_does(stack, method, path):
    api, _, portal = stack  # the portal is the local stage's web origin
    status, headers, body = send(api, method, path, headers={"Origin": portal, "Authorization": "Bearer x"})
    assert status == 404
    assert headers["Access-Control-Allow-Origin"] == portal
    assert headers["Vary"] == "Origin"
    if method != "HEAD":
        assert json.loads(body) == _gateway_response("MISSING_AUTHENTICATION_TOKEN")
        assert json.loads(body)["error"]["code"] == "not_found"


def test_a_body_over_the_gateway_limit_is_refused_by_the_gateway(stack, space):
    api, *_ = stack
    patient_id, doctor = space
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {doctor}"}
    status, _, body = send(
        api, "POST", f"/v1/patients/{patient_id}/documents", headers=headers, raw=b" " * (10 * 1024 * 1024 + 1)
    )
    assert (status, json.loads(body)) == (413, _gateway_response("REQUEST_TOO_LARGE"))


def test_the_workers_sign_the_history_heads_from_the_table_stream(stack, space):
    """The stream read as the signer's event source would, in moto's server: verify soon starts at
    a signed head (docs/decisions/0006-signed-history-heads.md)."""
    import time

    api, _, _ = stack
    patient_id, _ = space
    patient = keys.mint("patient", {"ins": invitee(7301)["ins"]})
    deadline = time.monotonic() + 30
    while True:
        status, _, body = send(api, "GET", f"/v1/patients/{patient_id}/activity/verify", token=patient)
        assert status == 200, body
        check = json.loads(body)
        if check["signed"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert check["valid"] is True and check["signed"] is True, check


def test_the_stack_receives_mssante_mail_and_answers_by_mail(stack, space, smtp_port):
    """``make run``'s mail exchanger (docs/api.md § MSSanté): a mail from a directory mailbox lands in
    the patient's messaging, and the patient's answer is in the outbox."""
    import smtplib
    from email import policy
    from email.message import EmailMessage

    api, moto, _ = stack
    doctor = "dr.devstack@hopital.mssante.fr"
    entry = {"rpps": "10000000009", "name": "Dr Devstack", "profession": "medecin"}
    status, _, body = send(api, "PUT", f"/v1/mssante/directory/{doctor}", entry, keys.mint("directory_admin"))
    assert status == 200, body
    person = invitee(7301, email="burst7301@example.test")
    to = f"{person['ins'].lower()}@patient.mssante.fr"
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"], mail["Message-ID"] = doctor, to, "Devstack", "<d1@hopital.mssante.fr>"
    mail.set_content("Bonjour")
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=60) as client:
        assert client.sendmail(doctor, [to], mail.as_bytes(policy=policy.SMTP)) == {}
    patient = keys.mint("patient", {"ins": person["ins"]})
    status, _, body = send(api, "GET", "/v1/conversations", token=patient)
    (conversation,) = [c for c in json.loads(body)["items"] if c["subject"] == "Devstack"]
    path = f"/v1/conversations/{conversation['conversation_id']}/messages"
    status, _, body = send(api, "POST", path, {"body": "Merci"}, patient)
    assert status == 201, body
    (answer,) = [n for n in outbox(moto, "--to", doctor) if n["channel"] == "mssante"]
    assert answer["subject"] == "Re: Devstack" and answer["in_reply_to"] == "<d1@hopital.mssante.fr>"
