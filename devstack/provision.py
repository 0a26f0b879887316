"""Provisions the stack described in infra/ into moto (server or in-process).

moto's CloudFormation creates most resources from the rendered template. The few it does not
model (secret, SES identity, an asymmetric key: it would make a symmetric one) are created here
through their APIs from the same template, and
the state machines through the Step Functions API from the same ASL files, because a state
machine made by moto's CloudFormation is not one its executor can run. moto's ASL parser does
not know a Distributed Map's ItemBatcher: there each archive of the legacy import is handed over
as a batch of one, in the very shape a batch has in the cloud (``for_moto``).

Two kinds of resource are left out on purpose. The bucket policies: their only rule refuses
requests not made over TLS; the local endpoint is plain HTTP and moto applies the Deny without
evaluating ``aws:SecureTransport``, so it would refuse everything (tests/unit/test_infra.py checks
them). The queue policy letting the purge topic deliver: moto's CloudFormation does not model it,
and moto's SNS delivers to its queues without one.
"""

from __future__ import annotations

import json
import secrets
import warnings
from collections.abc import Callable
from typing import Any

import boto3

from infra.render import asl_definition, render, state_machines

REGION = "eu-west-3"
STACK = "mes-local"
UNSUPPORTED_BY_MOTO_CFN = {"AWS::SecretsManager::Secret", "AWS::SES::EmailIdentity"}
NOT_LOCAL = {"AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy"}


class _Resolver:
    """Just enough of CloudFormation's intrinsics for the resources provisioned by API."""

    def __init__(self, template: dict, parameters: dict, physical_ids: dict, session: Any):
        self.template, self.parameters, self.physical, self.session = template, parameters, physical_ids, session
        self.pseudo = {"AWS::AccountId": "123456789012", "AWS::Region": REGION, "AWS::Partition": "aws"}

    def arn(self, logical: str) -> str:
        kind, physical = self.template["Resources"][logical]["Type"], self.physical[logical]
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{physical}"
        if kind == "AWS::SQS::Queue":
            sqs = self.session.client("sqs")
            return sqs.get_queue_attributes(QueueUrl=physical, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        if kind == "AWS::KMS::Key":
            return self.session.client("kms").describe_key(KeyId=physical)["KeyMetadata"]["Arn"]
        if kind == "AWS::IAM::Role":
            return self.session.client("iam").get_role(RoleName=physical)["Role"]["Arn"]
        raise ValueError(f"no Arn for {kind}")

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        return self.parameters[name] if name in self.parameters else self.physical[name]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self.ref(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            logical, attribute = value["Fn::GetAtt"]
            assert attribute == "Arn", attribute  # noqa: S101 - the only attribute infra/ asks for
            return self.arn(logical)
        if set(value) == {"Fn::Sub"}:
            text = value["Fn::Sub"]
            for token in {part.split("}")[0] for part in text.split("${")[1:]}:
                name, _, attribute = token.partition(".")
                text = text.replace("${" + token + "}", self.arn(name) if attribute == "Arn" else self.ref(name))
            return text
        return {key: self.resolve(item) for key, item in value.items()}


def _secret(session: Any, props: dict) -> None:
    spec = props["GenerateSecretString"]
    value = json.loads(spec["SecretStringTemplate"])
    value[spec["GenerateStringKey"]] = secrets.token_hex(spec["PasswordLength"] // 2)
    session.client("secretsmanager").create_secret(
        Name=props["Name"], KmsKeyId=props["KmsKeyId"], SecretString=json.dumps(value)
    )


def _email_identity(session: Any, props: dict) -> None:
    identity = props["EmailIdentity"]
    if "@" in identity:
        session.client("ses").verify_email_identity(EmailAddress=identity)
    else:  # a domain (the patients' MSSanté domain)
        session.client("ses").verify_domain_identity(Domain=identity)


def _asymmetric_key(session: Any, props: dict) -> str:
    return session.client("kms").create_key(
        Description=props["Description"],
        KeySpec=props["KeySpec"],
        KeyUsage=props["KeyUsage"],
        Policy=json.dumps(props["KeyPolicy"]),
    )["KeyMetadata"]["Arn"]


_BY_API: dict[str, Callable[[Any, dict], Any]] = {
    "AWS::SecretsManager::Secret": _secret,
    "AWS::SES::EmailIdentity": _email_identity,
    "AWS::KMS::Key": _asymmetric_key,
}


def _by_api(resource: dict) -> bool:
    if resource["Type"] == "AWS::KMS::Key":
        return resource["Properties"].get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT"
    return resource["Type"] in UNSUPPORTED_BY_MOTO_CFN


def _complete(session: Any, template: dict, physical: dict) -> None:
    """Settings moto's CloudFormation accepts but does not apply."""
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::S3::Bucket":
            s3 = session.client("s3")
            if "VersioningConfiguration" in props:
                s3.put_bucket_versioning(
                    Bucket=physical[name], VersioningConfiguration=props["VersioningConfiguration"]
                )
            if "ObjectLockConfiguration" in props:  # after versioning, which Object Lock needs
                s3.put_object_lock_configuration(
                    Bucket=physical[name], ObjectLockConfiguration=props["ObjectLockConfiguration"]
                )
            if "PublicAccessBlockConfiguration" in props:
                s3.put_public_access_block(
                    Bucket=physical[name], PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
                )
        if resource["Type"] == "AWS::DynamoDB::Table" and "PointInTimeRecoverySpecification" in props:
            session.client("dynamodb").update_continuous_backups(
                TableName=physical[name], PointInTimeRecoverySpecification=props["PointInTimeRecoverySpecification"]
            )


def for_moto(definition: dict) -> dict:
    """The ASL with each Map's ItemBatcher (unknown to moto 5.2's parser) replaced by an
    ItemSelector making every item a batch of one: ``{"Items": [item], "BatchInput": ...}``."""
    for state in definition["States"].values():
        batcher = state.pop("ItemBatcher", None)
        if batcher is not None:
            state["ItemSelector"] = {
                "Items.$": "States.Array($$.Map.Item.Value)",
                "BatchInput": batcher.get("BatchInput", {}),
            }
    return definition


def _state_machine(session: Any, resolver: _Resolver, resource: dict) -> str:
    props = resolver.resolve(resource["Properties"])
    definition = json.dumps(for_moto(asl_definition(resource)))
    for name, value in props.get("DefinitionSubstitutions", {}).items():
        definition = definition.replace("${" + name + "}", value)
    return session.client("stepfunctions").create_state_machine(
        name=props["StateMachineName"], definition=definition, roleArn=props["RoleArn"], type=props["StateMachineType"]
    )["stateMachineArn"]


def provision(stage: str = "local") -> dict[str, str]:
    """Creates everything; returns the environment the API needs to reach it."""
    session = boto3.session.Session(region_name=REGION)
    template = render()
    machines = state_machines(template)
    by_api = {name: r for name, r in template["Resources"].items() if _by_api(r)}
    not_local = [name for name, r in template["Resources"].items() if r["Type"] in NOT_LOCAL]
    for name in [*machines, *by_api, *not_local]:
        del template["Resources"][name]
        template["Outputs"] = {k: v for k, v in template["Outputs"].items() if f'"{name}"' not in json.dumps(v)}
    parameters = {name: spec.get("Default", "") for name, spec in template.get("Parameters", {}).items()}
    parameters["Stage"] = stage
    cfn = session.client("cloudformation")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cfn.create_stack(
            StackName=STACK,
            TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        )
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=STACK)["StackResources"]
    }
    resolver = _Resolver(render(), parameters, physical, session)
    _complete(session, template, physical)
    made = {
        name: _BY_API[resource["Type"]](session, resolver.resolve(resource["Properties"]))
        for name, resource in by_api.items()
    }
    machine_arns = {name: _state_machine(session, resolver, resource) for name, resource in machines.items()}
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return {
        "STAGE": stage,
        "AWS_REGION": REGION,
        "TABLE_NAME": outputs["TableName"],
        "DOCUMENTS_BUCKET": outputs["DocumentsBucketName"],
        "MESSAGES_BUCKET": outputs["MessagesBucketName"],
        "PURGE_TOPIC_ARN": outputs["PurgeTopicArn"],
        "DATA_KEY_ID": outputs["DataKeyArn"],
        "PEPPERS_SECRET_ID": f"mes/{stage}/peppers",
        "CURSOR_SECRET_ID": f"mes/{stage}/cursors",
        "LETTERS_QUEUE_URL": outputs["LettersQueueUrl"],
        "TIMERS_QUEUE_URL": outputs["TimersQueueUrl"],
        "SENDER_EMAIL": outputs["SenderEmail"],
        "ENROLMENT_STATE_MACHINE_ARN": machine_arns["EnrolmentCohortStateMachine"],
        "IMPORT_BUCKET": outputs["ImportBucketName"],
        "IMPORT_QUEUE_URL": outputs["ImportQueueUrl"],
        "LEGACY_IMPORT_STATE_MACHINE_ARN": machine_arns["LegacyImportStateMachine"],
        "HEADS_BUCKET": outputs["HeadsBucketName"],
        "HEADS_KEY_ID": made["HeadsKey"],
        "INBOUND_MAIL_BUCKET": outputs["InboundMailBucketName"],
        "DIRECTORY_BUCKET": outputs["DirectoryBucketName"],
        "MAIL_DOMAIN": parameters["MailDomain"],
    }
