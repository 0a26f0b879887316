"""``make fuzz``: starts the local stack and runs schemathesis against the API's own OpenAPI document,
failing on any 5xx or any response that does not match the document.

    python -m devstack.fuzz [--max-examples N] [--seed SEED] [--jobs J]

Each kind of caller fuzzes the operations its role may call (every operation is fuzzed by at least
one of them; the public ones without a token), side by side against the one stack. What a caller
may not call answers 401 or 403 before reading its input (only an oversized body is refused
first): those answers are checked on every protected operation with a few examples, without a
token and with the token of a role that may call nothing (``insurer``), rather than fuzzed by
every role. The seed is new each run and printed: ``--seed`` replays it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from devstack import keys
from devstack.run import API_PORT, _wait_for

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
STACK_LOG = keys.ROOT / "build" / "fuzz-stack.log"
ROLES = ("enrolment_agent", "patient", "professional", "catalogue_admin", "migration_operator", "directory_admin")
DENIED_ROLE = "insurer"  # a role of the platform that may call no operation of this API
DENIED_EXAMPLES = 2


@dataclass(frozen=True)
class Run:
    """One schemathesis run: who calls, which operations, how hard."""

    name: str
    token: str | None
    operation_ids: tuple[str, ...]
    phases: str
    max_examples: int


def operations_by_caller(document: dict) -> dict[str | None, list[str]]:
    """The served document's operation ids by who may call them: a role, or None (public).
    Who may call an operation is its route's access rule, read from the app itself."""
    import app  # noqa: F401 - registers every module's routes
    from chalicelib.core.http.api import OPERATIONS

    access = {(op.path, op.method.lower()): op.access for op in OPERATIONS}
    callers: dict[str | None, list[str]] = {}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            rule = access[(path, method)]
            for caller in [None] if rule.public else sorted(rule.roles or ()):
                callers.setdefault(caller, []).append(operation["operationId"])
    return callers


def runs(document: dict, max_examples: int) -> list[Run]:
    callers = operations_by_caller(document)
    every = {op for ops in callers.values() for op in ops}
    fuzzed = {op for caller in (None, *ROLES) for op in callers.get(caller, [])}
    if every - fuzzed:
        raise SystemExit(f"operations no fuzzed caller may call: {sorted(every - fuzzed)} (add a role to ROLES)")
    protected = tuple(sorted(every - set(callers.get(None, []))))
    full = "examples,coverage,fuzzing"
    return [
        Run("public operations, no token", None, tuple(callers.get(None, [])), full, max_examples),
        *(Run(role, keys.mint(role), tuple(callers[role]), full, max_examples) for role in ROLES if callers.get(role)),
        Run("protected operations, no token (401)", None, protected, "fuzzing", DENIED_EXAMPLES),
        Run(
            f"protected operations as {DENIED_ROLE} (403)",
            keys.mint(DENIED_ROLE),
            protected,
            "fuzzing",
            DENIED_EXAMPLES,
        ),
    ]


def command(run: Run, base: str, seed: int) -> list[str]:
    schemathesis = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    return [
        schemathesis, "run", f"{base}/v1/openapi.json",
        *(["-H", f"Authorization: Bearer {run.token}"] if run.token else []),
        "--include-operation-id-regex", "^(" + "|".join(map(re.escape, run.operation_ids)) + ")$",
        "--checks", CHECKS,
        "--phases", run.phases,
        "--max-examples", str(run.max_examples),
        "--seed", str(seed),
        "--workers", "1",
        "--no-color",
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--seed", type=int, default=secrets.randbelow(2**32), help="replay a run (its seed is printed)")
    parser.add_argument("--jobs", type=int, default=4, help="schemathesis runs side by side")
    args = parser.parse_args()
    print(f"fuzz seed {args.seed} (python -m devstack.fuzz --seed {args.seed} replays it)", flush=True)
    STACK_LOG.parent.mkdir(parents=True, exist_ok=True)
    with STACK_LOG.open("w") as log:
        stack = subprocess.Popen([sys.executable, "-m", "devstack", "run"], stdout=log, stderr=subprocess.STDOUT)
    printing = threading.Lock()

    def fuzz(run: Run) -> bool:
        started = time.monotonic()
        done = subprocess.run(command(run, base, args.seed), check=False, capture_output=True, text=True)
        with printing:  # each run's report whole, in the order the runs end
            print(
                f"--- schemathesis: {run.name}, {len(run.operation_ids)} operations, {time.monotonic() - started:.0f} s"
            )
            print(done.stdout + done.stderr, flush=True)
        return done.returncode == 0

    try:
        base = f"http://127.0.0.1:{API_PORT}"
        _wait_for(f"{base}/v1/health", [stack], timeout=120)
        with urllib.request.urlopen(f"{base}/v1/openapi.json", timeout=10) as served:  # noqa: S310 - loopback only
            planned = runs(json.load(served), args.max_examples)
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            passed = all(
                list(pool.map(fuzz, sorted(planned, key=lambda run: -len(run.operation_ids) * run.max_examples)))
            )
    finally:
        stack.send_signal(signal.SIGTERM)
        stack.wait(timeout=30)
    if not passed:
        print(f"seed {args.seed}; the local stack's log: {STACK_LOG}")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
