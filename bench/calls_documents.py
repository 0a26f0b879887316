"""AWS calls per request for the medical record, and listing a space of 1,000 documents.

A real run against moto through the Chalice test client (warm container: the peppers secret and
the KMS data key cache are already loaded where a previous request loaded them).
"""

from __future__ import annotations

import argparse
import base64
import sys
import time

from bench.harness import Calls, calls_table, cloud, code_of, count_calls, invitee

PDF = base64.b64encode(b"%PDF-1.7\n" + b"x" * 50_000).decode()


def _document(n: int = 0) -> dict:
    return {
        "type": "lab_result",
        "title": f"Bilan {n}",
        "date": "2026-01-15",
        "media_type": "application/pdf",
        "content_base64": PDF,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench calls_documents")
    parser.add_argument("-n", type=int, default=1000, help="documents in the space for the listing figure")
    args = parser.parse_args(argv)
    rows: list[tuple[str, Calls]] = []
    with cloud() as bench:
        agent = bench.token("enrolment_agent")
        campaign = bench.call("POST", "/v1/enrolment/campaigns", {"name": "Vague"}, agent)["campaign_id"]
        person = invitee(1)
        bench.call("POST", f"/v1/enrolment/campaigns/{campaign}/invitations", {"invitees": [person]}, agent)
        answer = {"ins": person["ins"], "birth_date": person["birth_date"], "code": code_of(person)}
        patient_id = bench.call("POST", "/v1/enrolment/activate", answer)["patient_id"]
        patient = bench.token("patient", ins=person["ins"])
        doctor = bench.token("professional", rpps="10000000009", profession="medecin")
        base = f"/v1/patients/{patient_id}"

        def measure(label: str, method: str, path: str, body=None, token=None):
            with count_calls() as calls:
                answer = bench.call(method, path, body, token)
            rows.append((label, calls))
            return answer

        bench.call("POST", f"{base}/documents", _document(), doctor)  # warms the key cache
        document = measure("POST …/documents (deposit)", "POST", f"{base}/documents", _document(), doctor)
        doc = f"{base}/documents/{document['document_id']}"
        measure("GET …/documents (list)", "GET", f"{base}/documents", token=patient)
        measure("GET …/documents/{id} (metadata)", "GET", doc, token=patient)
        headers = {"Authorization": f"Bearer {patient}", "Accept": "*/*"}
        bench.client.http.get(f"{doc}/content", headers=headers)  # the first read fills the cache
        with count_calls() as calls:
            assert bench.client.http.get(f"{doc}/content", headers=headers).status_code == 200
        rows.append(("GET …/documents/{id}/content (goal ≤ 5)", calls))
        measure("PUT …/access/grants/{rpps}", "PUT", f"{base}/access/grants/10000000017", {}, patient)
        measure("PATCH …/documents/{id} (mask)", "PATCH", doc, {"masked": True}, patient)
        calls_table(rows)

        for n in range(args.n - 1):
            bench.call("POST", f"{base}/documents", _document(n), doctor)
        started = time.perf_counter()
        pages = 0
        with count_calls() as calls:
            cursor = None
            while True:
                page = bench.call(
                    "GET", f"{base}/documents?limit=200" + (f"&cursor={cursor}" if cursor else ""), None, patient
                )
                pages += 1
                cursor = page["next_cursor"]
                if not cursor:
                    break
        took = time.perf_counter() - started
        print(
            f"\nlisting a space of {args.n} documents: {pages} pages of 200, {calls.total} AWS calls "
            f"({', '.join(f'{k}×{v}' for k, v in sorted(calls.ops.items()))}), {took:.2f} s in moto; "
            "a query, never a scan"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
