"""``make run``: moto server + provisioning from infra/ + ``chalice local``, in the foreground.

Every start is clean: moto keeps its state in memory, so a new run starts from an empty cloud
(the signing key in .devstack/ is kept, so tokens minted earlier stay valid until they expire).
Ctrl-C stops everything this started.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO

from devstack import keys, portal_server, smtp_server
from devstack.provision import REGION, provision
from devstack.workers import run_workers

# Overridable so that two stacks can run side by side on one machine (e.g. a test run beside `make run`).
MOTO_PORT = int(os.environ.get("MES_MOTO_PORT", "5000"))
API_PORT = int(os.environ.get("MES_API_PORT", "8000"))
PORTAL_PORT = int(os.environ.get("MES_PORTAL_PORT", "3000"))
ENDPOINT = f"http://127.0.0.1:{MOTO_PORT}"
ENV_FILE = keys.ROOT / ".devstack" / "env.json"
LOCAL_ORIGINS = ",".join(portal_server.local_origins(PORTAL_PORT))


def _wait_for(url: str, children: list[subprocess.Popen], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise SystemExit(f"a local service exited before {url} answered")
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - loopback only
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:.0f}s")


def _post_json(url: str, body: dict) -> None:
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)  # noqa: S310 - loopback only
    urllib.request.urlopen(request, timeout=10)  # noqa: S310 - loopback only


def local_environment() -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": ENDPOINT,
        "AWS_ACCESS_KEY_ID": "devstack",
        "AWS_SECRET_ACCESS_KEY": "devstack",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "MOTO_PORT": str(MOTO_PORT),
    }


def _start(children: list[subprocess.Popen]) -> None:
    moto = [sys.executable, "-m", "devstack.moto_server", "-H", "127.0.0.1", "-p", str(MOTO_PORT)]
    children.append(subprocess.Popen(moto, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    _wait_for(f"{ENDPOINT}/moto-api/", children)
    _post_json(f"{ENDPOINT}/moto-api/config", {"stepfunctions": {"execute_state_machine": True}})
    api_env = {**provision(), **keys.api_environment(), "CORS_ALLOWED_ORIGINS": LOCAL_ORIGINS}
    portal = portal_server.start(PORTAL_PORT, API_PORT)
    api_env["TOKEN_ISSUERS"] += "," + portal.config["issuer"]  # the portal's sign-in provider
    # As deployed: the API fetches the issuer's published keys (the same key signs both issuers' tokens).
    api_env["JWKS_URL"] = portal.config["issuer"] + "/jwks"
    del api_env["JWKS_JSON"]
    os.environ.update(api_env)
    ENV_FILE.parent.mkdir(parents=True, exist_ok=True)
    ENV_FILE.write_text(json.dumps(api_env, indent=2))
    # Before the API answers (a busy port stops the stack before anyone uses it); in this process,
    # on the environment just set: a daemon thread, gone with it.
    smtp_server.start(smtp_server.SMTP_PORT)
    chalice = [
        sys.executable,
        "-m",
        "devstack.api_server",
        "--stage",
        "local",
        "--no-autoreload",
        "--host",
        "127.0.0.1",
        "--port",
        str(API_PORT),
    ]
    children.append(subprocess.Popen(chalice, cwd=keys.ROOT))
    _wait_for(f"http://127.0.0.1:{API_PORT}/v1/health", children, timeout=60)
    threading.Thread(target=run_workers, daemon=True).start()


def _stop(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def started(
    log: IO,
    moto_port: int | None = None,
    api_port: int | None = None,
    portal_port: int | None = None,
    smtp_port: int | None = None,
) -> Iterator[tuple[str, str, str]]:
    """A whole stack (``python -m devstack run``) in a subprocess, on free ports unless given:
    yields the API's, moto's and the portal's URLs once the API answers; stops it, and everything
    it started, on exit."""
    ports = {
        name: port or free_port()
        for name, port in (("MOTO", moto_port), ("API", api_port), ("PORTAL", portal_port), ("SMTP", smtp_port))
    }
    env = {**os.environ, **{f"MES_{name}_PORT": str(port) for name, port in ports.items()}}
    stack = subprocess.Popen(
        [sys.executable, "-m", "devstack", "run"],
        cwd=keys.ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{ports['API']}"
    try:
        _wait_for(f"{api}/v1/health", [stack], timeout=120)
        yield api, f"http://127.0.0.1:{ports['MOTO']}", f"http://127.0.0.1:{ports['PORTAL']}"
    finally:
        stack.terminate()  # its handler stops moto and the API server
        try:
            stack.wait(timeout=15)
        finally:
            # whatever of its session is left (it hung, or died before stopping its children)
            with suppress(ProcessLookupError):
                os.killpg(stack.pid, signal.SIGKILL)
            stack.wait()


def main() -> None:
    os.environ.update(local_environment())
    children: list[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        _start(children)
        print(BANNER, flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("a local service stopped; shutting down", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        _stop(children)


BANNER = f"""
Mon espace santé runs at http://127.0.0.1:{API_PORT} (moto at {ENDPOINT}).
  Portal:        http://127.0.0.1:{PORTAL_PORT} (sign in as any INS, e.g. 255082A12345646)
  Token:         .venv/bin/python -m devstack token --role patient
                 .venv/bin/python -m devstack token --role professional --claim rpps=10000000009
  Try:           curl -H "Authorization: Bearer $(.venv/bin/python -m devstack token --role enrolment_agent)" \\
                   -X POST -H 'Content-Type: application/json' -d '{{"name": "Vague 1"}}' \\
                   http://127.0.0.1:{API_PORT}/v1/enrolment/campaigns
  Notifications: .venv/bin/python -m devstack outbox
  MSSanté mail:  SMTP on 127.0.0.1:{smtp_server.SMTP_PORT} (MES_SMTP_PORT), the patients' mail exchanger
Ctrl-C stops everything."""
