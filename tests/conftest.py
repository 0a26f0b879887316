"""Fixtures: a moto world per test as freshly provisioned from infra/ exactly as the devstack does,
and the Chalice test client calling the real app through its public HTTP interface."""

from __future__ import annotations

import copy
import functools
import gc
import json
import os
from collections.abc import Callable, Hashable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import hypothesis
import pytest
from moto.core.model_instances import reset_model_data

import tests.permissions  # noqa: F401  # hooks every client the process builds, before any is (its _record)
from devstack import keys, moto_speedups
from tests import examples
from tests.moto_snapshot import RestartableMock, Snapshot

moto_speedups.apply()
Built = TypeVar("Built")


def _one_botocore_loader() -> None:
    """Every boto3 session of the tests' process reads the service models through one loader.

    The app builds its clients from a new session (once per cold start in the cloud) and the tests
    build them again for each test (``reset_caches``): each new session's loader would parse the
    services' JSON models again, the larger part of a short test's time. A loader only reads
    botocore's data files, the same for every session."""
    import botocore.session

    loaders: dict = {}
    create_loader = botocore.session.create_loader

    def shared_loader(search_path_string=None):
        if search_path_string not in loaders:
            loaders[search_path_string] = create_loader(search_path_string)
        return loaders[search_path_string]

    botocore.session.create_loader = shared_loader


_one_botocore_loader()


def _handlers_inspected_once() -> None:
    """Every new botocore session registers ~130 built-in event handlers, and for each one botocore
    inspects the handler's signature (``accepts_kwargs``) and rewrites the event's name through
    its aliases: ~15 ms per client, which the tests pay for every client of every test (the app
    builds its clients anew after ``reset_caches``). A function's signature and an event name's
    alias do not change: each is worked out once per process here, the registration unchanged."""
    import types
    import weakref

    import botocore.hooks
    from botocore.compat import accepts_kwargs

    inspected: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def accepts_kwargs_once(func) -> bool:
        function = getattr(func, "__func__", func)  # a bound method: its function's signature
        if not isinstance(function, types.FunctionType):
            return accepts_kwargs(func)
        if function not in inspected:
            inspected[function] = accepts_kwargs(func)
        return inspected[function]

    botocore.hooks.accepts_kwargs = accepts_kwargs_once
    aliased: dict[str, str] = {}  # for the default aliases, those every session has
    aliaser_init = botocore.hooks.EventAliaser.__init__

    def init(self, event_emitter, event_aliases=None) -> None:
        aliaser_init(self, event_emitter, event_aliases)
        if event_aliases is None:
            self._alias_name_cache = aliased

    botocore.hooks.EventAliaser.__init__ = init


_handlers_inspected_once()


def _user_agent_parts_sanitized_once() -> None:
    """botocore writes each request's User-Agent header from ~20 parts, each checked character by
    character (~3% of a test's time): a part's clean form is worked out once per process."""
    import botocore.useragent

    botocore.useragent.sanitize_user_agent_string_component = functools.lru_cache(maxsize=1024)(
        botocore.useragent.sanitize_user_agent_string_component
    )


_user_agent_parts_sanitized_once()


def _tests_clients_kept() -> None:
    """The tests read and write the world behind the app's back through ``boto3.client`` and
    ``boto3.resource`` (a bucket's objects, a table's items), often several times a test: each
    call built a client (~15 ms). Kept per arguments for the process, as the app keeps its own
    (tests/conftest.py ``reset_caches``): a client holds no data of a world, moto serves the next
    one through it. The app and the tools build theirs from sessions of their own, untouched."""
    import boto3

    for name in ("client", "resource"):
        build = getattr(boto3, name)
        kept: dict = {}

        def kept_or_built(*args, _build=build, _kept=kept, **kwargs):
            key = (args, tuple(sorted(kwargs.items())))
            if key not in _kept:
                _kept[key] = _build(*args, **kwargs)
            return _kept[key]

        setattr(boto3, name, kept_or_built)


_tests_clients_kept()

_MOTO_REQUESTS = [0]  # requests the process's AWS clients sent (all to moto), for as_provisioned


def _moto_requests_counted() -> None:
    import botocore.handlers

    def count(**_) -> None:
        _MOTO_REQUESTS[0] += 1

    botocore.handlers.BUILTIN_HANDLERS.insert(0, ("before-send", count))  # before moto's answers it


_moto_requests_counted()

# Property tests without a count of their own: a quarter of hypothesis's default in make check.
hypothesis.settings.register_profile("quick", max_examples=examples.examples(examples.DEFAULT))
if examples.QUICK:
    hypothesis.settings.load_profile("quick")

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-3")
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)


def pytest_configure(config) -> None:
    """`make test` runs the files on every core (pytest-xdist, ``--dist loadfile``: a file's tests
    share one worker, so its module and session fixtures start one stack, build one package).
    The stacks that tests/browser and test_devstack.py start sign with the devstack's key: made
    here, before any worker starts, so that two of them never both make it."""
    if not hasattr(config, "workerinput"):  # the controller, or a run without xdist
        keys.jwks()


def reset_caches() -> None:
    """What the app built from a world (tables, keys, secrets) forgotten; its AWS clients kept: a
    client costs ~15 % of a short test to build, and moto serves the next world through it."""
    from chalicelib.core import memo
    from chalicelib.core.data import aws
    from chalicelib.core.settings import settings

    settings.cache_clear()
    memo.forget_all(keep=aws.CLIENTS)


@pytest.fixture(scope="session")
def key_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("devstack") / "signing-key.pem"
    os.environ.update(keys.api_environment(path))
    os.environ["CORS_ALLOWED_ORIGINS"] = "https://app.example.test"
    return path


def _settled() -> None:
    """What the process holds from now on for good (modules, botocore's models, moto's provisioned
    world and its snapshot, ~400,000 objects) is left out of the cyclic garbage collector's rounds,
    and the rounds come less often (every 10,000 new objects instead of 700): each test leaves
    tens of thousands of objects in cycles (moto's restored world), and the collector's rounds took
    ~10 s of each xdist worker's CPU in ``make check`` (docs/performance.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


class _ProvisionedCloud:
    """The stack provisioned from infra/ once per process, then put back as provisioned before each
    test (tests/moto_snapshot.py): provisioning takes seconds, putting it back milliseconds.

    A fixture's setup through the API (``captured``: ``active_patient``, a module's world) in a
    world still as provisioned is also played once per process: the world right after it is
    captured with its result, and put back the next time a test asks for it first."""

    def __init__(self) -> None:
        self.environment: dict[str, str] = {}
        self.snapshot: Snapshot | None = None
        self.worlds: dict[Hashable, tuple[Snapshot, Any]] = {}  # a setup's key -> (the world after, its result)
        self._requests_at_restore: int | None = None

    def enter(self, mock) -> dict[str, str]:
        if self.snapshot is not None and self.snapshot.restorable():
            mock.start(reset=False)
            self.snapshot.restore()
        else:  # the first test, or moto was reset by another mock since
            mock.start(reset=True)
            from devstack.provision import provision

            self.environment = provision()
            self.snapshot = Snapshot()
            self.worlds.clear()
            _settled()
        self._requests_at_restore = _MOTO_REQUESTS[0]
        return self.environment

    def as_provisioned(self) -> bool:
        """Nothing asked of moto since the world was put back: it is as provisioned."""
        return self._requests_at_restore == _MOTO_REQUESTS[0]

    def captured(self, key: Hashable, setup: Callable[[], Built]) -> Built:
        """What ``setup`` returns, and the world as it leaves it: its captured result and world
        when the test's world is as provisioned, else ``setup`` played. ``key`` names the setup:
        one key, one setup, whatever the test."""
        if not self.as_provisioned():
            return setup()
        if key in self.worlds and self.worlds[key][0].restorable():
            world, result = self.worlds[key]
            world.restore()
            reset_caches()
        else:
            result = setup()
            self.worlds[key] = (Snapshot(), copy.deepcopy(result))
        self._requests_at_restore = None
        return copy.deepcopy(result)


_provisioned = _ProvisionedCloud()


def pytest_sessionfinish(session) -> None:
    """The captured worlds dropped while the interpreter still runs: moto's S3 objects in them
    clean up after themselves when dropped, which fails once the interpreter is shutting down."""
    _provisioned.worlds.clear()


def captured(key: Hashable, setup: Callable[[], Built]) -> Built:
    """A fixture's setup through the API, played once per process (``_ProvisionedCloud.captured``);
    the fixture takes ``cloud`` (or ``api``) before it calls this."""
    return _provisioned.captured(key, setup)


@pytest.fixture
def cloud(key_file, monkeypatch):
    mock = RestartableMock(config={"stepfunctions": {"execute_state_machine": True}})
    for name, value in _provisioned.enter(mock).items():
        monkeypatch.setenv(name, value)
    reset_caches()
    try:
        yield
    finally:
        mock.stop(remove_data=False)  # the next test restores the snapshot
        reset_model_data()  # moto's list of every model built, for its dashboard: dropped as moto's own stop does
        reset_caches()


class AppClock:
    """The app's clock (``chalicelib.core.clock``) as the test moves it: a grant that expires in two
    seconds has expired once the test moves the clock three seconds on, without waiting for it."""

    def __init__(self, monkeypatch) -> None:
        from chalicelib.core import clock

        self.ahead = timedelta(0)
        real_now = clock.now
        monkeypatch.setattr(clock, "now", lambda: real_now() + self.ahead)

    def advance(self, **delta: float) -> None:
        self.ahead += timedelta(**delta)

    def at(self, **delta: float) -> None:
        """The clock ``delta`` from the real now (``at(days=0)``: back to it)."""
        self.ahead = timedelta(**delta)


@pytest.fixture
def app_clock(monkeypatch) -> AppClock:
    return AppClock(monkeypatch)


@pytest.fixture
def api(cloud):
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="local") as client:
        yield Api(client)


class Api:
    """The Chalice test client with JSON and token helpers."""

    def __init__(self, client):
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        body=None,
        token: str | None = None,
        headers: dict | None = None,
        raw: bytes | None = None,
    ):
        all_headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return getattr(self.client.http, method.lower())(path, headers=all_headers, body=payload)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


@pytest.fixture
def token(key_file):
    def mint(role: str, **claims) -> str:
        return keys.mint(role, claims, path=key_file)

    return mint


def every_stored_item() -> list[dict]:
    """Every item of every table of the stack: what a privacy check must look through."""
    import boto3

    dynamodb = boto3.resource("dynamodb", region_name="eu-west-3")
    return [
        item
        for name in dynamodb.meta.client.list_tables()["TableNames"]
        for item in dynamodb.Table(name).scan()["Items"]
    ]


def make_ins(n: int, sex: str = "1", dept: str = "75") -> str:
    """A valid INS, different for each n."""
    from chalicelib.core.security.identifiers import ins_key

    nir = f"{sex}85{(n % 12) + 1:02d}{dept}{(n // 1000) % 1000:03d}{n % 1000:03d}"
    return nir + ins_key(nir)


def invitee(n: int, **overrides) -> dict:
    return {
        "ins": make_ins(n),
        "family_name": "Durand",
        "given_names": "Camille",
        "birth_date": "1985-03-14",
        "email": f"person{n}@example.test",
        **overrides,
    }


def code_from(notification: dict) -> str:
    line = next(line for line in notification["body"].splitlines() if line.startswith("Code provisoire : "))
    return line.removeprefix("Code provisoire : ").strip()


class Enrolment:
    """Drives the enrolment API the way an agent and a person would."""

    def __init__(self, api: Api, token):
        self.api, self.token = api, token
        self.agent = token("enrolment_agent")

    def campaign(self, **body) -> str:
        response = self.api.post("/v1/enrolment/campaigns", {"name": "Vague test", **body}, token=self.agent)
        assert response.status_code == 201, response.json_body
        return response.json_body["campaign_id"]

    def invite(self, campaign_id: str, people: list[dict], **body) -> dict:
        response = self.api.post(
            f"/v1/enrolment/campaigns/{campaign_id}/invitations", {"invitees": people, **body}, token=self.agent
        )
        assert response.status_code == 200, response.json_body
        return response.json_body

    def code_of(self, person: dict) -> str:
        from devstack.outbox import sent

        messages = [
            m for m in sent(to=person.get("email") or person.get("postal_address")) if "Code provisoire" in m["body"]
        ]
        return code_from(messages[-1])

    def activate(self, person: dict) -> str:
        body = {"ins": person["ins"], "birth_date": person["birth_date"], "code": self.code_of(person)}
        response = self.api.post("/v1/enrolment/activate", body)
        assert response.status_code == 200, response.json_body
        return response.json_body["patient_id"]

    def patient_token(self, person: dict) -> str:
        return self.token("patient", ins=person["ins"])

    def active_patient(self, n: int = 1) -> tuple[str, str]:
        """(patient_id, patient token) of a freshly activated space."""
        person = invitee(n)

        def enrol() -> str:
            self.invite(self.campaign(), [person])
            return self.activate(person)

        return captured(("active_patient", n), enrol), self.patient_token(person)


@pytest.fixture
def enrolment(api, token) -> Enrolment:
    return Enrolment(api, token)
