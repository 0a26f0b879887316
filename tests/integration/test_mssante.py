"""MSSanté (docs/api.md § MSSanté): real SMTP conversations (smtplib) with the local mail exchanger
(devstack/smtp_server.py, aiosmtpd) on moto, each reply at its stage; the directory API; threading;
the patient's answer by mail in the outbox; what is kept, and what is not."""

from __future__ import annotations

import base64
import json
import logging
import smtplib
from email import policy
from email.message import EmailMessage
from typing import cast

import boto3
import pytest

from chalicelib.core.security.identifiers import rpps_check_digit
from chalicelib.core.settings import settings
from tests.conftest import captured, every_stored_item, invitee, make_ins
from tests.integration.test_family_messaging import inbox, messages

SECRET = "Votre bilan thyroïdien est normal, TSH à 1,8 mUI/L"
PDF = b"%PDF-1.7\n" + bytes(range(256)) + b"\nCompte rendu\n%%EOF"
DOCTOR = "Dr.Martin@hopital-nord.mssante.fr"
OTHER_DOCTOR = "c.durand@chu-sud.mssante.fr"


def rpps(n: int) -> str:
    first = f"{n:010d}"
    return first + rpps_check_digit(first)


@pytest.fixture
def exchanger(cloud):
    """The local mail exchanger on a free port, on this test's moto."""
    from devstack.run import free_port
    from devstack.smtp_server import MailExchanger

    server = MailExchanger(port=free_port())
    server.start()
    try:
        yield server.port
    finally:
        server.stop()


@pytest.fixture
def admin(token):
    return token("directory_admin")


def listed(api, admin, address: str, n: int = 1, name: str = "Dr Alice Martin") -> None:
    body = {"rpps": rpps(n), "name": name, "profession": "medecin"}
    response = api.put(f"/v1/mssante/directory/{address}", body, token=admin)
    assert response.status_code == 200, response.json_body


@pytest.fixture
def world(api, admin, enrolment):
    """A patient with an open space, two professionals in the directory."""
    person = invitee(1)

    def set_up() -> str:
        patient_id, _ = enrolment.active_patient(1)
        listed(api, admin, DOCTOR, 1)
        listed(api, admin, OTHER_DOCTOR, 2, "Dr Claire Durand")
        return patient_id

    patient_id = captured(__name__, set_up)
    return {
        "patient_id": patient_id,
        "token": enrolment.patient_token(person),
        "person": person,
        "address": f"{person['ins'].lower()}@patient.mssante.fr",
    }


def mail(sender: str, to: str, subject: str = "Résultats", body: str = SECRET, **headers) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def wire(message: EmailMessage) -> bytes:
    """As a mail client sends it: CRLF line ends (smtplib leaves bytes as they are)."""
    return message.as_bytes(policy=policy.SMTP)


def send(port: int, message: EmailMessage | bytes, sender: str, recipients: list[str]) -> tuple[int, str]:
    """The reply to DATA (a refusal before it raises smtplib's error)."""
    raw = message if isinstance(message, bytes) else wire(message)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("logiciel.hopital-nord.mssante.fr")
        code, text = client.mail(sender)
        assert code == 250, (code, text)
        for recipient in recipients:
            code, text = client.rcpt(recipient)
            assert code == 250, (code, text)
        code, text = client.data(raw)
        assert client.noop()[0] == 250  # the server is still there
        return code, text.decode()


def inbound_objects() -> list[dict]:
    s3 = boto3.client("s3", region_name="eu-west-3")
    listing = s3.list_object_versions(Bucket=settings().inbound_mail_bucket)
    return listing.get("Versions", []) + listing.get("DeleteMarkers", [])


def conversations_stored() -> list[dict]:
    return [item for item in every_stored_item() if str(item["pk"]).startswith(("CONV#", "MAILID#"))]


# --- the directory ------------------------------------------------------------------------------


def test_directory_entries_are_put_read_and_deleted_case_insensitively(api, admin):
    address = "Jean.Dupont@Cabinet-Lyon.MSSante.fr"
    body = {"rpps": rpps(7), "name": "Dr Jean Dupont", "profession": "medecin"}
    put = api.put(f"/v1/mssante/directory/{address}", body, token=admin)
    assert put.status_code == 200, put.json_body
    assert put.json_body == {"address": address.lower(), **body}
    again = api.get("/v1/mssante/directory/jean.dupont%40cabinet-lyon.mssante.fr", token=admin)
    assert again.status_code == 200 and again.json_body == put.json_body
    assert api.delete(f"/v1/mssante/directory/{address.upper()}", token=admin).status_code == 204
    assert api.get(f"/v1/mssante/directory/{address}", token=admin).status_code == 404
    assert api.delete(f"/v1/mssante/directory/{address}", token=admin).status_code == 404


@pytest.mark.parametrize(
    "address",
    [
        "jean@gmail.com",
        "jean@mssante.fr",  # the domain itself: only its subdomains are the trust space's
        "jean@evil-mssante.fr",
        "jean@mssante.fr.example.com",
        "1850175001001xx@patient.mssante.fr",  # the patients' domain is not a professional's
        "not-an-address",
    ],
)
def test_only_trust_space_mailboxes_are_in_the_directory(api, admin, address):
    body = {"rpps": rpps(7), "name": "Dr Jean Dupont", "profession": "medecin"}
    response = api.put(f"/v1/mssante/directory/{address}", body, token=admin)
    assert response.status_code == 400 and response.json_body["error"]["code"] == "invalid_request"


def test_directory_entries_are_checked(api, admin):
    path = f"/v1/mssante/directory/{DOCTOR}"
    for body in (
        {"rpps": "12345678901", "name": "Dr X", "profession": "medecin"},  # bad check digit
        {"rpps": rpps(1), "name": "Dr X", "profession": "astrologue"},
        {"rpps": rpps(1), "name": "", "profession": "medecin"},
        {"rpps": rpps(1), "name": "Dr X", "profession": "medecin", "extra": 1},
    ):
        assert api.put(path, body, token=admin).status_code == 400, body


@pytest.mark.parametrize("role", ["patient", "professional", "catalogue_admin", "enrolment_agent"])
def test_the_directory_is_for_directory_admins_only(api, token, admin, role):
    claims = {"patient": {"ins": make_ins(3)}, "professional": {"rpps": rpps(3), "profession": "medecin"}}
    other = token(role, **claims.get(role, {}))
    body = {"rpps": rpps(1), "name": "Dr X", "profession": "medecin"}
    path = f"/v1/mssante/directory/{DOCTOR}"
    assert api.put(path, body, token=other).status_code == 403
    listed(api, admin, DOCTOR)
    assert api.get(path, token=other).status_code == 403
    assert api.delete(path, token=other).status_code == 403
    assert api.get(path, token=admin).status_code == 200


# --- inbound ------------------------------------------------------------------------------------


def test_a_professionals_mail_becomes_a_conversation(api, world, exchanger):
    from devstack.outbox import sent

    subject = "=?utf-8?q?R=C3=A9sultats_d=27analyses?="  # RFC 2047, as professional software writes it
    message = mail(DOCTOR, world["address"], body=SECRET)
    del message["Subject"]
    message["Subject"] = subject
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="compte-rendu.pdf")
    code, text = send(exchanger, message, DOCTOR, [world["address"]])
    assert (code, text.split()[0]) == (250, "2.0.0")

    (entry,) = inbox(api, world["token"])
    assert entry["subject"] == "Résultats d'analyses" and entry["unread"] == 1
    assert entry["professional"] == {"rpps": rpps(1), "name": "Dr Alice Martin"}
    (received,) = messages(api, entry["conversation_id"], world["token"])
    assert received["body"] == SECRET and received["author"] == {"role": "professional", "id": rpps(1)}
    assert [(a["filename"], a["media_type"], a["size"]) for a in received["attachments"]] == [
        ("compte-rendu.pdf", "application/pdf", len(PDF))
    ]
    path = f"/v1/conversations/{entry['conversation_id']}/messages/{received['message_id']}/attachments/0"
    assert api.get(path, token=world["token"], headers={"Accept": "*/*"}).body == PDF  # byte for byte

    history = api.get(f"/v1/patients/{world['patient_id']}/activity", token=world["token"]).json_body["items"]
    assert "message.received" in [event["action"] for event in history]
    (notice,) = [n for n in sent(to=world["person"]["email"]) if "nouveau message" in n["subject"]]
    assert SECRET not in notice["body"] and "Résultats" not in notice["body"] and world["address"] not in notice["body"]
    assert inbound_objects() == []  # the raw message does not outlive its delivery


def test_html_only_mail_gives_its_text(api, world, exchanger):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = DOCTOR, world["address"], "Courrier"
    message.set_content(
        "<html><head><style>p{color:red}</style></head><body><p>Bonjour,</p>"
        "<p>Votre <b>IRM</b> est normale.<br>Cordialement</p><script>alert(1)</script></body></html>",
        subtype="html",
    )
    assert send(exchanger, message, DOCTOR, [world["address"]])[0] == 250
    (entry,) = inbox(api, world["token"])
    (received,) = messages(api, entry["conversation_id"], world["token"])
    assert received["body"] == "Bonjour,\n\nVotre IRM est normale.\nCordialement"


def test_envelope_refusals_come_at_their_command(world, exchanger):
    with smtplib.SMTP("127.0.0.1", exchanger, timeout=30) as client:
        client.ehlo("logiciel.example")
        code, text = client.mail("someone@gmail.com")
        assert (code, text.split()[0]) == (550, b"5.7.1")
        code, text = client.mail("unknown@hopital-nord.mssante.fr")  # in the trust space, not in the directory
        assert (code, text.split()[0]) == (550, b"5.7.1")
        assert client.mail(DOCTOR.upper())[0] == 250  # the directory compares case-insensitively
        for bad in ("123@patient.mssante.fr", f"{make_ins(9)[:-2]}00@patient.mssante.fr", "jean@example.com"):
            code, text = client.rcpt(bad)
            assert (code, text.split()[0]) == (550, b"5.1.1"), bad
        assert client.rcpt(world["address"].upper().replace("PATIENT.MSSANTE.FR", "patient.mssante.fr"))[0] == 250
        code, text = client.rcpt(f"{make_ins(9)}@patient.mssante.fr")
        assert (code, text.split()[0]) == (452, b"4.5.3")  # one patient per message
        client.rset()
    assert conversations_stored() == [] and inbound_objects() == []


def test_announced_size_over_the_limit_is_refused_at_mail(world, exchanger):
    with smtplib.SMTP("127.0.0.1", exchanger, timeout=30) as client:
        client.ehlo("logiciel.example")
        assert "size" in client.esmtp_features
        code, text = client.mail(DOCTOR, options=["SIZE=10000001"])
        assert (code, text.split()[0]) == (552, b"5.3.4")


def test_counted_size_over_the_limit_is_refused_after_data(world, exchanger):
    message = mail(DOCTOR, world["address"])
    message.add_attachment(b"%PDF-" + b"A" * 7_600_000, maintype="application", subtype="pdf", filename="gros.pdf")
    code, text = send(exchanger, message, DOCTOR, [world["address"]])  # base64: over 10 MB as transmitted
    assert (code, text.split()[0]) == (552, "5.3.4")
    assert conversations_stored() == [] and inbound_objects() == []


@pytest.mark.parametrize(
    ("part", "why"),
    [
        ((b"MZ\x90\x00", "application", "x-msdownload", "vaccin.exe"), "a type messaging refuses"),
        ((b"PK\x03\x04", "application", "pdf", "faux.pdf"), "bytes that are not what they claim"),
        ((b"%PDF-" + b"0" * (4 * 1024 * 1024), "application", "pdf", "gros.pdf"), "over 4 MiB"),
    ],
)
def test_refused_attachments_store_nothing(world, exchanger, part, why):
    data, maintype, subtype, filename = part
    message = mail(DOCTOR, world["address"])
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    code, text = send(exchanger, message, DOCTOR, [world["address"]])
    assert (code, text.split()[0]) == (554, "5.6.1"), why
    assert conversations_stored() == [] and inbound_objects() == []


def test_header_from_must_be_in_the_directory(world, exchanger):
    for headers in (
        wire(mail("intrus@gmail.com", world["address"])),
        wire(mail(DOCTOR, world["address"])).replace(b"From:", b"From: x@gmail.com\r\nFrom:", 1),
        wire(mail(DOCTOR, world["address"])).replace(b"From: " + DOCTOR.encode() + b"\r\n", b"", 1),
    ):
        code, text = send(exchanger, headers, DOCTOR, [world["address"]])
        assert (code, text.split()[0]) == (550, "5.7.1")
    assert conversations_stored() == [] and inbound_objects() == []


def test_no_open_space_is_no_mailbox_after_data(world, exchanger, api):
    nobody = f"{make_ins(77)}@patient.mssante.fr"
    code, text = send(exchanger, mail(DOCTOR, nobody), DOCTOR, [nobody])
    assert (code, text.split()[0]) == (550, "5.1.1")
    assert api.post("/v1/me/close", {}, token=world["token"]).status_code == 200
    code, text = send(exchanger, mail(DOCTOR, world["address"]), DOCTOR, [world["address"]])
    assert (code, text.split()[0]) == (550, "5.1.1")
    assert conversations_stored() == [] and inbound_objects() == []


def test_a_blocked_professional_is_refused(world, exchanger, api):
    response = api.put(f"/v1/patients/{world['patient_id']}/access/blocks/{rpps(1)}", token=world["token"])
    assert response.status_code in (200, 201, 204), response.json_body
    code, text = send(exchanger, mail(DOCTOR, world["address"]), DOCTOR, [world["address"]])
    assert (code, text.split()[0]) == (550, "5.1.1")
    assert conversations_stored() == []
    assert send(exchanger, mail(OTHER_DOCTOR, world["address"]), OTHER_DOCTOR, [world["address"]])[0] == 250


# --- threading and the answer by mail -----------------------------------------------------------


def test_threading_and_the_patients_answer_by_mail(api, world, exchanger):
    from devstack.outbox import sent

    first = mail(DOCTOR, world["address"], subject="Suivi diabète", Message_ID="<a1@hopital-nord.mssante.fr>")
    assert send(exchanger, first, DOCTOR, [world["address"]])[0] == 250
    (entry,) = inbox(api, world["token"])
    conversation_id = entry["conversation_id"]

    answer = {
        "body": "Merci docteur, voici mon carnet.",
        "attachments": [
            {
                "filename": "carnet.pdf",
                "media_type": "application/pdf",
                "content_base64": base64.b64encode(PDF).decode(),
            }
        ],
    }
    response = api.post(f"/v1/conversations/{conversation_id}/messages", answer, token=world["token"])
    assert response.status_code == 201, response.json_body
    (out,) = [n for n in sent() if n["channel"] == "mssante"]
    assert out["to"] == DOCTOR.lower() and out["from"] == world["address"]
    assert out["subject"] == "Re: Suivi diabète" and out["body"].strip() == answer["body"]
    assert out["in_reply_to"] == "<a1@hopital-nord.mssante.fr>" and out["message_id"].endswith("@patient.mssante.fr>")
    assert out["attachments"] == [{"filename": "carnet.pdf", "media_type": "application/pdf"}]
    from email.parser import BytesParser

    raw = BytesParser(policy=policy.default).parsebytes(out["raw"].encode())
    assert next(raw.iter_attachments()).get_content() == PDF  # byte for byte

    # The professional answers that mail: the same conversation.
    follow = mail(DOCTOR, world["address"], subject="Re: Suivi diabète", Message_ID="<a2@hopital-nord.mssante.fr>")
    follow["In-Reply-To"] = out["message_id"]
    assert send(exchanger, follow, DOCTOR, [world["address"]])[0] == 250
    (entry,) = inbox(api, world["token"])
    assert entry["conversation_id"] == conversation_id
    assert [m["author"]["role"] for m in messages(api, conversation_id, world["token"])] == [
        "professional",
        "patient",
        "professional",
    ]
    # The next answer replies to the professional's last mail.
    api.post(f"/v1/conversations/{conversation_id}/messages", {"body": "Bien reçu."}, token=world["token"])
    last = [n for n in sent() if n["channel"] == "mssante"][-1]
    assert last["in_reply_to"] == "<a2@hopital-nord.mssante.fr>"

    # Another professional naming that thread starts their own conversation.
    other = mail(OTHER_DOCTOR, world["address"], subject="Avis", References=out["message_id"])
    assert send(exchanger, other, OTHER_DOCTOR, [world["address"]])[0] == 250
    assert len(inbox(api, world["token"])) == 2

    # The same mail again (a retry) is delivered once.
    assert send(exchanger, follow, DOCTOR, [world["address"]])[0] == 250
    assert len(messages(api, conversation_id, world["token"])) == 4
    # Another professional reusing that Message-ID gets their mail delivered, in a thread of its own.
    reused = mail(OTHER_DOCTOR, world["address"], subject="Autre", Message_ID="<a2@hopital-nord.mssante.fr>")
    assert send(exchanger, reused, OTHER_DOCTOR, [world["address"]])[0] == 250
    assert len(inbox(api, world["token"])) == 3 and len(messages(api, conversation_id, world["token"])) == 4


def test_a_conversation_begun_through_the_api_sends_no_mail(api, world, token):
    from devstack.outbox import sent

    doctor = token("professional", rpps=rpps(5), profession="medecin", name="Dr API")
    body = {"patient_id": world["patient_id"], "subject": "Bonjour", "body": "Texte"}
    conversation_id = api.post("/v1/conversations", body, token=doctor).json_body["conversation_id"]
    assert (
        api.post(f"/v1/conversations/{conversation_id}/messages", {"body": "Merci"}, token=world["token"]).status_code
        == 201
    )
    assert [n for n in sent() if n["channel"] == "mssante"] == []


# --- privacy and hostile mail -------------------------------------------------------------------


def test_the_ins_address_is_never_logged_keyed_or_stored_in_clear(api, world, exchanger, capsys, caplog):
    from devstack.outbox import sent

    for logger in ("mail.log", "mes"):  # the SMTP server's every line, and ours
        caplog.set_level(logging.DEBUG, logger=logger)
    first = mail(DOCTOR, world["address"], Message_ID="<p1@hopital-nord.mssante.fr>")
    assert send(exchanger, first, DOCTOR, [world["address"]])[0] == 250
    send(exchanger, mail("intrus@gmail.com", world["address"]), DOCTOR, [world["address"]])
    (entry,) = inbox(api, world["token"])
    api.post(f"/v1/conversations/{entry['conversation_id']}/messages", {"body": "Merci"}, token=world["token"])
    ins = world["person"]["ins"]
    output = capsys.readouterr().out + capsys.readouterr().err + caplog.text
    # the account holds the INS the enrolment was given (enrolment's): nothing of the mail does
    stored = json.dumps([i for i in every_stored_item() if i["sk"] != "SPACE#ACCOUNT"], default=repr)
    s3 = boto3.client("s3", region_name="eu-west-3")
    keys = [v["Key"] for v in s3.list_object_versions(Bucket=settings().messages_bucket).get("Versions", [])]
    notices = json.dumps([n for n in sent() if n["channel"] != "mssante"], ensure_ascii=False)
    for text in (ins, ins.lower(), world["address"]):
        assert text not in output and text not in stored and text not in notices
        assert not any(text in key for key in keys)
    assert SECRET not in stored and SECRET not in output


HOSTILE = {
    "no closing boundary": (
        b"Content-Type: multipart/mixed; boundary=XYZ\r\nSubject: x\r\n\r\n--XYZ\r\n"
        b"Content-Type: text/plain\r\n\r\nTexte\r\n--XYZ\r\nContent-Type: application/pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!"
    ),
    "huge headers": b"".join(b"X-Filler-%d: %s\r\n" % (i, b"a" * 900) for i in range(400)) + b"\r\nTexte",
    "nested multipart bomb": b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(60)
    )
    + b"Content-Type: text/plain\r\n\r\nfond\r\n",
    "wrong charset": (
        b'Content-Type: text/plain; charset="x-klingon"\r\nSubject: =?x-klingon?q?abc?=\r\n\r\n\xff\xfeTexte'
    ),
    "binary garbage": bytes(range(256)) * 4,
    "header without colon": b"This is not a header\r\n\r\nTexte",
    "a line over 1,000 bytes": b"X-Long: " + b"a" * 5000 + b"\r\n\r\nTexte",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_mail_gets_a_5xx_or_is_stored_cleanly(api, world, exchanger, name):
    raw = b"From: " + DOCTOR.encode() + b"\r\nTo: " + world["address"].encode() + b"\r\n" + HOSTILE[name]
    code, _ = send(exchanger, raw, DOCTOR, [world["address"]])
    assert code == 250 or 500 <= code < 600, code
    conversations = inbox(api, world["token"])
    if code == 250:
        (entry,) = conversations
        (message,) = messages(api, entry["conversation_id"], world["token"])
        assert isinstance(message["body"], str)
    else:
        assert conversations == [] and conversations_stored() == []
    assert inbound_objects() == []


EXTRACT = (
    "Type BAL|Adresse BAL|Type d'identifiant PP|Identifiant PP|Identification nationale PP|Code profession|"
    "Libellé profession|Nom d'exercice|Prénom d'exercice|Raison sociale structure\n"
    f"PER|Paul.Roux@cabinet-nice.mssante.fr|8|8{rpps(21)}|8{rpps(21)}|10|Médecin|ROUX|Paul|Cabinet\n"
    f"PER|l.petit@pharma.mssante.fr|8|8{rpps(22)}|8{rpps(22)}|21|Pharmacien|PETIT|Lou|Pharmacie\n"
    f"ORG|secretariat@chu.mssante.fr|||||||CHU|\n"
    f"PER|ext@gmail.com|8|8{rpps(23)}|8{rpps(23)}|10|Médecin|X|Y|Z\n"
    f"PER|a.b@labo.mssante.fr|8|8{rpps(24)}|8{rpps(24)}|95|Autre|B|A|Labo\n"
)


def test_the_nightly_import_reads_the_extract_in_the_directory_bucket(api, admin):
    from chalicelib.messaging import events
    from chalicelib.messaging.directory import EXTRACT_KEY

    events.import_directory()  # no extract yet: nothing to do, no failure
    s3 = boto3.client("s3", region_name="eu-west-3")
    s3.put_object(Bucket=settings().directory_bucket, Key=EXTRACT_KEY, Body=("\ufeff" + EXTRACT).encode())
    events.import_directory()
    entry = api.get("/v1/mssante/directory/paul.roux@cabinet-nice.mssante.fr", token=admin)
    assert entry.status_code == 200 and entry.json_body["rpps"] == rpps(21)
    assert api.get("/v1/mssante/directory/secretariat@chu.mssante.fr", token=admin).status_code == 404


def test_the_national_extract_feeds_the_directory(api, admin, cloud, tmp_path, capsys):
    from tools import import_directory

    path = tmp_path / "Extraction_Correspondance_MSSante.txt"
    path.write_text(EXTRACT, encoding="utf-8")
    assert import_directory.main([str(path)]) == 0
    assert "2 mailboxes put into the directory, 3 lines skipped" in capsys.readouterr().out
    entry = api.get("/v1/mssante/directory/paul.roux@cabinet-nice.mssante.fr", token=admin).json_body
    assert entry == {
        "address": "paul.roux@cabinet-nice.mssante.fr",
        "rpps": rpps(21),
        "name": "Paul ROUX",
        "profession": "medecin",
    }
    assert (
        api.get("/v1/mssante/directory/l.petit@pharma.mssante.fr", token=admin).json_body["profession"] == "pharmacien"
    )
    for skipped in ("secretariat@chu.mssante.fr", "a.b@labo.mssante.fr"):
        assert api.get(f"/v1/mssante/directory/{skipped}", token=admin).status_code == 404


def deployed(raw: bytes, source: str, recipients: list[str], **receipt) -> None:
    """What SES's receipt rule does (infra/mail.yaml): the raw message under inbound/<SES message id>,
    then the function's handler with SES's event (``receipt``: its verdicts); no SMTP server."""
    from chalicelib.messaging import events

    s3 = boto3.client("s3", region_name="eu-west-3")
    s3.put_object(Bucket=settings().inbound_mail_bucket, Key="inbound/o3b5sesmessageid", Body=raw)
    event = {
        "Records": [
            {
                "eventSource": "aws:ses",
                "ses": {
                    "mail": {"messageId": "o3b5sesmessageid", "source": source, "destination": recipients},
                    "receipt": {"recipients": recipients, "action": {"type": "Lambda"}, **receipt},
                },
            }
        ]
    }
    assert events.messaging_inbound(event, None) == {"disposition": "STOP_RULE_SET"}
    assert inbound_objects() == []  # whatever the outcome


def verdicts(spam: str = "PASS", virus: str = "PASS", dmarc: str = "PASS") -> dict:
    return {"spamVerdict": {"status": spam}, "virusVerdict": {"status": virus}, "dmarcVerdict": {"status": dmarc}}


def notifications() -> list[dict]:
    from devstack.outbox import sent

    return [n for n in sent() if n["channel"] == "dsn"]


def test_the_deployed_path_ses_writes_then_invokes_the_inbound_function(api, world):
    deployed(wire(mail(DOCTOR, world["address"])), DOCTOR, [world["address"]], **verdicts(spam="GRAY"))
    (entry,) = inbox(api, world["token"])
    assert entry["professional"]["rpps"] == rpps(1) and notifications() == []


SUBJECT = "Bilan thyroïdien de Mme Durand"


def big(to: str) -> bytes:
    message = mail(DOCTOR, to, SUBJECT)
    message.add_attachment(b"%PDF-" + b"A" * 7_600_000, maintype="application", subtype="pdf", filename="gros.pdf")
    return wire(message)


def with_attachment(to: str) -> bytes:
    message = mail(DOCTOR, to, SUBJECT)
    message.add_attachment(b"MZ\x90\x00", maintype="application", subtype="x-msdownload", filename="vaccin.exe")
    return wire(message)


NOBODY = f"{make_ins(77)}@patient.mssante.fr"
# Each refusal deployed: (the message, its recipients) from the patient's address, and the reply.
REFUSALS = {
    "header From not in the directory": (lambda to: (wire(mail("x@gmail.com", to, SUBJECT)), [to]), 550, "5.7.1"),
    "no such mailbox": (
        lambda to: (wire(mail(DOCTOR, "1@patient.mssante.fr", SUBJECT)), ["1@patient.mssante.fr"]),
        550,
        "5.1.1",
    ),
    "no open space": (lambda to: (wire(mail(DOCTOR, NOBODY, SUBJECT)), [NOBODY]), 550, "5.1.1"),
    "blocked by the patient": (lambda to: (wire(mail(DOCTOR, to, SUBJECT)), [to]), 550, "5.1.1"),
    "too big": (lambda to: (big(to), [to]), 552, "5.3.4"),
    "an attachment refused": (lambda to: (with_attachment(to), [to]), 554, "5.6.1"),
    "unreadable": (
        lambda to: (
            f"From: {DOCTOR}\r\nTo: {to}\r\nSubject: {SUBJECT}\r\n".encode() + HOSTILE["nested multipart bomb"],
            [to],
        ),
        554,
        "5.6.0",
    ),
    "two patients": (lambda to: (wire(mail(DOCTOR, to, SUBJECT)), [to, NOBODY]), 452, "4.5.3"),
}


@pytest.mark.parametrize("kind", sorted(REFUSALS))
def test_a_refusal_deployed_is_notified_to_a_directory_sender(api, world, kind, caplog):
    from email.parser import BytesParser

    caplog.set_level(logging.DEBUG, logger="mes")
    if kind == "blocked by the patient":
        response = api.put(f"/v1/patients/{world['patient_id']}/access/blocks/{rpps(1)}", token=world["token"])
        assert response.status_code in (200, 201, 204), response.json_body
    build, code, status = REFUSALS[kind]
    raw, recipients = build(world["address"])
    deployed(raw, DOCTOR, recipients, **verdicts())
    assert conversations_stored() == [] and inbox(api, world["token"]) == []
    (notice,) = notifications()
    assert notice["to"] == DOCTOR and notice["from"] == "Mon espace santé <MAILER-DAEMON@patient.mssante.fr>"
    assert notice["status"] == [status] * len(recipients)
    assert all(d.startswith(f"smtp; {code} {status} ") for d in notice["diagnostic_code"])
    assert f"{code} {status}" in notice["body"] and "n'a pas été remis" in notice["body"]
    for private in (world["person"]["ins"], world["person"]["ins"].lower(), *recipients, SECRET, SUBJECT):
        assert private not in notice["body"], private
    assert world["person"]["ins"].lower() not in caplog.text  # the recipient is not logged
    report = BytesParser(policy=policy.default).parsebytes(notice["raw"].encode())
    assert report.get_content_type() == "multipart/report" and report.get_param("report-type") == "delivery-status"
    human, status_part, headers = report.iter_parts()
    assert (human.get_content_type(), headers.get_content_type()) == ("text/plain", "text/rfc822-headers")
    per_message, *per_recipient = cast(list, status_part.get_payload())  # its field blocks, one per recipient
    assert per_message["Reporting-MTA"] == "dns; patient.mssante.fr"
    assert [(f["Final-Recipient"], f["Action"]) for f in per_recipient] == [
        (f"rfc822; {r}", "failed") for r in recipients
    ]
    assert "Subject: " in headers.get_content() and SECRET not in headers.get_content()  # the headers only


@pytest.mark.parametrize("sender", ["intrus@gmail.com", "inconnu@hopital-nord.mssante.fr", ""])
def test_a_refusal_deployed_is_not_notified_to_a_sender_outside_the_directory(api, world, sender):
    deployed(wire(mail(sender or "x@gmail.com", world["address"], SUBJECT)), sender, [world["address"]], **verdicts())
    deployed(wire(mail(DOCTOR, NOBODY, SUBJECT)), sender, [NOBODY])  # whatever the refusal
    assert notifications() == [] and conversations_stored() == []


@pytest.mark.parametrize("scan", [{"spam": "FAIL"}, {"virus": "FAIL"}, {"dmarc": "FAIL"}])
def test_mail_ses_found_spam_a_virus_or_a_forged_sender_in_is_dropped_without_notification(api, world, scan):
    deployed(wire(mail(DOCTOR, world["address"], SUBJECT)), DOCTOR, [world["address"]], **verdicts(**scan))
    deployed(with_attachment(world["address"]), DOCTOR, [world["address"]], **verdicts(**scan))
    assert notifications() == [] and conversations_stored() == [] and inbox(api, world["token"]) == []


def test_closure_with_deletion_takes_the_mails_threads_too(api, world, exchanger):
    from devstack import workers

    first = mail(DOCTOR, world["address"], Message_ID="<c1@hopital-nord.mssante.fr>")
    assert send(exchanger, first, DOCTOR, [world["address"]])[0] == 250
    assert [i for i in conversations_stored() if i["pk"].startswith("MAILID#")]
    assert api.post("/v1/me/close", {"delete_now": True}, token=world["token"]).status_code == 200
    workers.drain_purges()
    assert conversations_stored() == []
