"""The deployable package: each function's size and how much its role may do, beside one role
for all (what the functions would hold if they shared one, as they did before the split), and
checkov's verdict on the template.

Reads build/package/sam.json (runs `python -m infra.package` if absent) and checkov's report of
`make security` (build/package/checkov.json) if it is newer, else runs checkov when its venv is
there. A role's size is its grants: actions x resources, each statement counted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "package"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def grants(role: dict) -> set[tuple[str, str, str]]:
    (policy,) = role["Properties"]["Policies"]
    return {
        (action, json.dumps(resource, sort_keys=True), json.dumps(statement.get("Condition"), sort_keys=True))
        for statement in policy["PolicyDocument"]["Statement"]
        for action in statement["Action"]
        for resource in statement["Resource"]
    }


def checkov_summary(sam_path: Path) -> str:
    report = OUT / "checkov.json"
    if not (report.exists() and report.stat().st_mtime >= sam_path.stat().st_mtime):
        if not CHECKOV.exists():
            return "checkov: not run (make security installs and runs it)"
        run = subprocess.run(
            [
                str(CHECKOV),
                "--file",
                str(sam_path),
                "--framework",
                "cloudformation",
                "--skip-download",
                "--quiet",
                "--output",
                "json",
            ],
            check=False,
            capture_output=True,
            text=True,
        )
        report.write_text(run.stdout, encoding="utf-8")
    summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
    return (
        f"checkov {summary['checkov_version']}: {summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['skipped']} skipped"
    )


def reserved_concurrency(properties: dict, parameters: dict) -> tuple[int, str]:
    """A function's reserved concurrency as the package's parameter defaults give it: (value, shown).
    Absent, or its parameter at 0: nothing reserved (infra/package.py reserved_concurrency)."""
    reserved = properties.get("ReservedConcurrentExecutions")
    if reserved is None:
        return 0, "none"
    parameter = reserved["Fn::If"][1]["Ref"]
    value = parameters[parameter]["Default"]
    return value, f"{parameter}={value}" if value else f"{parameter}=0 (none)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench package")
    parser.add_argument("--stage", default="prod")
    args = parser.parse_args(argv)
    sam_path = OUT / "sam.json"
    if not sam_path.exists():
        subprocess.run(
            [sys.executable, "-m", "infra.package", "--stage", args.stage, "--out", str(OUT)], cwd=ROOT, check=True
        )
    sam = json.loads(sam_path.read_text(encoding="utf-8"))
    resources, parameters = sam["Resources"], sam["Parameters"]
    functions = {n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    roles = {n: grants(resources[p["Role"]["Fn::GetAtt"][0]]) for n, p in functions.items()}
    shared = set().union(*roles.values())
    print(f"{len(functions)} functions; one role for all would hold {len(shared)} grants (actions x resources)")
    print(f"{'function':<17} {'handler':<48} {'MB':>5} {'s':>4} {'reserved':>25} {'grants':>7} {'of shared':>10}")
    reserved_total = 0
    for name, p in functions.items():
        value, shown = reserved_concurrency(p, parameters)
        reserved_total += value
        share = len(roles[name]) / len(shared)
        print(
            f"{name:<17} {p['Handler']:<48} {p['MemorySize']:>5} {p['Timeout']:>4} {shown:>25} {len(roles[name]):>7} "
            f"{share:>10.0%}"
        )
    print(
        f"reserved concurrency of the {args.stage} package: {reserved_total}; "
        f"the account's Lambda quota must be at least {reserved_total + 100} (100 stay unreserved)"
    )
    print(checkov_summary(sam_path))


if __name__ == "__main__":
    main(sys.argv[1:])
