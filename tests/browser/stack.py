"""The local stack as the browser tests and bench/portal.py use it: started with `python -m
devstack run` on its own ports, Chromium launched as this machine allows, and the API called
directly for what other people do (an insurer inviting, a professional writing).
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devstack import keys, outbox

ROOT = keys.ROOT
MOTO_PORT, API_PORT, PORTAL_PORT = 5100, 8100, 3100
API = f"http://127.0.0.1:{API_PORT}"
PORTAL = f"http://127.0.0.1:{PORTAL_PORT}"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "build" / "portal-screens"


@contextmanager
def running_stack(log: Path) -> Iterator[None]:
    """`python -m devstack run` on the test ports, stopped (with all it started) on exit."""
    missing = [str(p) for p in (Path(CHROMIUM), AXE) if not p.exists()]
    if missing:
        raise RuntimeError(f"missing {', '.join(missing)}: `make browser-tools` installs them")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MES_"))},
        "MES_MOTO_PORT": str(MOTO_PORT),
        "MES_API_PORT": str(API_PORT),
        "MES_PORTAL_PORT": str(PORTAL_PORT),
    }
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        stack = subprocess.Popen(
            [sys.executable, "-m", "devstack", "run"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait(f"{API}/v1/health", stack)
        _wait(f"{PORTAL}/config.json", stack)
        yield
    finally:
        stack.send_signal(signal.SIGTERM)
        stack.wait(timeout=30)


def _wait(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the stack stopped before {url} answered")
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - loopback
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


def call(method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(API + path, data=data, headers=headers, method=method)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    return status, (json.loads(raw) if raw and raw[:1] in b"{[" else raw)


def ok(method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    status, answer = call(method, path, body, token)
    assert status < 300, (method, path, status, answer)
    return answer


def invite(person: dict, representatives: list[dict] | None = None) -> str:
    """An insurer agent invites the person; returns the provisional code of the notice sent."""
    agent = keys.mint("enrolment_agent")
    campaign = ok("POST", "/v1/enrolment/campaigns", {"name": "Vague portail"}, agent)
    invitee = {**person, **({"representatives": representatives} if representatives else {})}
    answer = ok(
        "POST", f"/v1/enrolment/campaigns/{campaign['campaign_id']}/invitations", {"invitees": [invitee]}, agent
    )
    assert answer["accepted"] == 1, answer
    to = (representatives or [person])[0]["email"]
    return code_sent_to(to, "Code provisoire", only=True)


def code_sent_to(to: str, line: str, only: bool = False) -> str:
    """The code on the ``line`` (``<line> : <code>``) of the last notice sent to ``to`` (``only``:
    the one notice sent there)."""
    notices = list(outbox.sent(outbox.server_records(f"http://127.0.0.1:{MOTO_PORT}"), to=to))
    assert notices and (len(notices) == 1 or not only), notices
    found = next(text for text in notices[-1]["body"].splitlines() if text.startswith(line))
    return found.split(":", 1)[1].strip()


def professional(rpps: str, name: str = "Dr Claire Martin") -> str:
    return keys.mint("professional", {"rpps": rpps, "profession": "medecin", "name": name})


def png(width: int = 24, height: int = 16) -> bytes:
    """A real PNG image (a colour gradient), made here."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (x * 10 % 256, y * 15 % 256, 160)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def launch(playwright: Any) -> Any:
    # LANGUAGE: the browser's own words (file pickers, date fields) in French, from chromium-l10n.
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, env={**os.environ, "LANGUAGE": "fr"}
    )


def sign_in(page: Any, ins: str) -> None:
    """On the provider's page the portal sent the browser to: say who one is."""
    page.wait_for_url(f"{PORTAL}/oidc/authorize?*")
    page.get_by_label("INS (matricule à 15 caractères)").fill(ins)
    page.get_by_role("button", name="Se connecter", exact=True).click()
