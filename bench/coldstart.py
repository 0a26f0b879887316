"""Cold start per module function, beside a bare Chalice + boto3 app, measured in the same run.

For each module: the time to import its Lambda entry (``chalicelib.<module>.function``) in a fresh
interpreter, as Lambda's init does, and import + a first request (one that loads the module's
models: a validated request refused by validation, so no AWS call is made, as the bare app's makes
none). Best of N fresh interpreters each, interleaved so a burst of load hits both alike; the
ratios hold on any machine. Goals (issue 11): every module ≤ 0.5× the bare app on import,
≤ 1.2× on import + first request. Then what the heaviest entry imports (``-X importtime``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE_APP = """from chalice import Chalice
import boto3

app = Chalice(app_name="bare")


@app.route("/")
def index():
    return {"hello": "world"}
"""
IMPORT = "import time; t = time.perf_counter(); import {entry} as entry; print(time.perf_counter() - t)"
FIRST_REQUEST = """import time, json
t = time.perf_counter()
import {entry} as entry
from chalice.test import Client
with Client(entry.app, stage_name="local") as client:
    response = getattr(client.http, {method!r})({path!r}, headers={headers!r}, body={body!r})
assert response.status_code == {status}, (response.status_code, response.body)
print(time.perf_counter() - t)
"""
# One request per module that its models validate (and refuse): no AWS call, like the bare app's.
PATIENT = "pat_bench"
FIRST = {
    "platform": ("get", "/v1/health", None, None, 200),
    "enrolment": ("post", "/v1/enrolment/activate", {"code": 1}, None, 400),
    "access": ("put", f"/v1/patients/{PATIENT}/access/emergency", {"allowed": "maybe"}, "patient", 400),
    "activity": ("get", f"/v1/patients/{PATIENT}/activity?limit=0", None, "patient", 400),
    "documents": ("post", f"/v1/patients/{PATIENT}/documents", {"type": "unknown"}, "patient", 400),
    "profile": ("post", f"/v1/patients/{PATIENT}/profile/allergies", {"severity": "extreme"}, "patient", 400),
    "catalogue": ("get", "/v1/catalogue/apps?category=%20", None, None, 400),
    "export": ("get", f"/v1/patients/{PATIENT}/export", None, "insurer", 403),
    "messaging": ("post", "/v1/conversations", {"subject": 1}, "professional", 400),
    "agenda": ("post", f"/v1/patients/{PATIENT}/agenda", {"kind": "party"}, "patient", 400),
}
IMPORT_GOAL, FIRST_GOAL = 0.5, 1.2


def timed(directory: Path, script: str, env: dict) -> float:
    run = subprocess.run([sys.executable, "-c", script], cwd=directory, capture_output=True, text=True, env=env)
    if run.returncode:
        raise SystemExit(f"bench script failed:\n{script}\n{run.stderr[-2000:]}")
    return float(run.stdout.splitlines()[-1])


def _tokens() -> tuple[dict[str, str], dict[str, str]]:
    from devstack import keys

    key = Path(tempfile.mkdtemp()) / "bench-key.pem"
    claims = {
        "patient": {"ins": "255082A12345646"},
        "professional": {"rpps": "10000000009", "profession": "medecin", "name": "Dr Bench"},
        "insurer": {},
    }
    return keys.api_environment(key), {role: keys.mint(role, extra, path=key) for role, extra in claims.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench coldstart")
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per measurement (best is kept)")
    args = parser.parse_args(argv)
    auth_env, tokens = _tokens()
    env = {**os.environ, **auth_env, "AWS_DEFAULT_REGION": "eu-west-3"}
    with tempfile.TemporaryDirectory() as tmp:
        bare_dir = Path(tmp)
        (bare_dir / "app.py").write_text(BARE_APP)
        bare_first = FIRST_REQUEST.format(entry="app", method="get", path="/", headers={}, body=None, status=200)
        rows = []
        for module, (method, path, body, role, status) in FIRST.items():
            entry = f"chalicelib.{module}.function"
            headers = {"Content-Type": "application/json"} if body is not None else {}
            if role:
                headers["Authorization"] = f"Bearer {tokens[role]}"
            first = FIRST_REQUEST.format(entry=entry, method=method, path=path, headers=headers, body=json.dumps(body) if body is not None else None, status=status)
            samples = [
                (
                    timed(bare_dir, IMPORT.format(entry="app"), env),
                    timed(ROOT, IMPORT.format(entry=entry), env),
                    timed(bare_dir, bare_first, env),
                    timed(ROOT, first, env),
                )
                for _ in range(args.runs)
            ]
            bare_import, ours_import, bare_request, ours_request = (min(column) for column in zip(*samples))
            rows.append((module, ours_import, bare_import, ours_request, bare_request))
    print(f"cold start per module function, best of {args.runs} fresh interpreters, beside a bare Chalice + boto3 app")
    print(f"  {'module':10} {'import':>8} {'bare':>8} {'ratio':>6}   {'+1st req':>8} {'bare':>8} {'ratio':>6}")
    worst_import = worst_first = 0.0
    for module, ours_import, bare_import, ours_request, bare_request in rows:
        r_import, r_first = ours_import / bare_import, ours_request / bare_request
        worst_import, worst_first = max(worst_import, r_import), max(worst_first, r_first)
        print(
            f"  {module:10} {ours_import * 1000:6.1f}ms {bare_import * 1000:6.1f}ms {r_import:5.2f}×"
            f"   {ours_request * 1000:6.1f}ms {bare_request * 1000:6.1f}ms {r_first:5.2f}×"
        )
    print(f"  worst import ratio {worst_import:.2f}× (goal ≤ {IMPORT_GOAL}×: {'met' if worst_import <= IMPORT_GOAL else 'NOT met'})")
    print(f"  worst import + first request ratio {worst_first:.2f}× (goal ≤ {FIRST_GOAL}×: {'met' if worst_first <= FIRST_GOAL else 'NOT met'})")


if __name__ == "__main__":
    main(sys.argv[1:])
