"""Builds the deployable package of the whole stack: build/package/{sam.json, deployment.zip}.

    python -m infra.package --stage prod --out build/package

1. renders infra/template.yaml (ASL inlined, see infra/render.py);
2. deep-merges infra/api.yaml over it: the overlay that wires Chalice's generated resources
   (functions' environment and roles, the REST API's gateway responses, throttling, access logs,
   WAF) to the template's resources;
3. fills the per-stage parameter defaults (Stage, WebOrigin, SenderEmail) from .chalice/config.json,
   and merges the patient portal's resources (infra/portal.yaml, see infra/portal.py);
4. runs ``chalice package --merge-template <that> <out>``: Chalice deep-merges it, by logical id,
   over what it generates (dicts key by key, other values from the merge template win), then
   re-applies the merge template's intrinsic functions as whole values (see pin_intrinsics);
5. checks that every generated function got the whole environment and its overlay role, so a
   new Chalice handler cannot ship unwired.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from infra import portal
from infra.render import INFRA_DIR, load_template, render

PROJECT_DIR = INFRA_DIR.parent
OVERLAY = INFRA_DIR / "api.yaml"
CHALICE_CONFIG = PROJECT_DIR / ".chalice" / "config.json"
# Every variable chalicelib/core/settings.py reads that the stack provides.
STACK_ENVIRONMENT = (
    "STAGE",
    "TABLE_NAME",
    "DOCUMENTS_BUCKET",
    "MESSAGES_BUCKET",
    "PURGE_TOPIC_ARN",
    "DATA_KEY_ID",
    "PEPPERS_SECRET_ID",
    "LETTERS_QUEUE_URL",
    "TIMERS_QUEUE_URL",
    "ENROLMENT_STATE_MACHINE_ARN",
    "SENDER_EMAIL",
    "IMPORT_BUCKET",
    "IMPORT_QUEUE_URL",
    "LEGACY_IMPORT_STATE_MACHINE_ARN",
)
_CHALICE = "import sys; from chalice.cli import main; sys.argv[0] = 'chalice'; sys.exit(main())"


def deep_merge(base: Any, overlay: Any) -> Any:
    """Chalice's --merge-template semantics: dicts merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = deep_merge(base.get(key), value)
        return merged
    return overlay


def is_intrinsic(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return key == "Ref" or key.startswith("Fn::")


def pin_intrinsics(target: dict, overlay: dict) -> None:
    """Where the overlay puts an intrinsic (!Ref, !GetAtt...), the result holds exactly that.

    Chalice's merge recurses into any two dicts, so an intrinsic over an intrinsic (e.g. the SQS
    event source's Queue: Chalice's ``Fn::Sub`` of the queue name, ours ``!GetAtt``) would come
    out as one dict holding both functions. Re-applying the overlay's intrinsics fixes that.
    """
    for key, value in overlay.items():
        if is_intrinsic(value):
            target[key] = value
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            pin_intrinsics(target[key], value)


def stage_config(stage: str) -> dict:
    config = json.loads(CHALICE_CONFIG.read_text(encoding="utf-8"))
    if stage not in config.get("stages", {}):
        raise SystemExit(f"unknown stage {stage!r}: not in {CHALICE_CONFIG}")
    stage_settings = config["stages"][stage]
    environment = {**config.get("environment_variables", {}), **stage_settings.get("environment_variables", {})}
    return {"environment": environment, "api_gateway_stage": stage_settings.get("api_gateway_stage", "api")}


def merge_template(stage: str) -> dict:
    """The template Chalice merges over its own: rendered template.yaml + api.yaml + stage defaults."""
    template = deep_merge(render(), load_template(OVERLAY))
    environment = stage_config(stage)["environment"]
    parameters = template["Parameters"]
    # The package is built for one stage (Chalice bakes the stage's config into it): pin it.
    parameters["Stage"].update(Default=stage, AllowedValues=[stage])
    origins = [o.strip() for o in environment.get("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()]
    if origins:
        parameters["WebOrigin"]["Default"] = origins[0]
    if environment.get("SENDER_EMAIL"):
        parameters["SenderEmail"]["Default"] = environment["SENDER_EMAIL"]
    return deep_merge(template, portal.template(stage, environment))


def check_wiring(sam: dict, overlay: dict) -> list[str]:
    """Problems that would ship a function unable to reach the stack."""
    problems = []
    resources = sam["Resources"]
    for name, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        unwired = [v for v in STACK_ENVIRONMENT if not isinstance(variables.get(v), dict)]
        if unwired:
            problems.append(f"{name}: environment not taken from the stack: {', '.join(unwired)}")
        role = resource["Properties"].get("Role", {}).get("Fn::GetAtt", [None])[0]
        if role not in overlay["Resources"]:
            problems.append(f"{name}: role {role} is Chalice's, not one of infra/api.yaml")
    for name, resource in overlay["Resources"].items():
        if "Type" not in resources.get(name, {}):
            problems.append(f"{name}: infra/api.yaml extends a resource Chalice no longer generates")
    return problems


def package(stage: str, out: Path) -> Path:
    template = merge_template(stage)
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "STAGE": stage}  # chalicelib.events names the SQS queue from STAGE at import
    if not env.get("AWS_REGION") and not env.get("AWS_DEFAULT_REGION"):
        env["AWS_DEFAULT_REGION"] = "eu-west-3"
    with tempfile.TemporaryDirectory() as tmp:
        merge_path = Path(tmp) / "merge-template.json"
        merge_path.write_text(json.dumps(template, indent=2), encoding="utf-8")
        subprocess.run(
            [sys.executable, "-c", _CHALICE, "--project-dir", str(PROJECT_DIR), "package",
             "--stage", stage, "--merge-template", str(merge_path), str(out.resolve())],
            check=True,
            env=env,
            cwd=PROJECT_DIR,
        )
    sam_path = out / "sam.json"
    sam = json.loads(sam_path.read_text(encoding="utf-8"))
    pin_intrinsics(sam, template)
    sam_path.write_text(json.dumps(sam, indent=2) + "\n", encoding="utf-8")
    problems = check_wiring(sam, load_template(OVERLAY))
    if problems:
        raise SystemExit("infra/api.yaml does not wire Chalice's output:\n  " + "\n  ".join(problems))
    portal.build_site(stage, out / "portal")
    return sam_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--out", type=Path, default=Path("build/package"))
    args = parser.parse_args()
    print(package(args.stage, args.out))


if __name__ == "__main__":
    main()
