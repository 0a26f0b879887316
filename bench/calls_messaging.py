"""AWS calls per request for messaging and the agenda (issue 6), and per event for reminders.

A real run against moto through the Chalice test client. Figures are for a warm container (the
peppers secret is read once beforehand, as a container's first request does). The Encryption
SDK's caching materials manager spares KMS calls on repeated encryptions and decryptions within
five minutes: a cold cache adds one kms.GenerateDataKey (write) or kms.Decrypt (read).
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.harness import LATENCY, Calls, calls_table, cloud, code_of, count_calls, invitee, network

PDF = b"%PDF-1.7\n" + b"Ordonnance\n" * 200 + b"%%EOF"


def rpps(n: int) -> str:
    from chalicelib.core.security.identifiers import rpps_check_digit

    first = f"{n:010d}"
    return first + rpps_check_digit(first)


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench calls_messaging")
    parser.add_argument("--events", type=int, default=20, help="agenda events due the reminder run handles")
    parser.add_argument(
        "--inbox", type=int, default=50, help="conversations, each with another patient, in a professional's inbox"
    )
    args = parser.parse_args(argv)
    from chalicelib.agenda import service as agenda
    from chalicelib.core.data import aws
    from chalicelib.core.security import crypto, pseudonyms

    rows: list[tuple[str, Calls] | tuple[str, Calls, float]] = []
    with cloud() as bench:
        agent = bench.token("enrolment_agent")

        def measure(label: str, method: str, path: str, body=None, token=None):
            with count_calls() as calls:
                answer = bench.call(method, path, body, token)
            rows.append((label, calls))
            return answer

        pseudonyms.ins_digest("warm-up")
        campaign = bench.call("POST", "/v1/enrolment/campaigns", {"name": "Vague"}, agent)
        person = invitee(1)
        bench.call(
            "POST", f"/v1/enrolment/campaigns/{campaign['campaign_id']}/invitations", {"invitees": [person]}, agent
        )
        patient_id = bench.call(
            "POST",
            "/v1/enrolment/activate",
            {"ins": person["ins"], "birth_date": person["birth_date"], "code": code_of(person)},
        )["patient_id"]
        patient = bench.token("patient", ins=person["ins"])
        doctor = bench.token("professional", rpps=rpps(1), profession="medecin", name="Dr Martin")
        aws.table().put_item(
            Item={
                "pk": f"PAT#{patient_id}",
                "sk": f"SPACE#GRANT#{rpps(1)}",
                "rpps": rpps(1),
                "granted_at": iso(timedelta(0)),
            }
        )

        # Messaging ---------------------------------------------------------------------------
        bench.call(
            "POST", "/v1/conversations", {"patient_id": patient_id, "subject": "Chauffe", "body": "warm-up"}, doctor
        )  # KMS cache
        opened = measure(
            "POST /v1/conversations (open)",
            "POST",
            "/v1/conversations",
            {"patient_id": patient_id, "subject": "Résultats", "body": "Bonjour"},
            doctor,
        )
        cid = opened["conversation_id"]
        attachment = {
            "filename": "ordonnance.pdf",
            "media_type": "application/pdf",
            "content_base64": base64.b64encode(PDF).decode(),
        }
        measure(
            "POST /v1/conversations (open, 1 attachment)",
            "POST",
            "/v1/conversations",
            {"patient_id": patient_id, "subject": "Ordonnance", "body": "Ci-joint", "attachments": [attachment]},
            doctor,
        )
        messages = f"/v1/conversations/{cid}/messages"
        measure("POST …/messages (patient reply)", "POST", messages, {"body": "Merci"}, patient)
        reply = measure(
            "POST …/messages (professional reply, 1 attachment)",
            "POST",
            messages,
            {"body": "Voici", "attachments": [attachment]},
            doctor,
        )
        measure("GET /v1/conversations (patient)", "GET", "/v1/conversations", token=patient)
        measure("GET /v1/conversations (professional)", "GET", "/v1/conversations", token=doctor)
        measure("GET …/messages (patient, 3 messages, marks read)", "GET", messages, token=patient)
        measure("GET …/messages (patient, nothing new)", "GET", messages, token=patient)
        with count_calls() as calls:
            response = bench.client.http.get(
                f"{messages}/{reply['message_id']}/attachments/0",
                headers={"Authorization": f"Bearer {patient}", "Accept": "*/*"},
            )
            assert response.status_code == 200, response.body[:200]
        rows.append(("GET …/messages/{id}/attachments/0", calls))
        inbox_seconds = _busy_inbox(bench, args.inbox, campaign["campaign_id"], agent, rows, crypto)
        page_waits = _message_page_with_latency(bench, patient_id, doctor, patient, crypto)

        # Agenda ------------------------------------------------------------------------------
        base = f"/v1/patients/{patient_id}/agenda"
        event = {
            "kind": "appointment",
            "title": "Consultation",
            "start": iso(timedelta(days=3)),
            "end": iso(timedelta(days=3, hours=1)),
        }
        created = measure("POST …/agenda (patient)", "POST", base, event, patient)
        measure("POST …/agenda (granted professional)", "POST", base, event, doctor)
        measure("GET …/agenda (patient)", "GET", base, token=patient)
        measure("GET …/agenda (professional: read recorded)", "GET", base, token=doctor)
        with count_calls() as calls:
            response = bench.client.http.get(f"{base}.ics", headers={"Authorization": f"Bearer {patient}"})
            assert response.status_code == 200, response.body[:200]
        rows.append(("GET …/agenda.ics (patient)", calls))
        measure(
            "PATCH …/agenda/{id} (title)",
            "PATCH",
            f"{base}/{created['event_id']}",
            {"title": "Consultation de suivi"},
            patient,
        )
        measure(
            "PATCH …/agenda/{id} (start moved)",
            "PATCH",
            f"{base}/{created['event_id']}",
            {"start": iso(timedelta(days=4)), "end": iso(timedelta(days=4, hours=1))},
            patient,
        )
        with count_calls() as calls:
            response = bench.client.http.delete(
                f"{base}/{created['event_id']}", headers={"Authorization": f"Bearer {patient}"}
            )
            assert response.status_code == 204
        rows.append(("DELETE …/agenda/{id}", calls))

        for n in range(args.events):
            bench.call("POST", base, {**event, "start": iso(timedelta(hours=2, minutes=n)), "end": None}, patient)
        with count_calls() as calls:
            sent = agenda.send_reminders()
        rows.append((f"schedule: send_reminders, per event ({sent} sent)", calls, max(sent, 1)))
        with count_calls() as calls:
            again = agenda.send_reminders()
        rows.append((f"schedule: send_reminders again (sent {again}, 25 hourly buckets)", calls))
    calls_table(rows)
    print(
        f"\nprofessional inbox of {args.inbox} conversations with {args.inbox} patients, cold KMS cache: "
        f"{inbox_seconds:.2f} s in moto"
    )
    print(
        f"\na page of {PAGE} messages, cold KMS cache, each AWS call made to wait {LATENCY * 1000:.0f} ms (a real "
        "round trip):"
    )
    for workers, seconds in page_waits:
        print(f"  bodies loaded {workers} at a time: {seconds:.2f} s")


PAGE = 20


def _message_page_with_latency(bench, patient_id: str, doctor: str, patient: str, crypto) -> list[tuple[int, float]]:
    """A conversation of PAGE messages read by the patient, bodies one at a time, then side by
    side (each is an S3 read and a KMS decryption)."""
    from chalicelib.core.data import concurrency

    opened = bench.call(
        "POST", "/v1/conversations", {"patient_id": patient_id, "subject": "Suivi", "body": "1"}, doctor
    )
    messages = f"/v1/conversations/{opened['conversation_id']}/messages"
    for n in range(PAGE - 1):
        bench.call("POST", messages, {"body": f"Message {n}"}, doctor)
    waits = []
    for workers in (1, concurrency.WORKERS):
        crypto.cipher.cache_clear()
        with network(workers):
            started = time.perf_counter()
            page = bench.call("GET", f"{messages}?limit={PAGE}", token=patient)
            waits.append((workers, time.perf_counter() - started))
        assert len(page["items"]) == PAGE
    return waits


def _busy_inbox(bench, size: int, campaign_id: str, agent: str, rows: list, crypto) -> float:
    """A second professional writes to ``size`` patients; their inbox is listed with a cold cache
    (every subject costs a KMS Decrypt, run side by side; the spaces are read in batches)."""
    people = [invitee(1000 + n) for n in range(size)]
    bench.call("POST", f"/v1/enrolment/campaigns/{campaign_id}/invitations", {"invitees": people}, agent)
    doctor = bench.token("professional", rpps=rpps(2), profession="medecin", name="Dr Roux")
    for person in people:
        activated = {"ins": person["ins"], "birth_date": person["birth_date"], "code": code_of(person)}
        patient_id = bench.call("POST", "/v1/enrolment/activate", activated)["patient_id"]
        bench.call(
            "POST", "/v1/conversations", {"patient_id": patient_id, "subject": "Suivi", "body": "Bonjour"}, doctor
        )
    crypto.cipher.cache_clear()
    with count_calls() as calls:
        started = time.perf_counter()
        page = bench.call("GET", f"/v1/conversations?limit={size}", token=doctor)
        seconds = time.perf_counter() - started
    assert len(page["items"]) == size
    rows.append((f"GET /v1/conversations (professional, {size} patients, cold cache)", calls))
    return seconds


if __name__ == "__main__":
    main(sys.argv[1:])
