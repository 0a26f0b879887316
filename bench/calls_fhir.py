"""AWS calls of the FHIR interface (ITI-65, ITI-67, ITI-68, Patient search) beside the native
API's calls for the same work, in one run against moto (warm container, as calls_documents)."""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from bench.calls_documents import _document as _native
from bench.harness import Calls, active_person, calls_table, cloud, count_calls

INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
PDF = b"%PDF-1.7\n" + b"x" * 50_000  # as bench/calls_documents.py's


def _bundle(ins: str, n: int) -> dict:
    """An ITI-65 transaction of ``n`` lab reports."""
    entries = [
        {
            "fullUrl": f"urn:uuid:{uuid.uuid4()}",
            "resource": {"resourceType": "List", "status": "current", "mode": "working"},
            "request": {"method": "POST", "url": "List"},
        }
    ]
    for i in range(n):
        binary = f"urn:uuid:{uuid.uuid4()}"
        reference = {
            "resourceType": "DocumentReference",
            "status": "current",
            "type": {"coding": [{"system": "http://loinc.org", "code": "11502-2"}]},
            "subject": {"identifier": {"system": INS_SYSTEM, "value": ins}},
            "content": [
                {
                    "attachment": {
                        "contentType": "application/pdf",
                        "url": binary,
                        "title": f"Bilan {i}",
                        "creation": "2026-01-15",
                    }
                }
            ],
        }
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": reference,
                "request": {"method": "POST", "url": "DocumentReference"},
            }
        )
        entries.append(
            {
                "fullUrl": binary,
                "resource": {
                    "resourceType": "Binary",
                    "contentType": "application/pdf",
                    "data": base64.b64encode(PDF).decode(),
                },
                "request": {"method": "POST", "url": "Binary"},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


TINY = base64.b64encode(b"%PDF-1.7\n%%EOF").decode()  # a page's cost does not depend on the content's size


def _tiny(bundle: dict) -> dict:
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Binary":
            entry["resource"]["data"] = TINY
    return bundle


def page_costs(bench: Any, sizes: list[int], count: int = 50) -> None:
    """A search page's cost (ITI-67, _count=``count``) in spaces of each size, side by side: the first
    page, a page further on (from a next link), each with its AWS calls, DynamoDB items read and time,
    and its ratio to the smallest space's (a ``count`` below the smallest size: pages of one size)."""
    rows: list[tuple[int, str, Calls, float]] = []
    for number, size in enumerate(sizes, start=2):
        person, patient_id, patient = active_person(bench, number)
        rpps = "10000000009"
        bench.call("PUT", f"/v1/patients/{patient_id}/access/treating-doctor", {"rpps": rpps}, patient)
        doctor = bench.token("professional", rpps=rpps, profession="medecin")
        headers = {"Authorization": f"Bearer {doctor}", "Accept": "*/*"}
        for start in range(0, size, 16):
            body = json.dumps(_tiny(_bundle(person["ins"], min(16, size - start)))).encode()
            answer = bench.client.http.post(
                "/v1/fhir", headers={**headers, "Content-Type": "application/fhir+json"}, body=body
            )
            assert answer.status_code == 200, answer.body[:300]

        def get(path: str, headers: dict = headers) -> dict:
            answer = bench.client.http.get(path, headers=headers)
            assert answer.status_code == 200, answer.body[:300]
            return json.loads(answer.body)

        first = "/v1/fhir/DocumentReference?" + urlencode({"patient": patient_id, "_count": count})
        native = f"/v1/patients/{patient_id}/documents?limit={count}"  # one query: moto's own cost, as a control
        get(first)  # warm: the cursor key, the space's first read
        for label, path in (("first page", first), ("a page further on", None), ("native first page", native)):
            if path is None:
                link = next((x["url"] for x in get(first).get("link", []) if x["relation"] == "next"), None)
                if link is None:
                    continue
                path = link[link.index("/v1/fhir") :]
            times = []
            for _ in range(5):  # the median of 5: moto in-process answers in a few ms, noisy
                started = time.perf_counter()
                with count_calls() as calls:
                    get(path)
                times.append(time.perf_counter() - started)
            rows.append((size, label, calls, sorted(times)[2]))
    _print_costs(f"ITI-67 page of {count} (GET DocumentReference?patient=&_count={count}) by the space's size:", rows)


def observation_page_costs(bench: Any, sizes: list[int], count: int = 50) -> None:
    """The same for an Observation search (GET Observation?patient=&_count=``count``): measurements
    sent in batches of 200 by the patient, then the first page and one further on, side by side."""
    rows: list[tuple[int, str, Calls, float]] = []
    for number, size in enumerate(sizes, start=20):
        _, patient_id, patient = active_person(bench, number)
        headers = {"Authorization": f"Bearer {patient}", "Accept": "*/*"}
        start = datetime.now(UTC) - timedelta(days=400)
        for first in range(0, size, 200):
            entries = [
                {
                    "resource": {
                        "resourceType": "Observation",
                        "status": "final",
                        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                        "subject": {"reference": f"Patient/{patient_id}"},
                        "effectiveDateTime": (start + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "valueQuantity": {"value": 70, "system": "http://unitsofmeasure.org", "code": "kg"},
                    },
                    "request": {"method": "POST", "url": "Observation"},
                }
                for i in range(first, min(size, first + 200))
            ]
            body = json.dumps({"resourceType": "Bundle", "type": "batch", "entry": entries}).encode()
            answer = bench.client.http.post(
                "/v1/fhir", headers={**headers, "Content-Type": "application/fhir+json"}, body=body
            )
            assert answer.status_code == 200, answer.body[:300]
        first_page = "/v1/fhir/Observation?" + urlencode({"patient": patient_id, "_count": count})
        page = json.loads(bench.client.http.get(first_page, headers=headers).body)  # warm
        further = next((x["url"] for x in page.get("link", []) if x["relation"] == "next"), None)
        for label, path in (("first page", first_page), ("a page further on", further)):
            if path is None:
                continue
            path = path[path.index("/v1/fhir") :]
            times = []
            for _ in range(5):
                started = time.perf_counter()
                with count_calls() as calls:
                    assert bench.client.http.get(path, headers=headers).status_code == 200
                times.append(time.perf_counter() - started)
            rows.append((size, label, calls, sorted(times)[2]))
    _print_costs(f"Observation page of {count} (GET Observation?patient=&_count={count}) by the series' size:", rows)


def _print_costs(title: str, rows: list[tuple[int, str, Calls, float]]) -> None:
    base: dict[str, float] = {}
    for _, label, _, seconds in rows:
        base.setdefault(label, seconds)
    print(f"\n{title}")
    print(f"{'size':>9}  {'page':<18}  {'calls':>5}  {'items':>5}  {'ms':>6}  {'× smallest':>10}  breakdown")
    for size, label, calls, seconds in rows:
        print(
            f"{size:>9}  {label:<18}  {calls.total:>5}  {calls.items:>5}  {seconds * 1000:>6.0f}  "
            f"{seconds / base[label]:>10.2f}  " + ", ".join(f"{op}×{n}" for op, n in sorted(calls.ops.items()))
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench calls_fhir")
    parser.add_argument("-n", type=int, default=1000, help="documents in the space for the search figure")
    parser.add_argument(
        "--sizes", default="100,1000", help="spaces whose search page costs are printed side by side (comma-separated)"
    )
    parser.add_argument("--pages-only", action="store_true", help="only the page costs by the space's size")
    parser.add_argument("--count", type=int, default=50, help="the pages' _count (below the smallest size: equal)")
    args = parser.parse_args(argv)
    if args.pages_only:
        with cloud() as bench:
            page_costs(bench, [int(size) for size in args.sizes.split(",")], args.count)
            observation_page_costs(bench, [int(size) for size in args.sizes.split(",")], args.count)
        return
    rows: list[tuple[str, Calls]] = []
    with cloud() as bench:
        person, patient_id, patient = active_person(bench)
        doctor = bench.token("professional", rpps="10000000009", profession="medecin")
        bench.call("PUT", f"/v1/patients/{patient_id}/access/treating-doctor", {"rpps": "10000000009"}, patient)
        base = f"/v1/patients/{patient_id}/documents"

        def http(method: str, path: str, body: bytes | None = None, content_type: str | None = None):
            headers = {
                "Authorization": f"Bearer {doctor}",
                "Accept": "*/*",
                **({"Content-Type": content_type} if content_type else {}),
            }
            response = getattr(bench.client.http, method.lower())(path, headers=headers, body=body)
            if response.status_code >= 300:
                raise RuntimeError(f"{method} {path}: {response.status_code} {response.body[:300]!r}")
            return response

        def provide(n: int) -> list[str]:
            answer = json.loads(
                http("POST", "/v1/fhir", json.dumps(_bundle(person["ins"], n)).encode(), "application/fhir+json").body
            )
            return [entry["response"]["location"].split("/")[1] for entry in answer["entry"][1::2]]

        def measured(label: str, work: Callable[[], Any]) -> Any:
            with count_calls() as calls:
                result = work()
            rows.append((label, calls))
            return result

        bench.call("POST", base, _native(), doctor)  # warms the key cache
        provide(1)  # and fhir.resources' models
        measured("native: POST …/documents ×1", lambda: bench.call("POST", base, _native(), doctor))
        document_id = measured("ITI-65: POST /v1/fhir, 1 document", lambda: provide(1))[0]
        measured(
            "native: POST …/documents ×10", lambda: [bench.call("POST", base, _native(i), doctor) for i in range(10)]
        )
        measured("ITI-65: POST /v1/fhir, 10 documents", lambda: provide(10))
        measured("native: GET …/documents/{id}", lambda: http("GET", f"{base}/{document_id}"))
        measured("FHIR: GET DocumentReference/{id}", lambda: http("GET", f"/v1/fhir/DocumentReference/{document_id}"))
        http("GET", f"{base}/{document_id}/content")  # the first read fills the KMS cache
        measured("native: GET …/documents/{id}/content", lambda: http("GET", f"{base}/{document_id}/content"))
        measured("ITI-68: GET Binary/{id}", lambda: http("GET", f"/v1/fhir/Binary/{document_id}"))
        search = {"ins": person["ins"], "birth_date": person["birth_date"]}
        measured("native: POST /v1/patients/search", lambda: bench.call("POST", "/v1/patients/search", search, doctor))
        form = f"identifier={INS_SYSTEM}|{person['ins']}".encode()
        measured(
            "FHIR: POST Patient/_search",
            lambda: http("POST", "/v1/fhir/Patient/_search", form, "application/x-www-form-urlencoded"),
        )
        calls_table(rows)
        page_costs(bench, [int(size) for size in args.sizes.split(",")])
        observation_page_costs(bench, [int(size) for size in args.sizes.split(",")])

        have = 1 + 1 + 1 + 1 + 10 + 10
        while have < args.n:
            have += len(provide(min(10, args.n - have)))
        print(f"\nsearching a space of {have} documents:")
        walks: list[tuple[str, Calls]] = []

        def walk_native() -> int:
            pages, cursor = 0, None
            while True:
                page = bench.call("GET", f"{base}?limit=200" + (f"&cursor={cursor}" if cursor else ""), None, doctor)
                pages, cursor = pages + 1, page["next_cursor"]
                if not cursor:
                    return pages

        def walk_fhir(first: str, body: bytes | None = None, every_page: bool = True) -> int:
            page = json.loads(
                http("POST" if body else "GET", first, body, "application/x-www-form-urlencoded" if body else None).body
            )
            pages = 1
            while every_page and (
                next_link := next((link["url"] for link in page.get("link", []) if link["relation"] == "next"), None)
            ):
                page = json.loads(http("GET", next_link[next_link.index("/v1/fhir") :]).body)
                pages += 1
            return pages

        for label, work in (
            ("native: GET …/documents?limit=200", walk_native),
            (
                "ITI-67: GET DocumentReference?patient=&_count=200",
                lambda: walk_fhir("/v1/fhir/DocumentReference?" + urlencode({"patient": patient_id, "_count": 200})),
            ),
            (
                "ITI-67: POST _search patient.identifier, _count=200",
                lambda: walk_fhir(
                    "/v1/fhir/DocumentReference/_search",
                    f"patient.identifier={INS_SYSTEM}|{person['ins']}&_count=200".encode(),
                ),
            ),
            (
                "ITI-67: first page only, _count=50",
                lambda: walk_fhir(
                    "/v1/fhir/DocumentReference?"
                    + urlencode({"patient": patient_id, "_count": 50, "status": "current"}),
                    every_page=False,
                ),
            ),
        ):
            started = time.perf_counter()
            with count_calls() as calls:
                pages = work()
            walks.append((f"{label}: {pages} pages, {time.perf_counter() - started:.2f} s", calls))
        calls_table(walks)
        scans = sum(calls.ops.get("dynamodb.Scan", 0) for _, calls in rows + walks)
        print(f"DynamoDB scans in all of the above: {scans} (queries only)")


if __name__ == "__main__":
    main(sys.argv[1:])
