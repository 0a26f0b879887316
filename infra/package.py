"""Builds the deployable package of the whole stack: build/package/{sam.json, deployment.zip}.

    python -m infra.package --stage prod --out build/package

1. renders infra/template.yaml (ASL inlined, see infra/render.py) and deep-merges each of
   OVERLAYS over it (infra/api.yaml: the REST API's gateway responses, throttling, access logs,
   tracing, WAF; infra/mail.yaml: SES receiving for MSSanté); fills the per-stage parameter
   defaults (Stage, WebOrigin, SenderEmail) from .chalice/config.json, and merges the patient
   portal's resources (infra/portal.yaml, see infra/portal.py);
2. finds which module serves which route: each ``chalicelib.<module>.function.app``'s routes;
3. writes the whole API's OpenAPI document into the platform function's package
   (chalicelib/platform/openapi.json, removed afterwards);
4. runs ``chalice package --merge-template <that> <out>`` on app.py (every route and event
   handler): Chalice deep-merges the template, by logical id, over what it generates, then the
   template's intrinsic functions are re-applied as whole values (see pin_intrinsics);
5. splits Chalice's one API handler into one function per module, each route's integration and
   invoke permission pointing at its module's function (split_api);
6. makes every function what infra/functions.py says: size, concurrency (the stack parameters'
   defaults: the stage's infra/stages/<stage>.json, else none reserved), environment, its own role
   and encrypted log group, tracing (wire_functions);
7. checks the result (check_wiring): a route served by no module or by two, a Chalice handler
   infra/functions.py does not know, a variable naming a resource the role cannot reach, an SQS
   visibility timeout shorter than 6 times its function's timeout, a stream source on a table
   without its stream: no package;
8. compiles the bytecode of every module into the Lambda package (with_bytecode);
9. builds the portal's static site for the stage (build/package/portal).
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from infra import functions, portal
from infra.functions import FUNCTIONS, STACK_ENVIRONMENT, arn, ref
from infra.render import INFRA_DIR, load_template, render

PROJECT_DIR = INFRA_DIR.parent
# Merged in this order over the rendered template.yaml; never provisioned on their own.
API_OVERLAY = INFRA_DIR / "api.yaml"  # also read by devstack/api_server.py: its gateway responses
MAIL_OVERLAY = INFRA_DIR / "mail.yaml"  # SES receiving for MSSanté: it names a function Chalice generates
OVERLAYS = (API_OVERLAY, MAIL_OVERLAY)
CHALICE_CONFIG = PROJECT_DIR / ".chalice" / "config.json"
CHALICE_API_HANDLER = "APIHandler"  # Chalice's logical id of its one function for every route
_CHALICE = "import sys; from chalice.cli import main; sys.argv[0] = 'chalice'; sys.exit(main())"

Routes = dict[tuple[str, str], str]  # (path, METHOD) -> the module serving it


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
    key: str = next(iter(value))
    return key == "Ref" or key.startswith("Fn::")


def pin_intrinsics(target: dict[str, Any], overlay: dict[str, Any]) -> None:
    """Where the overlay puts an intrinsic (!Ref, !GetAtt...), the result holds exactly that.

    Chalice's merge recurses into any two dicts, so an intrinsic over an intrinsic would come out
    as one dict holding both functions. Re-applying the overlay's intrinsics fixes that.
    """
    for key, value in overlay.items():
        if is_intrinsic(value):
            target[key] = value
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            pin_intrinsics(target[key], value)


def stage_config(stage: str) -> dict[str, Any]:
    config = json.loads(CHALICE_CONFIG.read_text(encoding="utf-8"))
    if stage not in config.get("stages", {}):
        raise SystemExit(f"unknown stage {stage!r}: not in {CHALICE_CONFIG}")
    stage_settings = config["stages"][stage]
    environment = {**config.get("environment_variables", {}), **stage_settings.get("environment_variables", {})}
    return {"environment": environment, "api_gateway_stage": stage_settings.get("api_gateway_stage", "api")}


def merge_template(stage: str) -> dict[str, Any]:
    """The template Chalice merges over its own: rendered template.yaml + OVERLAYS + stage defaults
    + the portal's resources."""
    template = render()
    for overlay in OVERLAYS:
        template = deep_merge(template, load_template(overlay))
    environment = stage_config(stage)["environment"]
    parameters = template["Parameters"]
    # The package is built for one stage (Chalice bakes the stage's config into it): pin it.
    parameters["Stage"].update(Default=stage, AllowedValues=[stage])
    origins = [o.strip() for o in environment.get("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()]
    if origins:
        parameters["WebOrigin"]["Default"] = origins[0]
    if environment.get("SENDER_EMAIL"):
        parameters["SenderEmail"]["Default"] = environment["SENDER_EMAIL"]
    merged: dict[str, Any] = deep_merge(template, portal.template(stage, environment))
    return merged


# ---- Routes: which module serves what ----------------------------------------------------------


def api_functions() -> dict[str, str]:
    """module -> logical id of the function serving its routes."""
    return {f.module: logical_id for logical_id, f in FUNCTIONS.items() if logical_id == f"{f.module.title()}Api"}


def route_modules() -> Routes:
    """Each route as the module functions declare it (``chalicelib.<module>.function.app``).

    Imported in this process, never with app.py: a Chalice blueprint registers into one app only."""
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    served: dict[tuple[str, str], list[str]] = defaultdict(list)
    for module in api_functions():
        app = importlib.import_module(f"chalicelib.{module}.function").app
        for path, methods in app.routes.items():
            for method in methods:
                served[(path, method)].append(module)
    twice = [f"{m} {p}: {', '.join(modules)}" for (p, m), modules in served.items() if len(modules) > 1]
    if twice:
        raise SystemExit("routes served by more than one module:\n  " + "\n  ".join(twice))
    return {route: modules[0] for route, modules in served.items()}


@contextmanager
def packaged_openapi() -> Iterator[None]:
    """The platform function serves only its own routes: the whole document goes in its package.
    Every module's routes are declared once route_modules() imported them."""
    from chalicelib.core.http import openapi
    from chalicelib.platform.service import PACKAGED_DOCUMENT

    PACKAGED_DOCUMENT.write_text(json.dumps(openapi.document()), encoding="utf-8")
    try:
        yield
    finally:
        PACKAGED_DOCUMENT.unlink(missing_ok=True)


# ---- Steps on Chalice's output -----------------------------------------------------------------


def integrations(sam: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, METHOD, integration) of every operation of the API's definition."""
    for path, methods in sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"].items():
        for method, operation in methods.items():
            yield path, method.upper(), operation["x-amazon-apigateway-integration"]


def split_api(sam: dict[str, Any], routes: Routes) -> None:
    """One function per module behind the same REST API, instead of Chalice's one for all."""
    resources, by_module = sam["Resources"], api_functions()
    handler = resources.pop(CHALICE_API_HANDLER)
    permission = resources.pop(f"{CHALICE_API_HANDLER}InvokePermission")
    del resources["ApiHandlerRole"]  # each function gets its own (wire_functions)
    for output in ("APIHandlerName", "APIHandlerArn"):
        sam["Outputs"].pop(output, None)
    for module, logical_id in by_module.items():
        function = copy.deepcopy(handler)
        function["Properties"]["Handler"] = f"chalicelib.{module}.function.app"
        resources[logical_id] = function
        invoke = copy.deepcopy(permission)
        invoke["Properties"]["FunctionName"] = ref(logical_id)
        resources[f"{logical_id}InvokePermission"] = invoke
    for path, method, integration in integrations(sam):
        served_by = routes.get((path, method))
        if served_by is None:
            raise SystemExit(f"{method} {path}: app.py serves it, no chalicelib/<module>/function.py does")
        uri = integration["uri"]["Fn::Sub"]
        integration["uri"]["Fn::Sub"] = uri.replace(
            f"${{{CHALICE_API_HANDLER}.Arn}}", f"${{{by_module[served_by]}.Arn}}"
        )


def queue_names(sam: dict[str, Any], stage: str) -> dict[str, str]:
    """Physical queue name -> logical id, for the queues of the template."""
    return {
        r["Properties"]["QueueName"]["Fn::Sub"].replace("${Stage}", stage): name
        for name, r in sam["Resources"].items()
        if r["Type"] == "AWS::SQS::Queue"
    }


STAGES_DIR = INFRA_DIR / "stages"  # <stage>.json: the stage's values of the stack parameters below


def stage_parameters(stage: str) -> dict[str, int]:
    """The stage's values of FUNCTIONS' parameters (infra/stages/<stage>.json); a stage without a
    file keeps the defaults, which fit a new AWS account."""
    path = STAGES_DIR / f"{stage}.json"
    values = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    unknown = set(values) - {p.name for p in function_parameters()}
    if unknown:
        raise SystemExit(f"{path}: no such parameter {sorted(unknown)}")
    return values


def function_parameters() -> list[functions.Parameter]:
    found = [f.reserved for f in FUNCTIONS.values()] + [f.most for f in FUNCTIONS.values()]
    return [p for p in found if isinstance(p, functions.Parameter)]


def reserved_condition(parameter: functions.Parameter) -> str:
    return f"{parameter.name}Reserved"


def add_parameters(sam: dict[str, Any], stage: str) -> None:
    values = stage_parameters(stage)
    for function in FUNCTIONS.values():
        for parameter, least in ((function.reserved, 0), (function.most, 2)):  # an SQS source runs 2 at once
            if isinstance(parameter, functions.Parameter):
                sam["Parameters"][parameter.name] = {
                    "Type": "Number",
                    "Default": values.get(parameter.name, parameter.default),
                    "MinValue": least,
                    "MaxValue": 1000,
                    "Description": parameter.description,
                }
        if function.reserved:  # reserving 0 would stop the function: 0 reserves nothing instead
            sam.setdefault("Conditions", {})[reserved_condition(function.reserved)] = {
                "Fn::Not": [{"Fn::Equals": [ref(function.reserved.name), 0]}]
            }


def reserved_concurrency(parameter: functions.Parameter) -> Any:
    return {"Fn::If": [reserved_condition(parameter), ref(parameter.name), ref("AWS::NoValue")]}


def most_at_once(function: functions.Function) -> Any:
    return ref(function.most.name) if isinstance(function.most, functions.Parameter) else function.most


def log_group(logical_id: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "LogGroupName": {"Fn::Sub": f"/aws/lambda/mes-${{Stage}}-{FUNCTIONS[logical_id].name}"},
            "RetentionInDays": 365,
            "KmsKeyId": arn("DataKey"),
        },
    }


def role(logical_id: str) -> dict[str, Any]:
    named = (
        {"RoleName": {"Fn::Sub": f"mes-${{Stage}}-{FUNCTIONS[logical_id].name}"}}
        if FUNCTIONS[logical_id].named_role
        else {}
    )
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            **named,
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            },
            "Policies": [
                {
                    "PolicyName": FUNCTIONS[logical_id].module,
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": functions.role_statements(logical_id)},
                }
            ],
        },
    }


def wire_functions(sam: dict[str, Any], stage: str) -> None:
    """Each function as infra/functions.py says, with its own role and log group."""
    resources, queues = sam["Resources"], queue_names(sam, stage)
    add_parameters(sam, stage)
    for logical_id, resource in list(resources.items()):
        if resource["Type"] != "AWS::Serverless::Function" or logical_id not in FUNCTIONS:
            continue  # check_wiring refuses functions infra/functions.py does not know
        function, properties = FUNCTIONS[logical_id], resource["Properties"]
        variables = properties.setdefault("Environment", {}).setdefault("Variables", {})
        for name in STACK_ENVIRONMENT:  # Chalice's stage config may name them too: only the module's
            variables.pop(name, None)
        variables.update(functions.environment(logical_id))
        properties.update(
            FunctionName={"Fn::Sub": f"mes-${{Stage}}-{function.name}"},
            MemorySize=function.memory,
            Timeout=function.timeout,
            Tracing="Active",
            KmsKeyArn=arn("DataKey"),
            Role=arn(f"{logical_id}Role"),
            LoggingConfig={"LogGroup": ref(f"{logical_id}Logs")},
        )
        if function.reserved:
            properties["ReservedConcurrentExecutions"] = reserved_concurrency(function.reserved)
        for event in properties.get("Events", {}).values():
            if event["Type"] == "SQS":
                queue_name = event["Properties"]["Queue"]["Fn::Sub"].rsplit(":", 1)[1]
                if function.trigger is None or queues.get(queue_name) != function.trigger:
                    raise SystemExit(f"{logical_id}: consumes {queue_name}, infra/functions.py says {function.trigger}")
                # The reference also orders the creation; never more runs than the function may.
                event["Properties"]["Queue"] = arn(function.trigger)
                event["Properties"]["ScalingConfig"] = {"MaximumConcurrency": most_at_once(function)}
            elif event["Type"] == "DynamoDB":
                if function.stream is None:
                    raise SystemExit(f"{logical_id}: reads a table's stream, infra/functions.py names none")
                # Chalice's ARN is a placeholder (the stream's is known once the table is made).
                event["Properties"]["Stream"] = functions.arn_of_stream(function.stream.table)
                event["Properties"]["FilterCriteria"] = {
                    "Filters": [
                        {"Pattern": json.dumps(pattern, separators=(",", ":"))} for pattern in function.stream.patterns
                    ]
                }
                # A failing batch would hold its shard back until its records expire (24 h): halved to
                # find the record that fails, given up after a few tries: verify then starts at the
                # space's previous signed head, and its next head change is signed from there.
                event["Properties"].update(
                    BisectBatchOnFunctionError=True, MaximumRetryAttempts=function.stream.retries
                )
        resource["Metadata"] = {
            "checkov": {"skip": [{"id": c, "comment": why} for c, why in functions.FUNCTION_CHECKOV_SKIPS.items()]}
        }
        resources[f"{logical_id}Role"] = role(logical_id)
        resources[f"{logical_id}Logs"] = log_group(logical_id)


# ---- Checks -------------------------------------------------------------------------------------


def references(value: Any) -> set[str]:
    """Logical ids a value refers to (Ref, GetAtt, ${Name} and ${Name.Attr} in Fn::Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref":
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(item[0])
            elif key == "Fn::Sub":
                text = item if isinstance(item, str) else item[0]
                found |= {token.split("}")[0].split(".")[0] for token in text.split("${")[1:]}
            else:
                found |= references(item)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return {name for name in found if not name.startswith("AWS::")}  # pseudo parameters


def check_wiring(sam: dict[str, Any], routes: Routes, overlays: list[dict[str, Any]]) -> list[str]:
    """Problems that would ship a function unable to do its work, or able to do more."""
    problems = []
    resources = sam["Resources"]
    generated = {n for n, r in resources.items() if r.get("Type") == "AWS::Serverless::Function"}
    problems += [f"{n}: a Chalice handler infra/functions.py does not know" for n in sorted(generated - set(FUNCTIONS))]
    problems += [f"{n}: in infra/functions.py, not generated" for n in sorted(set(FUNCTIONS) - generated)]
    seen = {(path, method) for path, method, _ in integrations(sam)}
    problems += [f"{m} {p}: served by a module function, not in app.py" for p, m in sorted(set(routes) - seen)]
    by_module = api_functions()
    for path, method, integration in integrations(sam):
        if references(integration["uri"]) != {by_module[routes[(path, method)]]}:
            problems.append(f"{method} {path}: not integrated with {by_module[routes[(path, method)]]}")
    if CHALICE_API_HANDLER in json.dumps(sam):
        problems.append(f"{CHALICE_API_HANDLER}: still referred to after the split")
    for name in sorted(generated & set(FUNCTIONS)):
        properties = resources[name]["Properties"]
        granted = references(functions.role_statements(name))
        for variable, value in functions.environment(name).items():
            if properties["Environment"]["Variables"].get(variable) != value:
                problems.append(f"{name}: {variable} not taken from the stack")
            if variable != "STAGE" and not references(value) - set(sam.get("Parameters", {})) <= granted:
                problems.append(f"{name}: {variable} names a resource its role cannot reach")
        trigger = FUNCTIONS[name].trigger
        if trigger:
            visibility = resources[trigger]["Properties"].get("VisibilityTimeout", 30)
            if visibility < functions.VISIBILITY_PER_TIMEOUT * FUNCTIONS[name].timeout:
                problems.append(f"{trigger}: visibility {visibility} s < 6 x {name}'s timeout")
        stream = FUNCTIONS[name].stream
        if (
            stream
            and resources[stream.table]["Properties"].get("StreamSpecification", {}).get("StreamViewType")
            != "NEW_IMAGE"
        ):
            problems.append(f"{stream.table}: no NEW_IMAGE stream for {name}")
    for overlay in overlays:
        for name, _resource in overlay.get("Resources", {}).items():
            if "Type" not in resources.get(name, {}):
                problems.append(f"{name}: an overlay extends a resource Chalice no longer generates")
    return problems


BYTECODE_CACHE = PROJECT_DIR / "build" / ".bytecode"  # one pyc per (path in the package, source), kept
UNCHECKED_HASH = 0b01  # a hash-based pyc whose source is not checked (PEP 552)


def with_bytecode(archive: Path, sam: dict[str, Any]) -> None:
    """Lambda's /var/task is read-only: without bytecode in the package, every cold start compiles
    each module it imports from source. Adds ``__pycache__/<module>.cpython-3XX.pyc`` beside each
    ``.py``: unchecked-hash pycs (valid whatever the files' times), compiled by this interpreter,
    which must be the functions' runtime; files that do not compile (some packages' test data)
    are left as they are. The pycs are appended to the archive as it is, and each is compiled once
    for a given source and path (BYTECODE_CACHE): a rebuild compiles only the files that changed."""
    import hashlib
    import importlib.util
    import marshal
    import zipfile

    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
    runtimes = {
        r["Properties"].get("Runtime") for r in sam["Resources"].values() if r["Type"] == "AWS::Serverless::Function"
    }
    if runtimes != {runtime}:
        raise SystemExit(f"bytecode compiled by {runtime} would not serve the functions' runtimes {sorted(runtimes)}")
    BYTECODE_CACHE.mkdir(parents=True, exist_ok=True)
    _without_local_bytecode(archive)
    compiled: dict[str, bytes] = {}
    with zipfile.ZipFile(archive) as source:
        for info in source.infolist():
            if info.is_dir() or not info.filename.endswith(".py"):
                continue
            code = source.read(info)
            where = f"/var/task/{info.filename}"  # the path tracebacks name, as Lambda loads it
            key = hashlib.sha256(where.encode() + bytes(1) + code).hexdigest()  # the path, then the source
            cached = BYTECODE_CACHE / f"{key}.pyc"
            if not cached.exists():
                try:
                    body = marshal.dumps(compile(code, where, "exec", dont_inherit=True))
                except (SyntaxError, ValueError):
                    continue  # not Python this runtime compiles (a package's test data)
                header = importlib.util.MAGIC_NUMBER + UNCHECKED_HASH.to_bytes(4, "little")
                cached.write_bytes(header + importlib.util.source_hash(code) + body)
            folder, _, file = info.filename.rpartition("/")
            compiled[f"{folder}/__pycache__/{file[:-3]}.{sys.implementation.cache_tag}.pyc".lstrip("/")] = (
                cached.read_bytes()
            )
    with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as target:
        for name, pyc in sorted(compiled.items()):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            target.writestr(info, pyc, zipfile.ZIP_DEFLATED)


def _without_local_bytecode(archive: Path) -> None:
    """Chalice copies chalicelib/ as it is: a tree where Python wrote its ``__pycache__`` (a run
    outside make, which keeps bytecode in build/pycache) would ship this machine's pycs, and the
    pycs appended next would share their names. They are left out, the archive rewritten only then."""
    import zipfile

    with zipfile.ZipFile(archive) as source:
        kept = [info for info in source.infolist() if "__pycache__/" not in info.filename]
        if len(kept) == len(source.infolist()):
            return
        rewritten = archive.with_suffix(".tmp")
        with zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
            for info in kept:
                target.writestr(info, source.read(info))
    rewritten.replace(archive)


def package(stage: str, out: Path) -> Path:
    template = merge_template(stage)
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "STAGE": stage}  # the events modules name their SQS queues from STAGE at import
    if not env.get("AWS_REGION") and not env.get("AWS_DEFAULT_REGION"):
        env["AWS_DEFAULT_REGION"] = "eu-west-3"
    routes = route_modules()
    with tempfile.TemporaryDirectory() as tmp, packaged_openapi():
        merge_path = Path(tmp) / "merge-template.json"
        merge_path.write_text(json.dumps(template, indent=2), encoding="utf-8")
        subprocess.run(
            [
                sys.executable,
                "-c",
                _CHALICE,
                "--project-dir",
                str(PROJECT_DIR),
                "package",
                "--stage",
                stage,
                "--merge-template",
                str(merge_path),
                str(out.resolve()),
            ],
            check=True,
            env=env,
            cwd=PROJECT_DIR,
        )
    sam_path = out / "sam.json"
    sam = json.loads(sam_path.read_text(encoding="utf-8"))
    pin_intrinsics(sam, template)
    split_api(sam, routes)
    wire_functions(sam, stage)
    sam_path.write_text(json.dumps(sam, indent=2) + "\n", encoding="utf-8")
    problems = check_wiring(sam, routes, [load_template(overlay) for overlay in OVERLAYS])
    if problems:
        raise SystemExit("the package is not wired as infra/functions.py says:\n  " + "\n  ".join(problems))
    with_bytecode(out / "deployment.zip", sam)
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
