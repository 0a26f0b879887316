"""The emergency summary: AWS calls and time of ``GET …/emergency-summary`` beside one profile read
(goal: at most its calls + 1), beside what a client does without it (the profile, then the documents
list for the advance directives) and beside reading the five sections one by one (allergies,
treatments, conditions, vaccinations, emergency contacts: a query each, in a row).

A real run against moto through the Chalice test client, warm container. Times are with a
simulated round trip of 20 ms per AWS call (``harness.network``: moto answers at once), median of
``--runs``: they show what one query instead of five, and reading side by side, save.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import time
from collections.abc import Callable

from bench.harness import Calls, active_person, calls_table, cloud, count_calls, network

PDF = base64.b64encode(b"%PDF-1.7\n" + b"x" * 2_000 + b"\n%%EOF").decode()
FIVE = ("allergies", "treatments", "conditions", "vaccinations", "emergency_contacts")


def _rpps() -> str:
    from chalicelib.core.security.identifiers import rpps_check_digit

    return "1000000001" + rpps_check_digit("1000000001")


def _document(n: int, document_type: str) -> dict:
    return {
        "type": document_type,
        "title": f"Document {n}",
        "date": f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}",
        "media_type": "application/pdf",
        "content_base64": PDF,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench calls_emergency")
    parser.add_argument("--entries", type=int, default=5, help="entries in each profile section")
    parser.add_argument("--documents", type=int, default=100, help="documents in the space (3 advance directives)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each row (median shown)")
    args = parser.parse_args(argv)
    rows: list[tuple[str, Calls] | tuple[str, Calls, float]] = []
    timings: list[tuple[str, float]] = []
    with cloud() as bench:
        _, patient_id, patient = active_person(bench)
        doctor = bench.token("professional", rpps=_rpps(), profession="medecin", name="Dr Urgences")
        base = f"/v1/patients/{patient_id}"
        bodies = {
            "allergies": lambda i: {"substance": f"Substance {i}"},
            "treatments": lambda i: {"medication": f"Médicament {i}"},
            "conditions": lambda i: {"label": f"Antécédent {i}"},
            "vaccinations": lambda i: {"vaccine": f"Vaccin {i}", "date": "2020-01-10"},
            "emergency_contacts": lambda i: {"name": f"Proche {i}", "relationship": "famille", "phone": "0612345678"},
        }
        for section, body in bodies.items():
            for i in range(args.entries):
                bench.call("POST", f"{base}/profile/{section}", body(i), patient)
        bench.call("POST", f"{base}/profile/trusted_person", {"name": "Paul Martin"}, patient)
        for i in range(args.documents):
            kind = "advance_directives" if i % (args.documents // 3 or 1) == 0 and i else "consultation_report"
            bench.call("POST", f"{base}/documents", _document(i, kind), patient)
        bench.call("POST", f"{base}/emergency-access", {"reason": "Patient inconscient aux urgences"}, doctor)

        def five_one_by_one() -> None:
            """The gate, then a query per section, one after the other (what the summary replaces)."""
            from boto3.dynamodb.conditions import Key

            from chalicelib.core.data import aws, layout
            from chalicelib.core.policy.decision import Resource
            from chalicelib.core.policy.gate import authorize
            from chalicelib.core.security.auth import verify

            authorize(verify(doctor), patient_id, "read", Resource(kind="profile"))
            for section in FIVE:
                aws.table(layout.PROFILE_TABLE).query(
                    KeyConditionExpression=Key("pk").eq(layout.patient(patient_id))
                    & Key("sk").begins_with(f"{layout.PROFILE_PREFIX}{section}#")
                )

        def request(method: str, path: str, token: str) -> Callable[[], None]:
            return lambda: bench.call(method, path, token=token) and None

        measured = [
            ("GET …/emergency-summary (doctor, break-glass)", [request("GET", f"{base}/emergency-summary", doctor)]),
            ("GET …/emergency-summary (patient)", [request("GET", f"{base}/emergency-summary", patient)]),
            ("GET …/profile (doctor): one profile read", [request("GET", f"{base}/profile", doctor)]),
            (
                "without it: GET …/profile + GET …/documents?type=advance_directives (doctor)",
                [
                    request("GET", f"{base}/profile", doctor),
                    request("GET", f"{base}/documents?type=advance_directives&limit=1", doctor),
                ],
            ),
            ("the five sections one by one (gate + 5 queries, in-process)", [five_one_by_one]),
        ]
        for _, steps in measured:  # warm: every code path and cache once
            for step in steps:
                step()
        for label, steps in measured:
            with count_calls() as calls:
                for step in steps:
                    step()
            rows.append((label, calls))
            runs = []
            with network(workers=8):
                for _ in range(args.runs):
                    started = time.perf_counter()
                    for step in steps:
                        step()
                    runs.append(time.perf_counter() - started)
            timings.append((label, statistics.median(runs)))
        summary = bench.call("GET", f"{base}/emergency-summary", token=doctor)
    calls_table(rows)
    width = max(len(label) for label, _ in timings)
    print(f"\ntime with a 20 ms round trip per AWS call (median of {args.runs}):")
    for label, seconds in timings:
        print(f"{label:<{width}}  {seconds * 1000:6.0f} ms")
    print(
        f"\nspace: {args.entries} entries per section, {args.documents} documents; the summary gave "
        f"{sum(len(summary[s]) for s in FIVE)} entries, the trusted person and the directives of "
        f"{summary['advance_directives']['date']}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
