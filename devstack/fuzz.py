"""``make fuzz``: starts the local stack, runs schemathesis against the API's own OpenAPI document
once per kind of caller, and fails on any 5xx or any response that does not match the document.

    python -m devstack.fuzz [--max-examples N]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

from devstack import keys
from devstack.run import API_PORT, _wait_for

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
STACK_LOG = keys.ROOT / "build" / "fuzz-stack.log"
ROLES = ("enrolment_agent", "patient", "professional", "catalogue_admin", "migration_operator", "insurer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=25)
    args = parser.parse_args()
    STACK_LOG.parent.mkdir(parents=True, exist_ok=True)
    with STACK_LOG.open("w") as log:
        stack = subprocess.Popen([sys.executable, "-m", "devstack", "run"], stdout=log, stderr=subprocess.STDOUT)
    failed = False
    try:
        base = f"http://127.0.0.1:{API_PORT}"
        _wait_for(f"{base}/v1/health", [stack], timeout=120)
        schemathesis = os.path.join(os.path.dirname(sys.executable), "schemathesis")
        for role in ROLES:
            print(f"--- schemathesis as {role}", flush=True)
            command = [
                schemathesis, "run", f"{base}/v1/openapi.json",
                "-H", f"Authorization: Bearer {keys.mint(role)}",
                "--checks", CHECKS,
                "--phases", "examples,coverage,fuzzing",
                "--max-examples", str(args.max_examples),
                "--workers", "1",
                "--no-color",
            ]  # fmt: skip
            failed |= subprocess.run(command, check=False).returncode != 0
    finally:
        stack.send_signal(signal.SIGTERM)
        stack.wait(timeout=30)
    if failed:
        print(f"the local stack's log: {STACK_LOG}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
