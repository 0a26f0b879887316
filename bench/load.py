"""The local stack under load, over HTTP: N clients at once on a mix of reads and writes, on a
fresh stack and again once it holds 100,000 more items, each request's latency beside the time
it spent in its AWS calls (the ``X-Devstack-Aws-Ms`` the devstack's API server adds).

    python -m bench load [--clients 32] [--requests 480] [--fill 100000] [--base-url URL --moto-url URL]

Loopback only and bounded: it starts its own stack (``python -m devstack run``, on MES_MOTO_PORT,
MES_API_PORT and MES_PORTAL_PORT when set, else on free ports; its log in build/load-stack.log)
and stops it, or
drives the devstack at --base-url (whose moto is at --moto-url: the codes of the patients it
enrols are read from its outbox, the filler items written into its table). Every request opens
its own connection, as independent clients do; a connection refused, reset or timed out counts as
dropped, a 5xx or an unexpected status as failed.

The filler: measurements of 1,000 other patients (2 items each: the entry and its id pointer,
as chalicelib/profile/store.py writes them, on the table and its index), written straight into
moto's table with BatchWriteItem.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import itertools
import json
import os
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from bench.harness import code_of, invitee
from devstack import keys

AWS_TIME_HEADER = "X-Devstack-Aws-Ms"  # devstack/api_server.py
PDF = base64.b64encode(b"%PDF-1.7\n" + b"Compte rendu, examen normal.\n" * 400 + b"%%EOF").decode()
MEASURES = {
    "weight": ("kg", 72.5),
    "height": ("cm", 175),
    "heart_rate": ("/min", 64),
    "temperature": ("Cel", 36.8),
    "glucose": ("g/L", 1.02),
    "blood_pressure": ("mm[Hg]", {"systolic": 120, "diastolic": 80}),
}
MIX = (
    "deposit",
    "documents",
    "metadata",
    "profile",
    "activity",
    "documents",
    "metadata",
    "agenda",
    "measurement",
    "profile",
    "content",
)
PATIENTS, DOCTORS, BURSTS = 8, 4, 3
FILL_PATIENTS = 1000
# Goals (the issue "Hardening", item 11)
OVERHEAD_GOAL, FULL_GOAL, PROFILE_GOAL = 1.5, 1.2, 2.0


def _at(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Request:
    op: str
    method: str
    path: str
    token: str
    body: dict | None = None
    expected: int = 200


@dataclass
class Result:
    op: str
    seconds: float
    status: int | None  # None: the connection was dropped
    aws_seconds: float | None = None


class Target:
    """The API at ``base``: one connection per request."""

    def __init__(self, base: str):
        parts = urlsplit(base)
        if parts.hostname is None:
            raise SystemExit(f"{base}: give the API's URL, with its host")
        self.host, self.port = parts.hostname, parts.port or 80

    def send(
        self, method: str, path: str, token: str | None = None, body: dict | None = None
    ) -> tuple[int, bytes, float | None]:
        headers = {"Connection": "close", "Accept": "*/*"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = None
        if body is not None:
            payload, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
            aws = response.getheader(AWS_TIME_HEADER)
            return response.status, data, float(aws) / 1000 if aws else None
        finally:
            connection.close()

    def json(
        self, method: str, path: str, token: str | None = None, body: dict | None = None, expected: int = 200
    ) -> dict:
        status, data, _ = self.send(method, path, token, body)
        if status != expected:
            raise RuntimeError(f"{method} {path}: {status} {data[:300]!r}")
        return json.loads(data) if data else {}

    def timed(self, request: Request) -> Result:
        started = time.perf_counter()
        try:
            status, _, aws = self.send(request.method, request.path, request.token, request.body)
        except (OSError, http.client.HTTPException):  # refused, reset, timed out, cut short
            return Result(request.op, time.perf_counter() - started, None)
        return Result(request.op, time.perf_counter() - started, status, aws)


@dataclass
class World:
    """The patients and professionals the load runs as, and what they already have."""

    patients: list[tuple[str, str]] = field(default_factory=list)  # (patient_id, token)
    doctors: list[tuple[str, str]] = field(default_factory=list)  # (rpps, token)
    documents: dict[str, list[str]] = field(default_factory=dict)  # patient_id → document ids


def _rpps(n: int) -> str:
    from chalicelib.core.security.identifiers import rpps_check_digit

    first10 = f"1{n:09d}"
    return first10 + rpps_check_digit(first10)


def _document(title: str) -> dict:
    return {
        "type": "lab_result",
        "title": title,
        "date": "2026-01-15",
        "media_type": "application/pdf",
        "content_base64": PDF,
    }


def setup(target: Target, moto: str) -> World:
    """Enrols the patients through the API (codes from the outbox), grants each of them to each
    professional, and gives every space a few documents, profile entries and agenda events."""
    from devstack.outbox import server_records

    first = random.randrange(10_000, 990_000)  # noqa: S311 - fresh people even on a stack already used, not a secret
    people = [invitee(first + n) for n in range(PATIENTS)]
    agent = keys.mint("enrolment_agent")
    campaign = target.json("POST", "/v1/enrolment/campaigns", agent, {"name": "Charge locale"}, 201)["campaign_id"]
    invited = target.json("POST", f"/v1/enrolment/campaigns/{campaign}/invitations", agent, {"invitees": people})
    assert invited["accepted"] == PATIENTS, invited
    records = server_records(moto)
    world = World()
    for person in people:
        answer = {"ins": person["ins"], "birth_date": person["birth_date"], "code": code_of(person, records)}
        patient_id = target.json("POST", "/v1/enrolment/activate", None, answer)["patient_id"]
        world.patients.append((patient_id, keys.mint("patient", {"ins": person["ins"]})))
    for n in range(DOCTORS):
        rpps = _rpps(first + n)
        world.doctors.append(
            (rpps, keys.mint("professional", {"rpps": rpps, "profession": "medecin", "name": f"Dr Charge {n}"}))
        )

    def furnish(index: int) -> None:
        patient_id, token = world.patients[index]
        base = f"/v1/patients/{patient_id}"
        for rpps, _ in world.doctors:
            target.json("PUT", f"{base}/access/grants/{rpps}", token, {})
        doctor = world.doctors[index % DOCTORS][1]
        world.documents[patient_id] = [
            target.json("POST", f"{base}/documents", doctor, _document(f"Bilan {n}"), 201)["document_id"]
            for n in range(2)
        ]
        for substance in ("Pollen", "Pénicilline"):
            target.json("POST", f"{base}/profile/allergies", token, {"substance": substance}, 201)
        for n, (kind, (unit, value)) in enumerate(MEASURES.items()):
            target.json(
                "POST",
                f"{base}/profile/measurements",
                token,
                {"kind": kind, "unit": unit, "value": value, "measured_at": _at(60 + n)},
                201,
            )
        for days in (3, 10):
            start = (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT09:00:00Z")
            target.json(
                "POST", f"{base}/agenda", token, {"kind": "appointment", "title": "Consultation", "start": start}, 201
            )

    with ThreadPoolExecutor(PATIENTS) as pool:
        list(pool.map(furnish, range(PATIENTS)))
    return world


def request(world: World, op: str, n: int) -> Request:
    """The ``n``-th request of kind ``op``, spread over the patients and professionals."""
    patient_id, token = world.patients[n % PATIENTS]
    base = f"/v1/patients/{patient_id}"
    document = f"{base}/documents/{world.documents[patient_id][n % 2]}"
    if op == "deposit":
        return Request(op, "POST", f"{base}/documents", world.doctors[n % DOCTORS][1], _document(f"Résultat {n}"), 201)
    if op == "measurement":
        return Request(
            op,
            "POST",
            f"{base}/profile/measurements",
            token,
            {"kind": "heart_rate", "unit": "/min", "value": 60 + n % 30, "measured_at": _at(n / 60)},
            201,
        )
    paths = {
        "documents": f"{base}/documents?limit=20",
        "metadata": document,
        "content": f"{document}/content",
        "profile": f"{base}/profile",
        "activity": f"{base}/activity?limit=20",
        "agenda": f"{base}/agenda",
    }
    return Request(op, "GET", paths[op], token)


def mixed(world: World, count: int) -> list[Request]:
    return [request(world, op, n) for n, op in zip(range(count), itertools.cycle(MIX))]


def drive(target: Target, requests: list[Request], clients: int) -> tuple[list[Result], float]:
    """``requests`` sent by ``clients`` threads released together, each taking the next one."""
    results: list[Result] = []
    queue = iter(requests)
    lock, start = threading.Lock(), threading.Barrier(clients + 1)

    def client() -> None:
        start.wait()
        while True:
            with lock:
                next_request = next(queue, None)
            if next_request is None:
                return
            result = target.timed(next_request)
            with lock:
                results.append(result)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - began


@dataclass
class Figures:
    results: list[Result]
    seconds: float
    expected: dict[str, int]

    @property
    def dropped(self) -> int:
        return sum(r.status is None for r in self.results)

    @property
    def failed(self) -> int:
        return sum(r.status is not None and r.status != self.expected[r.op] for r in self.results)

    def latencies(self, op: str | None = None) -> list[float]:
        return sorted(r.seconds for r in self.results if r.status is not None and (op is None or r.op == op))

    def percentile(self, q: float, op: str | None = None) -> float:
        values = self.latencies(op)
        return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")

    @property
    def throughput(self) -> float:
        return len(self.results) / self.seconds

    @property
    def overhead(self) -> float:
        """The API's own time (latency less time in AWS calls) over the time in AWS calls."""
        timed = [r for r in self.results if r.aws_seconds is not None]
        aws = sum(r.aws_seconds or 0.0 for r in timed)  # all timed: 0.0 never used
        return (sum(r.seconds for r in timed) - aws) / aws if aws else float("nan")


def measure(target: Target, world: World, requests: int, clients: int) -> Figures:
    batch = mixed(world, requests)
    results, seconds = drive(target, batch, clients)
    return Figures(results, seconds, {r.op: r.expected for r in batch})


def bursts(target: Target, world: World, clients: int) -> Figures:
    """BURSTS times, ``clients`` deposits sent at the same instant."""
    all_results, seconds, expected = [], 0.0, {}
    for burst in range(BURSTS):
        batch = [request(world, "deposit", burst * clients + n) for n in range(clients)]
        results, took = drive(target, batch, clients)
        all_results += results
        seconds += took
        expected.update({r.op: r.expected for r in batch})
    return Figures(all_results, seconds, expected)


def fill(moto: str, items: int) -> float:
    """Writes ``items`` items (measurements of FILL_PATIENTS other patients) into the stack's
    table with BatchWriteItem, from 4 threads; returns the seconds it took."""
    import boto3

    from chalicelib.core.ids import new_sortable_id
    from chalicelib.profile.store import put_measurement_items
    from devstack.provision import REGION

    session = boto3.session.Session(aws_access_key_id="devstack", aws_secret_access_key="devstack", region_name=REGION)
    names = session.client("dynamodb", endpoint_url=moto).list_tables()["TableNames"]
    assert len(names) == 1, names
    per_patient = max(1, items // FILL_PATIENTS // 2)

    def one_patient(n: int) -> None:
        table = session.resource("dynamodb", endpoint_url=moto).Table(names[0])
        with table.batch_writer() as writer:
            for m in range(per_patient):
                kind = list(MEASURES)[m % len(MEASURES)]
                unit, value = MEASURES[kind]
                entry = {
                    "entry_id": new_sortable_id("mea"),
                    "kind": kind,
                    "unit": unit,
                    "value": value,
                    "measured_at": _at(m * 30),
                    "recorded_at": _at(0),
                    "author_role": "patient",
                    "author_id": f"pat_fill{n:05d}",
                }
                for put in put_measurement_items(f"pat_fill{n:05d}", entry):
                    writer.put_item(Item=put["Put"]["Item"])

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one_patient, range(items // (2 * per_patient))))
    return time.perf_counter() - started


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def report(rows: list[tuple[str, Figures]]) -> None:
    print(
        f"{'run':<28} {'requests':>8} {'req/s':>7} {'p50':>8} {'p95':>8} {'dropped':>7} {'failed':>6}  "
        "own time / AWS time"
    )
    for label, f in rows:
        print(
            f"{label:<28} {len(f.results):>8} {f.throughput:>7.1f} "
            f"{_ms(f.percentile(0.5)):>8} {_ms(f.percentile(0.95)):>8} "
            f"{f.dropped:>7} {f.failed:>6}  {f.overhead:.2f}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench load", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=480, help="mixed requests per measured run")
    parser.add_argument("--fill", type=int, default=100_000, help="items written into the table between the two runs")
    parser.add_argument("--base-url", help="a running devstack's API (default: start one)")
    parser.add_argument("--moto-url", help="that devstack's moto (with --base-url)")
    args = parser.parse_args(argv)
    if bool(args.base_url) != bool(args.moto_url):
        parser.error("--base-url and --moto-url go together")
    with ExitStack() as stack:
        if args.base_url:
            api, moto = args.base_url, args.moto_url
        else:
            from devstack.run import started

            log_path = keys.ROOT / "build" / "load-stack.log"
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log = stack.enter_context(log_path.open("w"))
            ports = [
                int(os.environ[f"MES_{name}_PORT"]) if f"MES_{name}_PORT" in os.environ else None
                for name in ("MOTO", "API", "PORTAL")
            ]
            api, moto, _ = stack.enter_context(started(log, *ports))
            print(f"stack at {api} (moto {moto}), log {log_path}")
        target = Target(api)
        began = time.perf_counter()
        world = setup(target, moto)
        print(f"setup: {PATIENTS} patients enrolled through the API, {DOCTORS} professionals granted, "
              f"spaces furnished ({time.perf_counter() - began:.0f} s)")  # fmt: skip
        burst = bursts(target, world, args.clients)
        measure(target, world, args.clients * 2, args.clients)  # warm-up: caches, clients, code paths
        fresh = measure(target, world, args.requests, args.clients)
        filled = fill(moto, args.fill)
        print(f"filled the table with {args.fill:,} items in {filled:.0f} s")
        full = measure(target, world, args.requests, args.clients)
    print()
    report(
        [
            (f"{BURSTS} bursts of {args.clients} deposits", burst),
            ("mixed, fresh stack", fresh),
            (f"mixed, +{args.fill:,} items", full),
        ]
    )
    print(f"\np50 by request ({args.clients} clients): fresh → +{args.fill:,} items")
    for op in dict.fromkeys(MIX):
        print(f"  {op:<12} {_ms(fresh.percentile(0.5, op)):>8} → {_ms(full.percentile(0.5, op)):>8}")
    overhead = max(fresh.overhead, full.overhead)
    slower = max(full.percentile(q) / fresh.percentile(q) for q in (0.5, 0.95))
    profile = max(f.percentile(0.5, "profile") / f.percentile(0.5, "documents") for f in (fresh, full))
    dropped = burst.dropped + fresh.dropped + full.dropped
    goals = [
        (f"API's own time ≤ {OVERHEAD_GOAL}× its AWS time", f"{overhead:.2f}×", overhead <= OVERHEAD_GOAL),
        (f"no dropped connection at {args.clients} clients", f"{dropped} dropped", dropped == 0),
        (f"p50 and p95 with +{args.fill:,} items ≤ {FULL_GOAL}× fresh", f"{slower:.2f}×", slower <= FULL_GOAL),
        (f"GET …/profile p50 ≤ {PROFILE_GOAL}× a document list's", f"{profile:.2f}×", profile <= PROFILE_GOAL),
    ]
    print()
    for goal, figure, met in goals:
        print(f"{'met    ' if met else 'NOT MET'}  {goal}: {figure}")
    unexpected = Counter(
        f"{r.op} {r.status}"
        for f in (burst, fresh, full)
        for r in f.results
        if r.status not in (None, f.expected[r.op])
    )
    if unexpected:
        print(
            "unexpected answers (see the stack's log): "
            + ", ".join(f"{what} ×{n}" for what, n in sorted(unexpected.items()))
        )


if __name__ == "__main__":
    main(sys.argv[1:])
