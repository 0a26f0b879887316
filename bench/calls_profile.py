"""AWS calls per request for the health profile, the catalogue and connected apps, and the FHIR
export of a full space (1,000 measurements and 100 documents by default): calls and time.

A real run against moto through the Chalice test client; figures are for a warm container (the
peppers secret and the KMS data key caches are warmed first). Times are moto in-process, so
they show the shape (what grows with the space), not production latency.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.harness import Calls, calls_table, cloud, code_of, count_calls, invitee

PDF = b"%PDF-1.7\n" + b"Compte rendu de consultation, examen normal.\n" * 40 + b"%%EOF"
KINDS = (
    ("glucose", "g/L", lambda i: round(0.8 + (i % 50) / 100, 2)),
    ("weight", "kg", lambda i: round(70 + (i % 30) / 10, 1)),
    ("heart_rate", "/min", lambda i: 55 + i % 40),
    ("blood_pressure", "mm[Hg]", lambda i: {"systolic": 110 + i % 30, "diastolic": 70 + i % 15}),
)


def _at(minutes_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rpps() -> str:
    from chalicelib.core.security.identifiers import rpps_check_digit

    return "1000000001" + rpps_check_digit("1000000001")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench calls_profile")
    parser.add_argument("--measurements", type=int, default=1000, help="measurements in the exported space")
    parser.add_argument("--documents", type=int, default=100, help="documents in the exported space")
    parser.add_argument("--runs", type=int, default=3, help="export runs timed (median shown)")
    args = parser.parse_args(argv)
    from chalicelib.core.security import pseudonyms

    rows: list[tuple[str, Calls] | tuple[str, Calls, float]] = []
    with cloud() as bench:
        agent, admin = bench.token("enrolment_agent"), bench.token("catalogue_admin")
        pseudonyms.ins_digest("warm-up")
        campaign = bench.call("POST", "/v1/enrolment/campaigns", {"name": "Vague"}, agent)["campaign_id"]
        person = invitee(1)
        bench.call("POST", f"/v1/enrolment/campaigns/{campaign}/invitations", {"invitees": [person]}, agent)
        answer = {"ins": person["ins"], "birth_date": person["birth_date"], "code": code_of(person)}
        patient_id = bench.call("POST", "/v1/enrolment/activate", answer)["patient_id"]
        patient = bench.token("patient", ins=person["ins"])
        doctor = bench.token("professional", rpps=_rpps(), profession="medecin", name="Dr A")
        base = f"/v1/patients/{patient_id}"

        def measure(label: str, method: str, path: str, body=None, token=None) -> dict:
            with count_calls() as calls:
                result = bench.call(method, path, body, token)
            rows.append((label, calls))
            return result

        app = measure(
            "POST /v1/catalogue/apps",
            "POST",
            "/v1/catalogue/apps",
            {
                "name": "GlucoSuivi",
                "publisher": "Diabète Connecté",
                "category": "diabetes",
                "description": "Carnet de glycémie",
                "scopes": ["measurements:write", "measurements:read"],
            },
            admin,
        )
        measure("GET /v1/catalogue/apps?category= (public)", "GET", "/v1/catalogue/apps?category=diabetes")
        connection = measure(
            "POST …/connections",
            "POST",
            f"{base}/connections",
            {"app_id": app["app_id"], "scopes": ["measurements:write", "measurements:read"]},
            patient,
        )
        measure("GET …/connections", "GET", f"{base}/connections", token=patient)
        app_token = bench.token(
            "app", client_id=app["app_id"], patient_id=patient_id, scope="measurements:write measurements:read"
        )
        glucose = {"kind": "glucose", "value": 1.05, "unit": "g/L", "device": "Accu-Chek"}
        bench.call("POST", f"{base}/profile/measurements", {**glucose, "measured_at": _at(1)}, app_token)  # warm-up
        pushed = measure(
            "POST …/profile/measurements (app push)",
            "POST",
            f"{base}/profile/measurements",
            {**glucose, "measured_at": _at(2)},
            app_token,
        )
        measure(
            "POST …/profile/measurements (patient)",
            "POST",
            f"{base}/profile/measurements",
            {**glucose, "measured_at": _at(3)},
            patient,
        )
        measure(
            "POST …/profile/allergies (patient)", "POST", f"{base}/profile/allergies", {"substance": "Pollen"}, patient
        )

        started = time.perf_counter()
        for i in range(args.measurements - 3):
            kind, unit, value = KINDS[i % len(KINDS)]
            bench.call(
                "POST",
                f"{base}/profile/measurements",
                {"kind": kind, "unit": unit, "value": value(i), "measured_at": _at(10 + i * 7)},
                patient,
            )
        fill_measurements = time.perf_counter() - started
        started = time.perf_counter()
        for i in range(args.documents):
            bench.call(
                "POST",
                f"{base}/documents",
                {
                    "type": "consultation_report",
                    "title": f"Consultation {i}",
                    "date": "2026-01-15",
                    "media_type": "application/pdf",
                    "content_base64": base64.b64encode(PDF).decode(),
                },
                doctor,
            )
        fill_documents = time.perf_counter() - started

        period = f"from={_at(60 * 24 * 7)}&to={_at(0)}"
        series = measure(
            "GET …/profile/measurements?kind=glucose&from&to (app, 1 week)",
            "GET",
            f"{base}/profile/measurements?kind=glucose&{period}",
            token=app_token,
        )
        measure(
            "GET …/profile/measurements?kind=glucose (patient, page of 200)",
            "GET",
            f"{base}/profile/measurements?kind=glucose&limit=200",
            token=patient,
        )
        measure(
            "GET …/profile/measurements (patient, every kind, page of 200)",
            "GET",
            f"{base}/profile/measurements?limit=200",
            token=patient,
        )
        measure("GET …/profile (patient)", "GET", f"{base}/profile", token=patient)
        measure(
            "DELETE …/profile/measurements/{id}",
            "DELETE",
            f"{base}/profile/measurements/{pushed['entry_id']}",
            token=patient,
        )
        measure(
            "DELETE …/connections/{id}",
            "DELETE",
            f"{base}/connections/{connection['connection_id']}",
            token=patient,
        )

        timings, exported = [], None
        for run in range(args.runs):
            with count_calls() as calls:
                started = time.perf_counter()
                exported = bench.call("GET", f"{base}/export", token=patient)
                timings.append(time.perf_counter() - started)
            if run == 0:
                rows.append((f"GET …/export ({args.measurements} measurements, {args.documents} documents)", calls))
    calls_table(rows)
    assert exported is not None  # args.runs is at least 1
    kinds: dict[str, int] = {}
    for entry in exported["entry"]:
        kinds[entry["resource"]["resourceType"]] = kinds.get(entry["resource"]["resourceType"], 0) + 1
    size = len(__import__("json").dumps(exported))
    print(f"\nseries page returned {len(series['items'])} glucose measurements of the last week")
    print(f"export: {len(exported['entry'])} resources {kinds}, {size / 1024:.0f} KiB JSON")
    print(
        f"export time (moto in-process, median of {args.runs}): {statistics.median(timings) * 1000:.0f} ms"
        f" (min {min(timings) * 1000:.0f}, max {max(timings) * 1000:.0f})"
    )
    print(
        f"filling the space through the API: {args.measurements - 3} measurements {fill_measurements:.1f} s, "
        f"{args.documents} documents {fill_documents:.1f} s"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
