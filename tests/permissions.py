"""Permissions as grants one can compare, and every AWS call of a test checked against them.

A grant is (IAM action, resource, condition), CloudFormation values written short: "X.Arn"
(GetAtt), "X" (Ref), a Sub's text. tests/unit/test_package.py compares the packaged roles with its
own table; tests/integration/conftest.py records what the code really calls, in which function
(the module serving the route, or the event handler), and refuses a call that function's role
(infra/functions.py) would not allow: a missing permission fails here, not in production.
"""

from __future__ import annotations

import ast
import functools
import importlib
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import botocore.session

Grant = tuple[str, str, str]


def short(value: Any) -> str:
    if isinstance(value, dict):
        ((kind, arg),) = value.items()
        return {"Ref": lambda: arg, "Fn::GetAtt": lambda: ".".join(arg), "Fn::Sub": lambda: arg}[kind]()
    return value


def condition_text(condition: dict) -> str:
    pairs = (f"{op} {key}={short(value)}" for op, by_key in condition.items() for key, value in by_key.items())
    return "; ".join(sorted(pairs))


def granted(statements: list[dict]) -> set[Grant]:
    return {
        (action, short(resource), condition_text(statement.get("Condition", {})))
        for statement in statements
        if statement["Effect"] == "Allow"
        for action in statement["Action"]
        for resource in statement["Resource"]
    }


# ---- What a call needs -------------------------------------------------------------------------

FUNCTION: ContextVar[str | None] = ContextVar("function", default=None)
IAM_PREFIX = {"stepfunctions": "states"}
SES_IDENTITY = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderEmail}"
MAIL_IDENTITY = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailDomain}"
ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
SIGNING = {"Sign", "Verify", "GetPublicKey"}  # only the stack's asymmetric key signs (HeadsKey)


@dataclass(frozen=True)
class Need:
    """One IAM authorisation a call needs; ``context``: what a condition can look at."""

    action: str
    resource: str
    context: dict = field(default_factory=dict)


def physical_names(stage: str, account: str) -> dict[str, str]:
    """Physical name -> logical id of the template's named resources, as provisioned."""
    from infra.render import render

    names = {}
    for logical, resource in render()["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("TableName", "BucketName", "QueueName", "TopicName", "StateMachineName", "Name"):
            value = props.get(key)
            if isinstance(value, dict) and "Fn::Sub" in value:
                names[value["Fn::Sub"].replace("${Stage}", stage).replace("${AWS::AccountId}", account)] = logical
    return names


def needs(service: str, operation: str, params: dict, names: dict[str, str]) -> list[Need]:
    """The authorisations an API call needs (those the code makes: extend it with the code)."""
    prefix = IAM_PREFIX.get(service, service)
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            return [
                Need(f"dynamodb:{ITEM_ACTIONS[kind]}", f"{names[spec['TableName']]}.Arn")
                for item in params["TransactItems"]
                for kind, spec in item.items()
            ]
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [Need(f"dynamodb:{operation}", f"{names[table]}.Arn") for table in params["RequestItems"]]
        table = names[params["TableName"]]
        index = params.get("IndexName")
        context = {}
        if "ProjectionExpression" in params:  # what dynamodb:Attributes and dynamodb:Select see
            aliases = params.get("ExpressionAttributeNames", {})
            projected = [aliases.get(name.strip(), name.strip()) for name in params["ProjectionExpression"].split(",")]
            context = {"dynamodb:Attributes": projected, "dynamodb:Select": params.get("Select", "SPECIFIC_ATTRIBUTES")}
        return [Need(f"dynamodb:{operation}", f"${{{table}.Arn}}/index/{index}" if index else f"{table}.Arn", context)]
    if service == "s3":
        bucket = names[params["Bucket"]]
        if operation == "ListObjectVersions":
            return [Need("s3:ListBucketVersions", f"{bucket}.Arn")]
        if operation == "ListObjectsV2":
            return [Need("s3:ListBucket", f"{bucket}.Arn")]
        if operation == "DeleteObjects":
            versioned = any("VersionId" in o for o in params["Delete"]["Objects"])
            return [Need("s3:DeleteObjectVersion" if versioned else "s3:DeleteObject", f"${{{bucket}.Arn}}/*")]
        if operation == "DeleteObject" and "VersionId" in params:
            return [Need("s3:DeleteObjectVersion", f"${{{bucket}.Arn}}/*")]
        return [Need(f"s3:{operation}", f"${{{bucket}.Arn}}/*")]
    if service == "sqs":
        action = "SendMessage" if operation == "SendMessageBatch" else operation
        return [Need(f"sqs:{action}", f"{names[params['QueueUrl'].rsplit('/', 1)[1]]}.Arn")]
    if service == "sns":
        return [Need(f"sns:{operation}", names[params["TopicArn"].rsplit(":", 1)[1]])]
    if service == "stepfunctions":
        if operation in ("SendTaskSuccess", "SendTaskFailure"):  # a task token names no resource
            return [Need(f"states:{operation}", "*")]
        return [Need(f"states:{operation}", names[params["stateMachineArn"].rsplit(":", 1)[1]])]
    if service == "secretsmanager":
        return [Need(f"secretsmanager:{operation}", names[params["SecretId"]])]
    if service == "ses" and operation == "SendRawEmail":  # from the patients' domain (the From holds the INS)
        return [Need("ses:SendRawEmail", MAIL_IDENTITY)]
    if service == "ses":
        return [Need(f"ses:{operation}", SES_IDENTITY, {"ses:FromAddress": params["Source"]})]
    if service == "kms":
        context = {f"kms:EncryptionContext:{k}": v for k, v in params.get("EncryptionContext", {}).items()}
        if operation in SIGNING:
            return [Need(f"kms:{operation}", "HeadsKey.Arn", {"kms:SigningAlgorithm": params.get("SigningAlgorithm")})]
        return [Need(f"kms:{operation}", "DataKey.Arn", context)]
    return [Need(f"{prefix}:{operation}", "?")]


def allows(grants: set[Grant], need: Need, sender: str) -> bool:
    """Does a grant cover the need? Direct calls match no kms:ViaService condition."""
    for action, resource, condition in grants:
        if (action, resource) != (need.action, need.resource):
            continue
        terms = (
            [(term.split(" ", 1)[0], *term.split(" ", 1)[1].split("=", 1)) for term in condition.split("; ")]
            if condition
            else []
        )
        values = {**need.context}
        if "ses:FromAddress" in values:  # the stack's SenderEmail is the sender of this world
            values["ses:FromAddress"] = "SenderEmail" if values["ses:FromAddress"] == sender else None
        if all(_holds(op, values.get(key), value) for op, key, value in terms):
            return True
    return False


def _holds(operator: str, asked: Any, granted_value: str) -> bool:
    """``ForAllValues:``: every value asked is among those granted (a list, written as Python)."""
    if operator.startswith("ForAllValues:"):
        return asked is not None and set(asked) <= set(ast.literal_eval(granted_value))
    return asked == granted_value


# ---- Recording a test's calls ------------------------------------------------------------------


def _in_function(function: str, work: Callable) -> Callable:
    @functools.wraps(work)
    def run(*args: Any, **kwargs: Any) -> Any:
        token = FUNCTION.set(function)
        try:
            return work(*args, **kwargs)
        finally:
            FUNCTION.reset(token)

    return run


@dataclass
class Recorder:
    """Every AWS call made inside a function's work: (function, service, operation, params)."""

    calls: list[tuple[str, str, str, dict]] = field(default_factory=list)

    def install(self, monkeypatch: Any, events: dict[tuple[str, str], str]) -> None:
        """Records the calls of every client from now on (_record), the routes (the module of the
        handler) and the event handlers (``events``: (module path, attribute) -> function)."""
        from chalicelib.core.data import purge
        from chalicelib.core.http import api

        monkeypatch.setitem(_RECORDING, "now", self)
        handle = api.handle
        monkeypatch.setattr(
            api, "handle", lambda op, handler, *rest: _in_function(_api_function(handler), handle)(op, handler, *rest)
        )
        purge_handle = purge.handle
        monkeypatch.setattr(
            purge, "handle", lambda body, work: _in_function(_purge_function(work), purge_handle)(body, work)
        )
        for (path, attribute), function in events.items():
            module = importlib.import_module(path)
            monkeypatch.setattr(module, attribute, _in_function(function, getattr(module, attribute)))


_RECORDING: dict[str, Recorder] = {}  # the recorder of the test running, if it records


def _record(params: dict, model: Any, **_: Any) -> None:
    function, recorder = FUNCTION.get(), _RECORDING.get("now")
    if function is not None and recorder is not None:
        recorder.calls.append((function, model.service_model.service_name, model.name, params))


def _hooked_on_every_client() -> None:
    """Every client the process builds reports its calls to _record: the app keeps its clients
    from one test to the next (tests/conftest.py reset_caches), the recorder is each test's own."""
    create_client = botocore.session.Session.create_client

    def create_recorded_client(session: Any, *args: Any, **kwargs: Any) -> Any:
        client = create_client(session, *args, **kwargs)
        client.meta.events.register("before-parameter-build.*.*", _record)
        return client

    botocore.session.Session.create_client = create_recorded_client  # for the whole test process


_hooked_on_every_client()


def _module_of(work: Callable) -> str:
    return work.__module__.split(".")[1]  # chalicelib.<module>.<file>


def _api_function(handler: Callable) -> str:
    return f"{_module_of(handler).title()}Api"


def _purge_function(work: Callable) -> str:
    return f"Purge{_module_of(work).title()}"
