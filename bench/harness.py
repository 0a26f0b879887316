"""What every module's benchmark needs: the app in-process against moto, and an AWS call counter.

The counter hooks botocore's event system. ``install()`` wraps
``botocore.session.Session.create_client`` once, so every client created afterwards, whichever
session makes it (the app's ``boto3.session.Session()`` in chalicelib/core/data/aws.py, the client
under a boto3 resource, boto3's default session), gets two handlers on its own event emitter:
``before-parameter-build.*.*`` fires exactly once per API call (retries are inside the call) with
the caller's parameters, ``after-call.*.*`` with the parsed answer (used to size reads). Clients
cached before ``install()`` would be missed: ``cloud()`` installs it and then resets the app's
caches. Only calls made in the context that opened ``count_calls()`` count, the app's worker
threads included (chalicelib/core/data/concurrency.py runs them in copies of it): moto runs the state
machines on threads of its own, and their calls are Step Functions' work, not the app's.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore.session

DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
DYNAMODB_READS = {"GetItem", "Query", "Scan", "BatchGetItem"}


@dataclass
class Calls:
    """AWS calls made during one block: per ``service.Operation``, and DynamoDB capacity units.

    Units follow DynamoDB's on-demand rules: a write of an item up to 1 KB is 1 WCU, each item of
    a TransactWriteItems 2 WCU; a read is 1 RCU per 4 KB read (strongly consistent), half that
    when eventually consistent, the size taken from the items returned.
    """

    ops: Counter = field(default_factory=Counter)
    wcu: float = 0.0
    rcu: float = 0.0
    items: int = 0  # DynamoDB items read (returned by GetItem, Query, BatchGetItem)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def total(self) -> int:
        return sum(self.ops.values())

    def count(self, service: str, operation: str, params: dict) -> None:
        with self._lock:
            self.ops[f"{service}.{operation}"] += 1
            if service != "dynamodb":
                return
            if operation == "TransactWriteItems":
                self.wcu += 2 * len(params["TransactItems"])
            elif operation in DYNAMODB_WRITES:
                self.wcu += 1

    def read(self, service: str, operation: str, consistent: bool, parsed: dict) -> None:
        if service == "dynamodb" and operation in DYNAMODB_READS:
            items = parsed.get("Items", parsed.get("Item", parsed.get("Responses", {})))
            size = len(json.dumps(items, default=str))
            if isinstance(items, dict) and "pk" not in items:  # BatchGetItem: per table
                read = sum(len(found) for found in items.values())
            else:
                read = len(items) if isinstance(items, list) else int(bool(items))
            with self._lock:
                self.rcu += max(1, math.ceil(size / 4096)) * (1 if consistent else 0.5)
                self.items += read


_active: ContextVar[Calls | None] = ContextVar("bench_calls", default=None)  # the counting block
_latency = {"seconds": 0.0}  # simulated network round trip per AWS call (moto answers at once)


def _before(params: dict, model, context: dict, **_) -> None:
    context["bench_consistent"] = bool(params.get("ConsistentRead"))
    if _latency["seconds"]:
        time.sleep(_latency["seconds"])
    calls = _active.get()
    if calls is not None:
        calls.count(model.service_model.service_name, model.name, params)


def _after(parsed: dict, model, context: dict, **_) -> None:
    calls = _active.get()
    if calls is not None:
        calls.read(model.service_model.service_name, model.name, context.get("bench_consistent", False), parsed)


def install() -> None:
    create_client = botocore.session.Session.create_client
    if getattr(create_client, "counted", False):
        return

    def counted_client(self, *args, **kwargs):
        client = create_client(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build.*.*", _before)
        client.meta.events.register("after-call.*.*", _after)
        return client

    counted_client.counted = True  # type: ignore[attr-defined]  # a mark on the function: patched once
    botocore.session.Session.create_client = counted_client


@contextmanager
def count_calls() -> Iterator[Calls]:
    """Counts the AWS calls made inside the block (and by the workers it starts)."""
    assert _active.get() is None, "count_calls blocks do not nest"
    calls = Calls()
    token = _active.set(calls)
    try:
        yield calls
    finally:
        _active.reset(token)


LATENCY = 0.02  # the simulated round trip of one AWS call


@contextmanager
def network(workers: int, latency: float = LATENCY) -> Iterator[None]:
    """Inside the block every AWS call first waits ``latency``, as a real round trip would, and
    chalicelib/core/data/concurrency.py runs ``workers`` calls at a time: shows what running calls side
    by side saves, which moto in-process (it answers at once) cannot."""
    from chalicelib.core.data import concurrency

    chosen = concurrency.WORKERS
    _latency["seconds"], concurrency.WORKERS = latency, workers
    try:
        yield
    finally:
        _latency["seconds"], concurrency.WORKERS = 0.0, chosen


def breakdown(calls: Calls, per: float = 1) -> str:
    return ", ".join(f"{op}×{_figure(n / per)}" for op, n in sorted(calls.ops.items()))


def calls_table(rows: Sequence[tuple[str, Calls] | tuple[str, Calls, float]]) -> None:
    """Prints endpoint | calls | breakdown; a row's third value divides (calls per person)."""
    divided = [(row[0], row[1], row[2] if len(row) > 2 else 1) for row in rows]
    width = max(len(label) for label, _, _ in divided)
    print(f"{'endpoint':<{width}}  {'calls':>6}  breakdown")
    for label, calls, per in divided:
        print(f"{label:<{width}}  {_figure(calls.total / per):>6}  {breakdown(calls, per)}")


def _figure(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"


# The app against in-process moto ----------------------------------------------------------------


def reset_caches() -> None:
    from chalicelib.core import memo
    from chalicelib.core.settings import settings

    settings.cache_clear()
    memo.forget_all()


class Bench:
    """The Chalice test client with JSON and token helpers."""

    def __init__(self, client, key_file: Path):
        self.client, self.key_file = client, key_file

    def token(self, role: str, **claims) -> str:
        from devstack import keys

        return keys.mint(role, claims, path=self.key_file)

    def call(self, method: str, path: str, body=None, token: str | None = None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = getattr(self.client.http, method.lower())(
            path, headers=headers, body=None if body is None else json.dumps(body)
        )
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.body[:300]!r}")
        return response.json_body


@contextmanager
def cloud() -> Iterator[Bench]:
    """moto in-process (speedups on, state machines executing), provisioned from infra/."""
    from chalice.test import Client
    from moto import mock_aws

    from devstack import keys, moto_speedups
    from devstack.provision import provision

    install()
    moto_speedups.apply()
    saved = dict(os.environ)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="eu-west-3")
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(name, None)
    try:
        with tempfile.TemporaryDirectory() as tmp, mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            key_file = Path(tmp) / "signing-key.pem"
            os.environ.update(keys.api_environment(key_file))
            os.environ.update(provision())
            reset_caches()
            from app import app

            logging.getLogger("mes").setLevel(logging.WARNING)  # one JSON line per request otherwise
            with Client(app, stage_name="local") as client:
                yield Bench(client, key_file)
    finally:
        reset_caches()
        os.environ.clear()
        os.environ.update(saved)


# Enrolment helpers shared by the enrolment benchmarks -------------------------------------------


def deadline_in(delta: timedelta) -> str:
    """An explicit invitations deadline, ``delta`` from now."""
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_ins(n: int) -> str:
    from chalicelib.core.security.identifiers import ins_key

    nir = f"185{(n % 12) + 1:02d}75{(n // 1000) % 1000:03d}{n % 1000:03d}"
    return nir + ins_key(nir)


def invitee(n: int, letter: bool = False) -> dict:
    contact = {"postal_address": f"{n} rue de la Paix, 75002 Paris"} if letter else {"email": f"person{n}@example.test"}
    return {
        "ins": make_ins(n),
        "family_name": "Durand",
        "given_names": "Camille",
        "birth_date": "1985-03-14",
        **contact,
    }


def active_person(bench: Bench, n: int = 1) -> tuple[dict, str, str]:
    """An invited then activated person: (invitee, patient_id, their patient token)."""
    agent = bench.token("enrolment_agent")
    campaign = bench.call("POST", "/v1/enrolment/campaigns", {"name": "Vague"}, agent)["campaign_id"]
    person = invitee(n)
    bench.call("POST", f"/v1/enrolment/campaigns/{campaign}/invitations", {"invitees": [person]}, agent)
    answer = {"ins": person["ins"], "birth_date": person["birth_date"], "code": code_of(person)}
    patient_id = bench.call("POST", "/v1/enrolment/activate", answer)["patient_id"]
    return person, patient_id, bench.token("patient", ins=person["ins"])


def code_of(person: dict, records: dict | None = None) -> str:
    """The provisional code last sent to ``person``: from moto in this process, or from ``records``
    (``devstack.outbox.server_records()`` of a running stack)."""
    from devstack.outbox import sent

    to = person.get("email") or person["postal_address"]
    body = [m["body"] for m in sent(records, to=to) if "Code provisoire" in m["body"]][-1]
    line = next(line for line in body.splitlines() if line.startswith("Code provisoire : "))
    return line.removeprefix("Code provisoire : ").strip()
