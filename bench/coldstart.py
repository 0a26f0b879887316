"""Cold start per module function, beside a bare Chalice + boto3 app, measured in the same run.

For each module: the time to import its Lambda entry (``chalicelib.<module>.function``) in a fresh
interpreter, as Lambda's init does, and import + a first request (one that loads the module's
models: a validated request refused by validation, so no AWS call is made, as the bare app's makes
none). The request is invoked as Lambda invokes the handler: ``app(event, context)`` with API
Gateway's proxy event (built beforehand, outside the timing), not through chalice.test's client,
which loads botocore on the way. Bytecode is there for every module on both sides, as in the
package (infra/package.py compiles it in: Lambda's /var/task is read-only, it could not write
it): each script runs once first to write it under a private PYTHONPYCACHEPREFIX. Best of N fresh
interpreters each, interleaved so a burst of load hits both alike; the ratios hold on any
machine. Goals (issue 11): every module ≤ 0.5× the bare app on import,
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
FIRST_REQUEST = """import json, time
event = json.loads({event!r})
t = time.perf_counter()
import {entry} as entry
response = entry.app(event, None)
assert response["statusCode"] == {status}, response
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
    "migration": ("post", "/v1/migrations", {"prefix": 1}, "migration_operator", 400),
}
IMPORT_GOAL, FIRST_GOAL = 0.5, 1.2


def lambda_event(routes, method: str, path: str, headers: dict, body: str | None) -> str:
    """API Gateway's proxy event for this request, as Lambda hands it to the handler."""
    from chalice.local import LambdaEventConverter, RouteMatcher

    converter = LambdaEventConverter(RouteMatcher(list(routes)))
    event = converter.create_lambda_event(
        method.upper(),
        path,
        headers,
        body,  # type: ignore[arg-type]  # chalice hints bytes; local passes text
    )
    event["requestContext"]["stage"] = "v1"
    return json.dumps(event)


def routes_of(entry: str) -> list[str]:
    """The entry's route paths, read in a process of its own (a blueprint registers into one app)."""
    script = f"import json, {entry} as entry; print(json.dumps(list(entry.app.routes)))"
    return json.loads(
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    )


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
        "migration_operator": {},
    }
    return keys.api_environment(key), {role: keys.mint(role, extra, path=key) for role, extra in claims.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench coldstart")
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per measurement (best is kept)")
    args = parser.parse_args(argv)
    auth_env, tokens = _tokens()
    with tempfile.TemporaryDirectory() as tmp:
        from infra.functions import RUNTIME_ENVIRONMENT  # the functions' own settings, on both sides

        env = {
            **os.environ,
            **auth_env,
            **RUNTIME_ENVIRONMENT,
            "AWS_DEFAULT_REGION": "eu-west-3",
            "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache"),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        bare_dir = Path(tmp) / "bare"
        bare_dir.mkdir()
        (bare_dir / "app.py").write_text(BARE_APP)
        bare_first = FIRST_REQUEST.format(entry="app", event=lambda_event(["/"], "get", "/", {}, None), status=200)
        rows = []
        for module, (method, path, body, role, status) in FIRST.items():
            entry = f"chalicelib.{module}.function"
            headers = {"Content-Type": "application/json"} if body is not None else {}
            if role:
                headers["Authorization"] = f"Bearer {tokens[role]}"
            event = lambda_event(
                routes_of(entry), method, path, headers, json.dumps(body) if body is not None else None
            )
            first = FIRST_REQUEST.format(entry=entry, event=event, status=status)
            for directory, script in ((bare_dir, bare_first), (ROOT, first)):
                timed(directory, script, env)  # writes the bytecode the package ships
            samples = [
                (
                    timed(bare_dir, IMPORT.format(entry="app"), env),
                    timed(ROOT, IMPORT.format(entry=entry), env),
                    timed(bare_dir, bare_first, env),
                    timed(ROOT, first, env),
                )
                for _ in range(args.runs)
            ]
            bare_import, ours_import, bare_request, ours_request = (
                min(column) for column in zip(*samples, strict=True)
            )
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
    print(
        f"  worst import ratio {worst_import:.2f}× (goal ≤ {IMPORT_GOAL}×: "
        f"{'met' if worst_import <= IMPORT_GOAL else 'NOT met'})"
    )
    print(
        f"  worst import + first request ratio {worst_first:.2f}× (goal ≤ {FIRST_GOAL}×: "
        f"{'met' if worst_first <= FIRST_GOAL else 'NOT met'})"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
