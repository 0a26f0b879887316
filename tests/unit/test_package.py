"""The deployable package (build/package/sam.json): one function per module, each with exactly the
permissions written below, sized on purpose.

The tables here are kept apart from infra/functions.py on purpose: a new permission, variable or
size is a deliberate change made in both. The package is the one `make package` built if it is
newer than every source it is built from, else it is built here (about a minute).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.permissions import condition_text, granted

ROOT = Path(__file__).resolve().parents[2]
BUILT = ROOT / "build" / "package" / "sam.json"
SOURCES = [
    ROOT / "app.py",
    ROOT / ".chalice" / "config.json",
    ROOT / "requirements.txt",
    *ROOT.glob("chalicelib/**/*.py"),
    *(path for pattern in ("*.py", "*.yaml", "*.json") for path in ROOT.glob(f"infra/**/{pattern}")),
]
MODULES = (
    "platform",
    "enrolment",
    "access",
    "activity",
    "documents",
    "profile",
    "catalogue",
    "export",
    "messaging",
    "agenda",
    "migration",
    "fhir",
)


@pytest.fixture(scope="session")
def package_dir(tmp_path_factory) -> Path:
    if BUILT.exists() and BUILT.stat().st_mtime >= max(source.stat().st_mtime for source in SOURCES):
        return BUILT.parent
    out = tmp_path_factory.mktemp("package")
    subprocess.run([sys.executable, "-m", "infra.package", "--stage", "prod", "--out", str(out)], cwd=ROOT, check=True)
    return out


@pytest.fixture(scope="session")
def sam(package_dir) -> dict:
    return json.loads((package_dir / "sam.json").read_text(encoding="utf-8"))


def functions(sam: dict) -> dict[str, dict]:
    return {n: r["Properties"] for n, r in sam["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


# ---- What each function may do ------------------------------------------------------------------
# A grant is (action, resource, condition), intrinsics written short: "X.Arn", "X" (Ref), a Sub's text.

REGION = "${AWS::Region}"


def role_grants(role: dict) -> set[tuple[str, str, str]]:
    (policy,) = role["Properties"]["Policies"]
    return granted(policy["PolicyDocument"]["Statement"])


def grants(actions: str, resource: str, condition: str = "") -> set[tuple[str, str, str]]:
    return {(action, resource, condition) for action in actions.split()}


def via(service: str, **context: str) -> str:
    """A KMS condition: through this service, for the resource its encryption context names."""
    pairs = {"kms:ViaService": f"{service}.{REGION}.amazonaws.com"}
    pairs.update({f"kms:EncryptionContext:{key.replace('__', ':')}": value for key, value in context.items()})
    return condition_text({"StringEquals": pairs})


def purpose(name: str) -> str:
    return f"StringEquals kms:EncryptionContext:purpose={name}"


KEY = "DataKey.Arn"
TABLE = "Table.Arn"


def table(actions: str, index: bool = False, of: str = "Table") -> set:
    return (
        grants(" ".join(f"dynamodb:{a}" for a in actions.split()), f"{of}.Arn")
        | (grants("dynamodb:Query", f"${{{of}.Arn}}/index/gsi1") if index else set())
        | grants("kms:Decrypt", KEY, via("dynamodb", aws__dynamodb__tableName=of))
    )


CURSORS = grants("secretsmanager:GetSecretValue", "CursorKey") | grants(
    "kms:Decrypt", KEY, via("secretsmanager", SecretARN="CursorKey")
)
HISTORY = table("GetItem PutItem UpdateItem", of="HistoryTable")  # appending to the activity history
APP_CONNECTIONS = table("BatchGetItem", of="CatalogueTable")  # the gate, for apps: their connection and app
PEPPERS = (
    grants("secretsmanager:GetSecretValue", "Peppers")
    | grants("kms:Decrypt", KEY, via("secretsmanager", SecretARN="Peppers"))
    | CURSORS  # every module that finds spaces also lists
)
EMAILS = grants(
    "ses:SendEmail",
    "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderEmail}",
    "StringEquals ses:FromAddress=SenderEmail",
)


MAIL_IDENTITY = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailDomain}"


def sends(queue: str) -> set:
    return grants("sqs:SendMessage", f"{queue}.Arn") | grants(
        "kms:GenerateDataKey kms:Decrypt", KEY, via("sqs", aws__sqs__arn=f"{queue}.Arn")
    )


def receives(queue: str) -> set:
    return grants("sqs:ReceiveMessage sqs:DeleteMessage sqs:GetQueueAttributes", f"{queue}.Arn") | grants(
        "kms:Decrypt", KEY, via("sqs", aws__sqs__arn=f"{queue}.Arn")
    )


def bucket(name: str) -> set:
    return (
        grants("s3:PutObject s3:GetObject s3:DeleteObject s3:DeleteObjectVersion", f"${{{name}.Arn}}/*")
        | grants("s3:ListBucketVersions", f"{name}.Arn")
        | grants("kms:GenerateDataKey kms:Decrypt", KEY, via("s3", aws__s3__arn=f"{name}.Arn"))
    )


MODULE_GRANTS = {
    "platform": set(),
    "enrolment": table("GetItem Query BatchGetItem PutItem UpdateItem DeleteItem", index=True)
    | HISTORY
    | table("GetItem Query PutItem UpdateItem DeleteItem", index=True, of="EnrolmentTable")
    | PEPPERS
    | grants("kms:GenerateDataKey kms:Decrypt", KEY, purpose("deferred_notice"))
    | EMAILS
    | sends("LettersQueue")
    | grants("states:StartExecution", "EnrolmentCohortStateMachine")
    | grants("sns:Publish", "PurgeTopic")
    | grants("kms:GenerateDataKey kms:Decrypt", KEY, via("sns")),
    "access": table("GetItem Query PutItem UpdateItem DeleteItem ConditionCheckItem")
    | HISTORY
    | PEPPERS
    | grants("kms:GenerateDataKey", KEY, purpose("emergency_reason"))
    | grants("kms:GenerateDataKey", KEY, purpose("regulation_reason"))
    | EMAILS
    | sends("LettersQueue"),
    "activity": table("GetItem Query")
    | table("GetItem Query", of="HistoryTable")
    | table("GetItem Query", of="DocumentsTable")
    | PEPPERS
    | grants("s3:ListBucket", "HeadsBucket.Arn")
    | grants("s3:GetObject", "${HeadsBucket.Arn}/*")
    | grants("kms:GetPublicKey", "HeadsKey.Arn"),
    "documents": table("GetItem Query")
    | HISTORY
    | table("GetItem Query PutItem UpdateItem DeleteItem BatchWriteItem", index=True, of="DocumentsTable")
    | APP_CONNECTIONS
    | PEPPERS
    | grants("kms:GenerateDataKey kms:Decrypt", KEY, purpose("document"))
    | bucket("DocumentsBucket"),
    "profile": table("GetItem Query")
    | HISTORY
    | table("GetItem Query PutItem UpdateItem DeleteItem BatchWriteItem", index=True, of="ProfileTable")
    | grants("dynamodb:Query", "${DocumentsTable.Arn}/index/gsi3")
    | grants("kms:Decrypt", KEY, via("dynamodb", aws__dynamodb__tableName="DocumentsTable"))
    | APP_CONNECTIONS
    | PEPPERS,
    # the spaces table read only (the gate): it can rewrite no account, grant or block
    "catalogue": table("GetItem Query")
    | HISTORY
    | table("GetItem Query BatchGetItem PutItem UpdateItem DeleteItem BatchWriteItem", index=True, of="CatalogueTable")
    | PEPPERS,
    "export": table("GetItem Query")
    | HISTORY
    | table("GetItem Query", of="DocumentsTable")
    | table("GetItem Query", of="ProfileTable")
    | PEPPERS,
    "messaging": table("GetItem Query BatchGetItem ConditionCheckItem")
    | HISTORY
    | table("GetItem Query PutItem UpdateItem DeleteItem BatchWriteItem BatchGetItem", index=True, of="MessagingTable")
    | table("GetItem PutItem DeleteItem", of="DirectoryTable")  # the MSSanté directory
    | PEPPERS
    | grants("kms:GenerateDataKey kms:Decrypt", KEY, purpose("message"))
    | bucket("MessagesBucket")
    | EMAILS,
    "agenda": table("GetItem Query")
    | HISTORY
    | table("GetItem Query PutItem UpdateItem DeleteItem BatchWriteItem", index=True, of="AgendaTable")
    | APP_CONNECTIONS
    | PEPPERS
    | EMAILS,
    # the FHIR face: documents' deposits, searches and reads, as the documents module's own;
    # measurements added and searched, as the profile module's own (never deleted); appointments
    # booked, updated and cancelled, as the agenda's own
    "fhir": table("GetItem Query")
    | HISTORY
    | table("GetItem Query PutItem UpdateItem DeleteItem", of="DocumentsTable")
    | grants("dynamodb:Query", "${DocumentsTable.Arn}/index/gsi2")
    | grants("dynamodb:Query", "${DocumentsTable.Arn}/index/gsi3")
    | table("GetItem Query PutItem UpdateItem", index=True, of="ProfileTable")
    | table("GetItem Query PutItem UpdateItem DeleteItem", of="AgendaTable")
    | APP_CONNECTIONS
    | PEPPERS
    | grants("kms:GenerateDataKey kms:Decrypt", KEY, purpose("document"))
    | bucket("DocumentsBucket"),
    "migration": table("GetItem Query PutItem DeleteItem", of="MigrationTable")
    | CURSORS  # and no peppers: nothing that finds a person
    | grants("s3:ListBucket", "ImportBucket.Arn")
    | grants("states:StartExecution", "LegacyImportStateMachine"),
}

# function -> (module, memory MB, timeout s, reserved concurrency: its parameter and prod's value)
SIZES = {
    "PlatformApi": ("platform", 512, 10, "PlatformConcurrency", 10),
    "EnrolmentApi": ("enrolment", 1024, 29, "EnrolmentConcurrency", 100),
    "AccessApi": ("access", 512, 10, "AccessConcurrency", 50),
    "ActivityApi": ("activity", 1024, 29, "ActivityConcurrency", 20),
    "DocumentsApi": ("documents", 1769, 29, "DocumentsConcurrency", 150),  # 200 before FHIR had its own
    "ProfileApi": ("profile", 512, 10, "ProfileConcurrency", 50),
    "CatalogueApi": ("catalogue", 512, 10, "CatalogueConcurrency", 20),
    "ExportApi": ("export", 1024, 29, "ExportConcurrency", 20),
    "MessagingApi": ("messaging", 1769, 29, "MessagingConcurrency", 100),
    "AgendaApi": ("agenda", 512, 10, "AgendaConcurrency", 50),
    "MigrationApi": ("migration", 512, 10, "MigrationConcurrency", 2),
    "FhirApi": ("fhir", 1769, 29, "FhirConcurrency", 50),
    "LegacyImport": ("documents", 2048, 300, None, 0),
    "OnTimer": ("enrolment", 1024, 900, None, 0),
    "EnrolmentHourly": ("enrolment", 512, 900, None, 0),
    "DocumentsHourly": ("documents", 512, 900, None, 0),
    "MessagingHourly": ("messaging", 512, 900, None, 0),
    "AgendaHourly": ("agenda", 512, 900, None, 0),
    "PurgeDocuments": ("documents", 512, 900, None, 0),
    "PurgeMessaging": ("messaging", 512, 900, None, 0),
    "PurgeProfile": ("profile", 512, 120, None, 0),
    "PurgeCatalogue": ("catalogue", 512, 120, None, 0),
    "PurgeAgenda": ("agenda", 512, 120, None, 0),
    "SignHeads": ("activity", 512, 60, None, 0),
    "MessagingInbound": ("messaging", 1769, 60, None, 0),
    "MessagingDirectoryImport": ("messaging", 1024, 900, None, 0),
}
# An SQS source's MaximumConcurrency: a cap, which takes nothing from the account's quota.
MOST_AT_ONCE = {
    "OnTimer": ("TimerConcurrency", 16),
    "LegacyImport": ("LegacyImportConcurrency", 50),  # the legacy import state machine's MaxConcurrency
    **{f"Purge{m.title()}": (None, 2) for m in ("documents", "messaging", "profile", "catalogue", "agenda")},
}
PURGED = ("documents", "messaging", "profile", "catalogue", "agenda")  # the modules holding data in a space
TRIGGERS = {
    "OnTimer": receives("TimersQueue") | sends("TimersQueue"),  # a step re-queues per shard and hands over
    **{f"Purge{m.title()}": receives(f"Purge{m.title()}Queue") for m in PURGED},
    # Reads archives (a missing one answers NoSuchKey, not 403), finds spaces in batches, answers
    # the batch's task token (IAM cannot scope those tokens).
    "LegacyImport": receives("ImportQueue")
    | grants("dynamodb:BatchGetItem dynamodb:ConditionCheckItem", TABLE)
    | table("BatchGetItem PutItem UpdateItem", of="MigrationTable")
    | grants("dynamodb:BatchGetItem", "DocumentsTable.Arn")
    | grants("dynamodb:BatchGetItem", "HistoryTable.Arn")
    | grants("s3:GetObject", "${ImportBucket.Arn}/*")
    | grants("s3:ListBucket", "ImportBucket.Arn")
    | grants("kms:Decrypt", KEY, via("s3", aws__s3__arn="ImportBucket.Arn"))
    | grants("states:SendTaskSuccess states:SendTaskFailure", "*"),
}
# Beyond their module's, not a trigger's: MSSanté's raw message SES wrote, read then that version
# deleted, a refusal notified from the patients' domain; the patient's answer by mail leaves from the
# messaging API, from the patients' domain.
OWN_GRANTS = {
    "MessagingInbound": grants("s3:GetObject s3:DeleteObjectVersion", "${InboundMailBucket.Arn}/*")
    | grants("kms:Decrypt", KEY, via("s3", aws__s3__arn="InboundMailBucket.Arn"))
    | grants("ses:SendRawEmail", MAIL_IDENTITY),
    "MessagingApi": grants("ses:SendRawEmail", MAIL_IDENTITY),
}
# The chain's attributes, all the signer may read of the table (to check a head extends the last
# signed one), and only through a projection.
CHAIN_ATTRIBUTES = [
    "pk",
    "sk",
    "seq",
    "prev_hash",
    "hash",
    "event_id",
    "at",
    "actor_role",
    "actor_id",
    "action",
    "resource",
    "hidden_from_representatives",
    "invisible_to_patient",
]
# Functions with a role of their own alone (none of their module's grants nor variables): the
# history's signer reads the table's stream, signs with the heads key, puts into the heads bucket.
ALONE = {
    "SignHeads": grants(
        "dynamodb:DescribeStream dynamodb:GetRecords dynamodb:GetShardIterator", "HistoryTable.StreamArn"
    )
    | grants("dynamodb:ListStreams", "${HistoryTable.Arn}/stream/*")
    | grants("kms:Decrypt", KEY, via("dynamodb", aws__dynamodb__tableName="HistoryTable"))
    | grants(
        "dynamodb:Query",
        "HistoryTable.Arn",
        condition_text(
            {
                "ForAllValues:StringEquals": {"dynamodb:Attributes": CHAIN_ATTRIBUTES},
                "StringEquals": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
            }
        ),
    )
    | grants("kms:Sign", "HeadsKey.Arn", "StringEquals kms:SigningAlgorithm=ECDSA_SHA_256")
    | grants("s3:ListBucket", "HeadsBucket.Arn")
    | grants("s3:PutObject", "${HeadsBucket.Arn}/*"),
    # The MSSanté directory's nightly import: the extract read, the directory table written.
    "MessagingDirectoryImport": table("BatchWriteItem", of="DirectoryTable")
    | grants("s3:GetObject", "${DirectoryBucket.Arn}/*")
    | grants("s3:ListBucket", "DirectoryBucket.Arn")
    | grants("kms:Decrypt", KEY, via("s3", aws__s3__arn="DirectoryBucket.Arn")),
}

SPACE = ("TABLE_NAME", "PEPPERS_SECRET_ID", "CURSOR_SECRET_ID")
MODULE_ENVIRONMENT = {
    "platform": (),
    "enrolment": (
        *SPACE,
        "DATA_KEY_ID",
        "SENDER_EMAIL",
        "LETTERS_QUEUE_URL",
        "ENROLMENT_STATE_MACHINE_ARN",
        "PURGE_TOPIC_ARN",
    ),
    "access": (*SPACE, "DATA_KEY_ID", "SENDER_EMAIL", "LETTERS_QUEUE_URL"),
    "activity": (*SPACE, "HEADS_BUCKET", "HEADS_KEY_ID"),
    "documents": (*SPACE, "DATA_KEY_ID", "DOCUMENTS_BUCKET"),
    "profile": SPACE,
    "catalogue": SPACE,
    "export": SPACE,
    "messaging": (*SPACE, "DATA_KEY_ID", "MESSAGES_BUCKET", "SENDER_EMAIL", "MAIL_DOMAIN"),
    "agenda": (*SPACE, "SENDER_EMAIL"),
    "migration": ("CURSOR_SECRET_ID", "IMPORT_BUCKET", "LEGACY_IMPORT_STATE_MACHINE_ARN"),
    "fhir": (*SPACE, "DATA_KEY_ID", "DOCUMENTS_BUCKET"),
}
OWN_ENVIRONMENT = {  # beyond the module's
    "OnTimer": ("TIMERS_QUEUE_URL",),
    "LegacyImport": ("IMPORT_BUCKET",),
    "SignHeads": ("HEADS_BUCKET", "HEADS_KEY_ID"),
    "MessagingInbound": ("INBOUND_MAIL_BUCKET",),
    "MessagingDirectoryImport": ("DIRECTORY_BUCKET",),
}
STACK_VARIABLES = {name for names in (*MODULE_ENVIRONMENT.values(), *OWN_ENVIRONMENT.values()) for name in names} | {
    "STAGE"
}


def expected_grants(name: str) -> set:
    module = SIZES[name][0]
    own = (
        grants("logs:CreateLogStream logs:PutLogEvents", f"{name}Logs.Arn")
        | grants("xray:PutTraceSegments xray:PutTelemetryRecords", "*")
        | grants("kms:Decrypt", KEY, via("lambda"))
    )
    if name in ALONE:
        return own | ALONE[name]
    return own | MODULE_GRANTS[module] | TRIGGERS.get(name, set()) | OWN_GRANTS.get(name, set())


# ---- Tests --------------------------------------------------------------------------------------


def test_one_function_per_module_and_each_event_handler(sam):
    assert set(functions(sam)) == set(SIZES)
    handlers = {name: p["Handler"] for name, p in functions(sam).items()}
    for module in MODULES:
        assert handlers[f"{module.title()}Api"] == f"chalicelib.{module}.function.app"
    for name, handler in handlers.items():
        assert handler.startswith(f"chalicelib.{SIZES[name][0]}."), name


def test_every_route_goes_to_the_function_of_the_module_that_serves_it(sam):
    script = (
        "import importlib, json\n"
        f"modules = {MODULES!r}\n"
        "print(json.dumps({m: [[p, x]"
        " for p, ms in importlib.import_module(f'chalicelib.{m}.function').app.routes.items()"
        " for x in ms] for m in modules}))"
    )
    # In a process of its own: a Chalice blueprint registers into one app only, and app.py has them.
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, capture_output=True, text=True)
    served = json.loads(run.stdout)
    owner = {(path, method): module for module, routes in served.items() for path, method in routes}
    paths = sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    integrated = {
        (path, method.upper()): op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        for path, ops in paths.items()
        for method, op in ops.items()
    }
    assert set(integrated) == set(owner)
    for route, uri in integrated.items():
        assert f"${{{owner[route].title()}Api.Arn}}/invocations" in uri, route
    for module in MODULES:
        permission = sam["Resources"][f"{module.title()}ApiInvokePermission"]["Properties"]
        assert permission["FunctionName"] == {"Ref": f"{module.title()}Api"}
        assert permission["Principal"] == "apigateway.amazonaws.com"
    assert "APIHandler" not in json.dumps(sam)


def test_each_function_has_exactly_the_permissions_of_the_table(sam):
    for name, properties in functions(sam).items():
        assert properties["Role"] == {"Fn::GetAtt": [f"{name}Role", "Arn"]}
        role = sam["Resources"][f"{name}Role"]
        assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
            "Service": "lambda.amazonaws.com"
        }
        assert "ManagedPolicyArns" not in role["Properties"]
        actual, expected = role_grants(role), expected_grants(name)
        assert actual == expected, f"{name}: more {sorted(actual - expected)}; missing {sorted(expected - actual)}"


# Decrypt, by purpose; the FHIR face carries documents' content too (ITI-65 deposits, ITI-68 reads).
OPENS = {"documents": {"document"}, "fhir": {"document"}, "messaging": {"message"}, "enrolment": {"deferred_notice"}}


def test_kms_is_used_only_under_a_condition_and_content_opens_only_in_its_module(sam):
    opens = {}
    for name in functions(sam):
        kms = [grant for grant in role_grants(sam["Resources"][f"{name}Role"]) if grant[0].startswith("kms:")]
        assert all(condition for _, key, condition in kms if key == KEY), name
        opens[name] = {c.split("=")[1] for action, _, c in kms if action == "kms:Decrypt" and "purpose=" in c}
    for name, purposes in opens.items():
        module = SIZES[name][0]
        assert purposes == (set() if name in ALONE else OPENS.get(module, set())), name  # alone: none of its module's


def test_a_content_bucket_is_reached_only_by_its_module(sam):
    for name in functions(sam):
        resources = {resource for _, resource, _ in role_grants(sam["Resources"][f"{name}Role"])}
        module = SIZES[name][0]
        assert any("DocumentsBucket" in r for r in resources) == (module in ("documents", "fhir")), name
        assert any("MessagesBucket" in r for r in resources) == (module == "messaging" and name not in ALONE), name
        # The legacy archives: listed by the migration routes, read by the importer alone.
        assert any("ImportBucket" in r for r in resources) == (name in ("MigrationApi", "LegacyImport")), name


WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def test_the_access_inputs_are_written_by_enrolment_and_access_only_and_connections_by_the_catalogue(sam):
    """A breached function of another module cannot rewrite an account, a grant or a block, nor
    connect an app or change a connection's scopes: the others only read the catalogue table's
    connections and apps (the gate, for an app's request)."""
    for name in functions(sam):
        module, role = SIZES[name][0], role_grants(sam["Resources"][f"{name}Role"])
        writes = {action for action, resource, _ in role if resource == TABLE and action in WRITES}
        assert bool(writes) == (module in ("enrolment", "access")), name
        catalogue = {action for action, resource, _ in role if resource == "CatalogueTable.Arn"}
        if module != "catalogue":
            assert catalogue <= {"dynamodb:BatchGetItem"}, name


def test_each_function_gets_only_the_stack_variables_its_module_reads(sam):
    for name, properties in functions(sam).items():
        variables = properties["Environment"]["Variables"]
        module_environment = () if name in ALONE else MODULE_ENVIRONMENT[SIZES[name][0]]
        expected = {"STAGE", *module_environment, *OWN_ENVIRONMENT.get(name, ())}
        assert {v for v in variables if v in STACK_VARIABLES} == expected, name
        assert all(isinstance(variables[v], dict) for v in expected), name  # from the stack, not the config
        assert variables["PYDANTIC_DISABLE_PLUGINS"] == "__all__", name  # no plugin scan at cold start
        assert properties["KmsKeyArn"] == {"Fn::GetAtt": ["DataKey", "Arn"]}


def test_functions_are_sized_on_purpose(sam):
    parameters = sam["Parameters"]
    for name, properties in functions(sam).items():
        _, memory, timeout, parameter, prod_value = SIZES[name]
        assert (properties["MemorySize"], properties["Timeout"]) == (memory, timeout), name
        if parameter:
            condition = f"{parameter}Reserved"  # 0 reserves nothing: reserving 0 would stop the function
            assert sam["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, 0]}]}
            reserved = {"Fn::If": [condition, {"Ref": parameter}, {"Ref": "AWS::NoValue"}]}
            assert properties["ReservedConcurrentExecutions"] == reserved, name
            assert parameters[parameter]["Default"] == prod_value, name  # from infra/stages/prod.json
        else:
            assert "ReservedConcurrentExecutions" not in properties, name
        assert properties["Tracing"] == "Active"
        if name.endswith("Api"):
            assert timeout <= 29, f"{name}: API Gateway gives up after 29 s"


def test_the_timer_function_outlasts_its_hand_over_margin():
    from chalicelib.enrolment.events import HANDOVER_MARGIN_SECONDS

    assert SIZES["OnTimer"][2] == 900 and SIZES["OnTimer"][2] > 10 * HANDOVER_MARGIN_SECONDS


def test_sqs_sources_hide_a_message_6_times_the_function_timeout_and_run_at_most_their_cap(sam):
    sources = 0
    for name, properties in functions(sam).items():
        for event in properties.get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            sources += 1
            queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
            assert sam["Resources"][queue]["Properties"]["VisibilityTimeout"] >= 6 * properties["Timeout"], name
            parameter, most = MOST_AT_ONCE[name]
            maximum = event["Properties"]["ScalingConfig"]["MaximumConcurrency"]
            assert maximum == ({"Ref": parameter} if parameter else most), name
            if parameter:
                assert sam["Parameters"][parameter]["Default"] == most, name
    assert sources == len(TRIGGERS) == len(MOST_AT_ONCE)


def test_prod_reserves_its_parameters_and_leaves_the_account_unreserved_room(sam):
    # Lambda keeps 100 of an account's concurrency unreserved: prod's quota must be at least this + 100.
    prod = json.loads((ROOT / "infra" / "stages" / "prod.json").read_text(encoding="utf-8"))
    reserved = {parameter: value for _, _, _, parameter, value in SIZES.values() if parameter}
    assert prod == reserved
    assert sum(reserved.values()) == 622  # the README's deploy section asks for a quota of 722


def test_a_stage_without_parameters_reserves_nothing():
    """A new AWS account may have a concurrency quota of 10, of which Lambda keeps 100 unreserved
    (or all of it): a stage without infra/stages/<stage>.json reserves nothing."""
    from infra import package

    template: dict = {"Parameters": {}}
    package.add_parameters(template, "dev")
    reservations = {p for *_, p, _ in SIZES.values() if p}
    assert reservations and all(template["Parameters"][p]["Default"] == 0 for p in reservations)
    assert set(template["Conditions"]) == {f"{p}Reserved" for p in reservations}


def test_a_stage_file_naming_an_unknown_parameter_is_refused(tmp_path, monkeypatch):
    from infra import package

    (tmp_path / "typo.json").write_text('{"DocumentConcurrency": 200}', encoding="utf-8")
    monkeypatch.setattr(package, "STAGES_DIR", tmp_path)
    with pytest.raises(SystemExit, match="DocumentConcurrency"):
        package.stage_parameters("typo")


def test_every_log_group_is_encrypted_and_kept_a_year(sam):
    groups = [r["Properties"] for r in sam["Resources"].values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert len(groups) == len(SIZES) + 1  # one per function, the API's access logs
    for group in groups:
        assert group["KmsKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]} and group["RetentionInDays"] == 365
    for name, properties in functions(sam).items():
        assert properties["LoggingConfig"] == {"LogGroup": {"Ref": f"{name}Logs"}}


def test_the_api_keeps_its_overlay(sam):
    api = sam["Resources"]["RestAPI"]["Properties"]
    assert api["TracingEnabled"] is True
    assert "THROTTLED" in api["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    rules = [rule["Statement"] for rule in sam["Resources"]["ApiWebAcl"]["Properties"]["Rules"]]
    managed = {s["ManagedRuleGroupStatement"]["Name"] for s in rules if "ManagedRuleGroupStatement" in s}
    assert managed == {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"}
    assert any("RateBasedStatement" in s for s in rules)
    assert sam["Parameters"]["Stage"]["AllowedValues"] == ["prod"]


def test_the_package_holds_the_bytecode_lambda_cannot_write(package_dir):
    """Each module's pyc beside it, for the runtime's Python, valid whatever the files' times
    (unchecked hash of its very source): a cold start compiles nothing."""
    import importlib.util
    import zipfile

    with zipfile.ZipFile(package_dir / "deployment.zip") as archive:
        names = set(archive.namelist())
        sources = [name for name in names if name.endswith(".py")]
        assert any(name.startswith("chalicelib/core/") for name in sources)
        tag = f"cpython-{sys.version_info.major}{sys.version_info.minor}"
        for source in sources:
            folder, _, file = source.rpartition("/")
            pyc = f"{folder}/__pycache__/{file[:-3]}.{tag}.pyc".lstrip("/")
            if not source.startswith("chalicelib/") and pyc not in names:
                continue  # a package's file that does not compile (test data)
            header = archive.read(pyc)[:16]
            assert header[:4] == importlib.util.MAGIC_NUMBER, source
            assert int.from_bytes(header[4:8], "little") == 0b01, f"{source}: hash-based, unchecked"
            assert header[8:16] == importlib.util.source_hash(archive.read(source)), source


def test_the_package_holds_every_library_the_functions_import(package_dir):
    """What chalicelib imports (at the top or on first use) is in deployment.zip: a library moved
    out of requirements.txt cannot still be needed at run time."""
    import ast
    import zipfile

    imported = set()
    for path in (ROOT / "chalicelib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    libraries = imported - set(sys.stdlib_module_names) - {"chalicelib", "__future__"}
    with zipfile.ZipFile(package_dir / "deployment.zip") as archive:
        tops = {name.split("/")[0].removesuffix(".py") for name in archive.namelist()}
    assert libraries - tops == set()
    assert {"cryptography", "pydantic", "boto3", "jwt"} <= libraries


# ---- The history's signed heads (docs/decisions/0006-signed-history-heads.md) --------------------

SIGNER_ROLE = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/mes-${Stage}-activity-signer"


def test_the_signer_reads_only_head_changes_of_the_table_stream(sam):
    assert sam["Resources"]["HistoryTable"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert all(
        "StreamSpecification" not in r["Properties"]
        for n, r in sam["Resources"].items()
        if n.endswith("Table") and n != "HistoryTable"
    )
    (event,) = functions(sam)["SignHeads"]["Events"].values()
    assert event["Type"] == "DynamoDB"
    properties = event["Properties"]
    assert properties["Stream"] == {"Fn::GetAtt": ["HistoryTable", "StreamArn"]}
    assert (properties["BatchSize"], properties["MaximumBatchingWindowInSeconds"], properties["StartingPosition"]) == (
        100,
        5,
        "TRIM_HORIZON",
    )
    # A failing batch must not hold the shard back for a day: halved, then given up after 10 tries.
    assert (properties["BisectBatchOnFunctionError"], properties["MaximumRetryAttempts"]) == (True, 10)
    (only,) = [json.loads(f["Pattern"]) for f in properties["FilterCriteria"]["Filters"]]
    assert only == {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"sk": {"S": ["SPACE#ACTIVITY_HEAD"]}}}}
    streams = [n for n, p in functions(sam).items() for e in p.get("Events", {}).values() if e["Type"] == "DynamoDB"]
    assert streams == ["SignHeads"]


def test_only_the_signer_signs_and_puts_heads_and_no_role_deletes_them(sam):
    for name in functions(sam):
        role = sam["Resources"][f"{name}Role"]
        actions = {(action, resource) for action, resource, _ in role_grants(role)}
        assert (("kms:Sign", "HeadsKey.Arn") in actions) == (name == "SignHeads"), name
        assert (("s3:PutObject", "${HeadsBucket.Arn}/*") in actions) == (name == "SignHeads"), name
        assert not [a for a, r in actions if "HeadsBucket" in r and "Delete" in a], name
    signer = sam["Resources"]["SignHeadsRole"]["Properties"]
    assert signer["RoleName"] == {"Fn::Sub": "mes-${Stage}-activity-signer"}
    assert all("RoleName" not in sam["Resources"][f"{n}Role"]["Properties"] for n in functions(sam) if n != "SignHeads")


def test_the_heads_key_signs_for_the_signer_role_alone(sam):
    key = sam["Resources"]["HeadsKey"]["Properties"]
    assert (key["KeySpec"], key["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
    statements = key["KeyPolicy"]["Statement"]
    signing = [s for s in statements if s.get("Action") == "kms:Sign" or "kms:Sign" in s.get("Action", [])]
    assert [s["Effect"] for s in signing] == ["Allow"]
    assert signing[0]["Condition"] == {"ArnEquals": {"aws:PrincipalArn": {"Fn::Sub": SIGNER_ROLE}}}
    others = [s for s in statements if s not in signing]
    assert all(s.get("NotAction") == "kms:Sign" and "Action" not in s for s in others)


def test_the_heads_bucket_keeps_each_head_ten_years_in_compliance_mode(sam):
    bucket = sam["Resources"]["HeadsBucket"]["Properties"]
    assert bucket["ObjectLockEnabled"] is True
    assert bucket["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {"Mode": "COMPLIANCE", "Years": 10}
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogsBucket"}
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    policy = sam["Resources"]["HeadsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (puts,) = [s for s in policy if s["Sid"] == "OnlyTheSignerPuts"]
    assert (puts["Effect"], puts["Action"], puts["Condition"]) == (
        "Deny",
        "s3:PutObject",
        {"ArnNotEquals": {"aws:PrincipalArn": {"Fn::Sub": SIGNER_ROLE}}},
    )


def test_sns_uses_the_data_key_only_for_the_stacks_own_topics(sam):
    statements = sam["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    (sns,) = [s for s in statements if s["Principal"] == {"Service": "sns.amazonaws.com"}]
    topics = [
        r["Properties"]["TopicName"]["Fn::Sub"] for r in sam["Resources"].values() if r["Type"] == "AWS::SNS::Topic"
    ]
    arns = [{"Fn::Sub": f"arn:${{AWS::Partition}}:sns:${{AWS::Region}}:${{AWS::AccountId}}:{name}"} for name in topics]
    assert topics and sns["Condition"] == {
        "ArnEquals": {"aws:SourceArn": arns},
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
    }


def test_mail_leaves_from_the_messaging_api_and_inbound_function_only(sam):
    """docs/api.md § MSSanté: SES SendRawEmail from the patients' domain: the patients' answers,
    and the refusals' notifications."""
    senders = {
        name
        for name in functions(sam)
        if any(action == "ses:SendRawEmail" for action, _, _ in role_grants(sam["Resources"][f"{name}Role"]))
    }
    assert senders == {"MessagingApi", "MessagingInbound"}


def test_bytecode_python_left_in_the_tree_is_not_shipped(tmp_path, monkeypatch):
    """A chalicelib/ holding this machine's __pycache__ (Python run outside make) ships only the
    package's own pycs, each name once."""
    import importlib.util
    import sys
    import zipfile

    from infra import package

    monkeypatch.setattr(package, "BYTECODE_CACHE", tmp_path / "cache")
    tag = sys.implementation.cache_tag
    archive = tmp_path / "deployment.zip"
    with zipfile.ZipFile(archive, "w") as built:  # as Chalice copies such a tree
        built.writestr("chalicelib/x.py", "VALUE = 1\n")
        built.writestr(f"chalicelib/__pycache__/x.{tag}.pyc", b"this machine's bytecode")
    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
    sam = {"Resources": {"F": {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": runtime}}}}
    package.with_bytecode(archive, sam)
    with zipfile.ZipFile(archive) as shipped:
        names = [info.filename for info in shipped.infolist()]
        assert sorted(names) == sorted(["chalicelib/x.py", f"chalicelib/__pycache__/x.{tag}.pyc"])
        assert shipped.read(f"chalicelib/__pycache__/x.{tag}.pyc")[:4] == importlib.util.MAGIC_NUMBER
