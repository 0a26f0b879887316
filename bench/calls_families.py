"""AWS calls per request for a legal representative on their child's space, beside the patient's
own on theirs (goal: at most one more call), and with documents hidden from the representatives
in the page (the minor's secret: the page is filled up to its limit from further down).

A real run against moto through the Chalice test client, warm container (the peppers secret and
the KMS data key cache are loaded by a first request of each kind).
"""

from __future__ import annotations

import argparse
import base64
import sys
from datetime import date

from bench.harness import Calls, calls_table, cloud, code_of, count_calls, invitee

PDF = base64.b64encode(b"%PDF-1.7\n" + b"x" * 20_000).decode()


def _document(n: int, hidden: bool = False) -> dict:
    body = {
        "type": "lab_result",
        "title": f"Bilan {n}",
        "date": "2026-01-15",
        "media_type": "application/pdf",
        "content_base64": PDF,
    }
    return {**body, "hidden_from_representatives": True} if hidden else body


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench calls_families")
    parser.add_argument("--documents", type=int, default=20, help="documents in each space")
    parser.add_argument("--limit", type=int, default=10, help="page size of the lists")
    args = parser.parse_args(argv)
    with cloud() as bench:
        agent = bench.token("enrolment_agent")
        campaign = bench.call("POST", "/v1/enrolment/campaigns", {"name": "Vague"}, agent)["campaign_id"]
        adult, parent = invitee(1), invitee(2)
        child = {
            **invitee(3),
            "birth_date": date.today().replace(year=date.today().year - 9, day=1).isoformat(),
            "representatives": [parent],
        }
        child.pop("email")
        bench.call("POST", f"/v1/enrolment/campaigns/{campaign}/invitations", {"invitees": [adult, child]}, agent)
        own_id = bench.call(
            "POST",
            "/v1/enrolment/activate",
            {"ins": adult["ins"], "birth_date": adult["birth_date"], "code": code_of(adult)},
        )["patient_id"]
        child_answer = {"ins": child["ins"], "birth_date": child["birth_date"], "code": code_of(parent)}
        child_id = bench.call("POST", "/v1/enrolment/activate", child_answer)["patient_id"]
        patient, representative = bench.token("patient", ins=adult["ins"]), bench.token("patient", ins=parent["ins"])
        doctor = bench.token("professional", rpps="10000000009", profession="medecin")
        # the child's space: every third document hidden from the representatives, the newest among them
        for space_id, hidden in ((own_id, lambda n: False), (child_id, lambda n: n % 3 == 2)):
            for n in range(args.documents):
                bench.call("POST", f"/v1/patients/{space_id}/documents", _document(n, hidden(n)), doctor)

        rows: list[tuple[str, Calls]] = []

        def measure(label: str, path: str, token: str, raw: bool = False) -> Calls:
            get = (
                (lambda: bench.client.http.get(path, headers={"Authorization": f"Bearer {token}", "Accept": "*/*"}))
                if raw
                else (lambda: bench.call("GET", path, None, token))
            )
            get()  # warm (caches), then counted
            with count_calls() as calls:
                get()
            rows.append((label, calls))
            return calls

        limit = f"?limit={args.limit}"
        own_docs = bench.call("GET", f"/v1/patients/{own_id}/documents{limit}", None, patient)["items"]
        child_docs = bench.call("GET", f"/v1/patients/{child_id}/documents{limit}", None, representative)["items"]
        own_list = measure(
            f"patient: GET …/documents{limit} (own space)", f"/v1/patients/{own_id}/documents{limit}", patient
        )
        rep_list = measure(
            f"representative: GET …/documents{limit} (child, 1/3 hidden)",
            f"/v1/patients/{child_id}/documents{limit}",
            representative,
        )
        own_read = measure(
            "patient: GET …/documents/{id}/content",
            f"/v1/patients/{own_id}/documents/{own_docs[0]['document_id']}/content",
            patient,
            raw=True,
        )
        rep_read = measure(
            "representative: GET …/documents/{id}/content",
            f"/v1/patients/{child_id}/documents/{child_docs[0]['document_id']}/content",
            representative,
            raw=True,
        )
        measure("representative: GET /v1/me/dependants", "/v1/me/dependants", representative)
        measure(
            "representative: GET …/activity?limit=10 (child)",
            f"/v1/patients/{child_id}/activity?limit=10",
            representative,
        )
        calls_table(rows)
        print(
            f"\nrepresentative vs patient: list {rep_list.total} vs {own_list.total} calls "
            f"(+{rep_list.total - own_list.total}), "
            f"content {rep_read.total} vs {own_read.total} calls (+{rep_read.total - own_read.total}); goal: at most +1"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
