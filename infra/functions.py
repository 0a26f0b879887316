"""What each Lambda function of the package is: its module, size, environment and permissions.

The one owner of these rules: infra/package.py builds every function, its role and its log group
from this file (tests/unit/test_package.py keeps its own expected table, on purpose: a new
permission is changed in both). One function per module serves the module's routes
(chalicelib/<module>/function.py); the module's event handlers (chalicelib/<module>/events.py)
get a function each, with the module's permissions and what their trigger needs.

Permissions are read from the modules' code: which table actions (the activity chain, the gate's
space load and the peppers are used by every module that authorises a caller), which bucket,
queue, topic, state machine, sender identity. KMS is split in two:
- direct use by the Encryption SDK (chalicelib/core/security/crypto.py), allowed only for the purposes the
  module seals (``kms:EncryptionContext:purpose``): no other module can open a document, a message,
  an emergency reason or a deferred notice;
- use by a service on the function's behalf (table, queues, topic, secret, buckets, the function's
  own environment), allowed only through that service (``kms:ViaService``) and, where the service
  names the resource in its encryption context, only for that resource.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# ---- CloudFormation values ---------------------------------------------------------------------


def ref(name: str) -> dict[str, Any]:
    return {"Ref": name}


def arn(name: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [name, "Arn"]}


def sub(text: str) -> dict[str, Any]:
    return {"Fn::Sub": text}


# Every variable of chalicelib/core/settings.py that names a resource of the stack, and that
# resource. A function gets only those its module reads (Module.environment), and STAGE.
STACK_ENVIRONMENT: dict[str, dict[str, Any]] = {
    "STAGE": ref("Stage"),
    "TABLE_NAME": ref("Table"),
    "DOCUMENTS_BUCKET": ref("DocumentsBucket"),
    "MESSAGES_BUCKET": ref("MessagesBucket"),
    "PURGE_TOPIC_ARN": ref("PurgeTopic"),
    "DATA_KEY_ID": arn("DataKey"),
    "PEPPERS_SECRET_ID": ref("Peppers"),
    "CURSOR_SECRET_ID": ref("CursorKey"),
    "LETTERS_QUEUE_URL": ref("LettersQueue"),
    "TIMERS_QUEUE_URL": ref("TimersQueue"),
    "ENROLMENT_STATE_MACHINE_ARN": ref("EnrolmentCohortStateMachine"),
    "SENDER_EMAIL": ref("SenderEmail"),
    "IMPORT_BUCKET": ref("ImportBucket"),
    "LEGACY_IMPORT_STATE_MACHINE_ARN": ref("LegacyImportStateMachine"),
    "HEADS_BUCKET": ref("HeadsBucket"),
    "HEADS_KEY_ID": arn("HeadsKey"),
    "INBOUND_MAIL_BUCKET": ref("InboundMailBucket"),
    "DIRECTORY_BUCKET": ref("DirectoryBucket"),
    "MAIL_DOMAIN": ref("MailDomain"),
}

# ---- Permission building blocks ----------------------------------------------------------------

KEY = arn("DataKey")


def allow(
    sid: str, actions: list[str], resources: list[Any], condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def via(service: str, context: dict[str, Any] | None = None) -> dict[str, Any]:
    """KMS used by ``service`` on the caller's behalf, for the resource its context names."""
    condition: dict[str, Any] = {"StringEquals": {"kms:ViaService": sub(f"{service}.${{AWS::Region}}.amazonaws.com")}}
    if context:
        condition["StringEquals"].update({f"kms:EncryptionContext:{k}": v for k, v in context.items()})
    return condition


def table(*actions: str, index: bool = False, of: str = "Table") -> list[dict[str, Any]]:
    """Item actions on a table (``of``: the spaces table, or a module's, infra/tables.py; a
    transaction is authorised item by item: Put, Update, Delete, ConditionCheckItem), queries of
    its index if ``index``, and the stack's key through DynamoDB for that table only."""
    statements = [allow(of, [f"dynamodb:{a}" for a in actions], [arn(of)])]
    if index:
        statements.append(allow(f"{of}Index", ["dynamodb:Query"], [sub(f"${{{of}.Arn}}/index/gsi1")]))
    statements.append(_table_key(of))
    return statements


def _table_key(of: str) -> dict[str, Any]:
    return allow(f"{of}Key", ["kms:Decrypt"], [KEY], via("dynamodb", {"aws:dynamodb:tableName": ref(of)}))


def index_query(name: str, of: str) -> list[dict[str, Any]]:
    """Queries of one index of another module's table, read through that module's interface, and
    nothing else of that table."""
    return [allow(f"{of}{name.title()}", ["dynamodb:Query"], [sub(f"${{{of}.Arn}}/index/{name}")]), _table_key(of)]


# Reading a space (core.data.spaces): every module that authorises a caller.
READ = ("GetItem", "Query")
APPEND = ("PutItem", "UpdateItem")


def history() -> list[dict[str, Any]]:
    """Appending to the activity history (core/history/journal.py): the head read, then moved
    (UpdateItem) and the event put (PutItem) in the change's own transaction."""
    return table("GetItem", *APPEND, of="HistoryTable")


def app_connections() -> list[dict[str, Any]]:
    """The gate's read of an app's connection to a space and of the app (core/data/spaces.py
    connected_app: one BatchGetItem of the catalogue table): every module that authorises apps."""
    return table("BatchGetItem", of="CatalogueTable")


def cursors() -> list[dict[str, Any]]:
    """The key that seals list cursors (core/security/pseudonyms.py cursor_key): every module that lists."""
    return [
        allow("Cursors", ["secretsmanager:GetSecretValue"], [ref("CursorKey")]),
        allow("CursorsKey", ["kms:Decrypt"], [KEY], via("secretsmanager", {"SecretARN": ref("CursorKey")})),
    ]


def peppers() -> list[dict[str, Any]]:
    """The HMAC key of core/security/pseudonyms.py: a patient's token is matched to a space by ins_digest
    (core/policy/gate.py actor_of), so every module that authorises patients needs it."""
    return [
        allow("Peppers", ["secretsmanager:GetSecretValue"], [ref("Peppers")]),
        allow("PeppersKey", ["kms:Decrypt"], [KEY], via("secretsmanager", {"SecretARN": ref("Peppers")})),
    ]


def sealed(purpose: str, *, opens: bool = True) -> list[dict[str, Any]]:
    """The Encryption SDK for this purpose only: a data key to seal (GenerateDataKey) and, if
    ``opens``, to open (Decrypt) what was sealed for it."""
    actions = ["kms:GenerateDataKey"] + (["kms:Decrypt"] if opens else [])
    sid = "Seal" + "".join(part.title() for part in purpose.split("_"))
    return [allow(sid, actions, [KEY], {"StringEquals": {"kms:EncryptionContext:purpose": purpose}})]


def content(bucket: str) -> list[dict[str, Any]]:
    """A module's own bucket (core/security/blobs.py): objects written, read, every version deleted; the
    versions listed; SSE-KMS through S3 for this bucket only (bucket keys: the context is the
    bucket's ARN)."""
    return [
        allow(
            f"{bucket}Objects",
            ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
            [sub(f"${{{bucket}.Arn}}/*")],
        ),
        allow(f"{bucket}Versions", ["s3:ListBucketVersions"], [arn(bucket)]),
        allow(
            f"{bucket}Key",
            ["kms:GenerateDataKey", "kms:Decrypt"],
            [KEY],
            via("s3", {"aws:s3:arn": arn(bucket)}),
        ),
    ]


def emails() -> list[dict[str, Any]]:
    """core/policy/notify.py send_email: only as the stack's sender."""
    identity = sub("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderEmail}")
    return [allow("Emails", ["ses:SendEmail"], [identity], {"StringEquals": {"ses:FromAddress": ref("SenderEmail")}})]


def raw_emails(sid: str = "MailAnswers") -> list[dict[str, Any]]:
    """chalicelib/messaging/threads.py send: a patient's answer by MSSanté mail, from the patients'
    domain only (its From holds the INS: no single address to pin); inbound.py's refusals too."""
    identity = sub("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailDomain}")
    return [allow(sid, ["ses:SendRawEmail"], [identity])]


def inbound_mail() -> list[dict[str, Any]]:
    """chalicelib/messaging/inbound.py receive: the raw message SES wrote, read, then that version
    deleted; SSE-KMS through S3 for this bucket only."""
    return [
        allow(
            "InboundMail",
            ["s3:GetObject", "s3:DeleteObjectVersion"],
            [sub("${InboundMailBucket.Arn}/*")],
        ),
        allow("InboundMailKey", ["kms:Decrypt"], [KEY], via("s3", {"aws:s3:arn": arn("InboundMailBucket")})),
    ]


def sends_to(queue: str) -> list[dict[str, Any]]:
    """Messages onto an SSE-KMS queue: SQS needs a data key for it."""
    return [
        allow(f"{queue}Send", ["sqs:SendMessage"], [arn(queue)]),
        allow(
            f"{queue}SendKey", ["kms:GenerateDataKey", "kms:Decrypt"], [KEY], via("sqs", {"aws:sqs:arn": arn(queue)})
        ),
    ]


def receives_from(queue: str) -> list[dict[str, Any]]:
    """What Lambda's event source mapping needs of its SSE-KMS queue."""
    return [
        allow(f"{queue}Receive", ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], [arn(queue)]),
        allow(f"{queue}ReceiveKey", ["kms:Decrypt"], [KEY], via("sqs", {"aws:sqs:arn": arn(queue)})),
    ]


def signed_heads() -> list[dict[str, Any]]:
    """core/history/heads.py latest: the newest signed head of a space (listed, read) and the
    public key its signature is checked with (fetched once, then checked locally)."""
    return [
        allow("SignedHeadsListing", ["s3:ListBucket"], [arn("HeadsBucket")]),
        allow("SignedHeads", ["s3:GetObject"], [sub("${HeadsBucket.Arn}/*")]),
        allow("HeadsPublicKey", ["kms:GetPublicKey"], [arn("HeadsKey")]),
    ]


# The chain's fields of an event (core/history/chain.py) and the keys: all the signer may read of
# the table (journal.events_from), to check that a new head extends the last signed one.
CHAIN_ATTRIBUTES = (
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
)


def reads_stream(table_name: str) -> list[dict[str, Any]]:
    """What Lambda's event source mapping needs of a table's stream (the table's key decrypts it)."""
    stream = arn_of_stream(table_name)
    return [
        allow(
            f"{table_name}StreamRead",
            ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            [stream],
        ),
        allow(f"{table_name}StreamList", ["dynamodb:ListStreams"], [sub(f"${{{table_name}.Arn}}/stream/*")]),
        allow(
            f"{table_name}StreamKey",
            ["kms:Decrypt"],
            [KEY],
            via("dynamodb", {"aws:dynamodb:tableName": ref(table_name)}),
        ),
    ]


def arn_of_stream(table_name: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [table_name, "StreamArn"]}


def cohort_timers() -> list[dict[str, Any]]:
    return [allow("CohortTimers", ["states:StartExecution"], [ref("EnrolmentCohortStateMachine")])]


def purge_requests() -> list[dict[str, Any]]:
    """core/data/purge.py request: one message on the SSE-KMS topic (the closure)."""
    return [
        allow("PurgeRequests", ["sns:Publish"], [ref("PurgeTopic")]),
        allow("PurgeRequestsKey", ["kms:GenerateDataKey", "kms:Decrypt"], [KEY], via("sns")),
    ]


# ---- Modules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Module:
    environment: tuple[str, ...]  # the stack variables its code reads (besides STAGE)
    statements: tuple[dict[str, Any], ...]  # what it does with the stack's resources


SPACE_ENV = ("TABLE_NAME", "PEPPERS_SECRET_ID", "CURSOR_SECRET_ID")

MODULES: dict[str, Module] = {
    # Health and the OpenAPI document (a file in its package): no AWS call at all.
    "platform": Module((), ()),
    # Campaigns, invitations, answers, closure (publishes the purge request), cohort timers,
    # deferred notices (sealed arguments, reopened by the hourly run), dependants (accounts read
    # in batches): the accounts in the spaces table, campaigns and notices in its own. No health
    # content.
    "enrolment": Module(
        (
            *SPACE_ENV,
            "DATA_KEY_ID",
            "SENDER_EMAIL",
            "LETTERS_QUEUE_URL",
            "ENROLMENT_STATE_MACHINE_ARN",
            "PURGE_TOPIC_ARN",
        ),
        (
            *table(*READ, "BatchGetItem", *APPEND, "DeleteItem", index=True),
            *table(*READ, *APPEND, "DeleteItem", index=True, of="EnrolmentTable"),
            *history(),
            *peppers(),
            *cursors(),
            *sealed("deferred_notice"),
            *emails(),
            *sends_to("LettersQueue"),
            *cohort_timers(),
            *purge_requests(),
        ),
    ),
    # Grants, blocks, treating doctor (transactions with condition checks), search by INS,
    # emergency access: the reason sealed, never reopened by the API; the patient notified.
    "access": Module(
        (*SPACE_ENV, "DATA_KEY_ID", "SENDER_EMAIL", "LETTERS_QUEUE_URL"),
        (
            *table(*READ, *APPEND, "DeleteItem", "ConditionCheckItem"),
            *history(),
            *peppers(),
            *cursors(),
            *sealed("emergency_reason", opens=False),
            *sealed("regulation_reason", opens=False),
            *emails(),
            *sends_to("LettersQueue"),
        ),
    ),
    # Reads the chain, and the documents' metadata to show only the events of what the reader sees;
    # checks the chain from the newest signed head.
    "activity": Module(
        (*SPACE_ENV, "HEADS_BUCKET", "HEADS_KEY_ID"),
        (
            *table(*READ),
            *table(*READ, of="HistoryTable"),
            *table(*READ, of="DocumentsTable"),
            *peppers(),
            *cursors(),
            *signed_heads(),
        ),
    ),
    # The medical record: metadata in its own table (release timer and orphan markers indexed),
    # content in its own bucket, sealed for the "document" purpose.
    "documents": Module(
        (*SPACE_ENV, "DATA_KEY_ID", "DOCUMENTS_BUCKET"),
        (
            *table(*READ),
            *history(),
            *table(*READ, *APPEND, "DeleteItem", "BatchWriteItem", index=True, of="DocumentsTable"),
            *app_connections(),
            *peppers(),
            *cursors(),
            *sealed("document"),
            *content("DocumentsBucket"),
        ),
    ),
    # The health profile in its own table; the spaces table read (the gate) and appended (history);
    # the documents' type index (gsi3) queried (the emergency summary's advance directives).
    "profile": Module(
        SPACE_ENV,
        (
            *table(*READ),
            *history(),
            *table(*READ, *APPEND, "DeleteItem", "BatchWriteItem", index=True, of="ProfileTable"),
            *index_query("gsi3", of="DocumentsTable"),
            *app_connections(),
            *peppers(),
            *cursors(),
        ),
    ),
    # The apps (their listing indexed) and the patients' connections in its own table (the gate's
    # read of a connection: one BatchGetItem with its app); the spaces table only read (the gate).
    "catalogue": Module(
        SPACE_ENV,
        (
            *table(*READ),
            *table(*READ, "BatchGetItem", *APPEND, "DeleteItem", "BatchWriteItem", index=True, of="CatalogueTable"),
            *history(),
            *peppers(),
            *cursors(),
        ),
    ),
    # The record as a FHIR bundle: documents' metadata and the profile, never the content.
    "export": Module(
        SPACE_ENV,
        (
            *table(*READ),
            *history(),
            *table(*READ, of="DocumentsTable"),
            *table(*READ, of="ProfileTable"),
            *peppers(),
            *cursors(),
        ),
    ),
    # The FHIR face for partners (docs/fhir.md): ITI-65 deposits (documents' metadata and content,
    # sealed for the "document" purpose), searches and reads, through the documents module's interface;
    # Observations through the profile module's, Appointments through the agenda's.
    "fhir": Module(
        (*SPACE_ENV, "DATA_KEY_ID", "DOCUMENTS_BUCKET"),
        (
            *table(*READ),
            *history(),
            *table(*READ, *APPEND, "DeleteItem", of="DocumentsTable"),
            # the documents' search indexes (infra/tables.py MORE_INDEXES): a page at a time
            allow(
                "DocumentsSearch",
                ["dynamodb:Query"],
                [sub(f"${{DocumentsTable.Arn}}/index/{i}") for i in ("gsi2", "gsi3")],
            ),
            # Observations: the profile's measurements (added in their transaction, searched by
            # kind or by time on its index), through the profile module's interface
            *table(*READ, *APPEND, index=True, of="ProfileTable"),
            # Appointments: the agenda's events and their bookings' markers, through the agenda's interface
            *table(*READ, *APPEND, "DeleteItem", of="AgendaTable"),
            *app_connections(),
            *peppers(),
            *cursors(),
            *sealed("document"),
            *content("DocumentsBucket"),
        ),
    ),
    # Conversations (inboxes indexed) in its own table, the spaces they are about read (a
    # professional's in batches) and checked in its transactions; bodies and attachments in their
    # own bucket, subjects sealed: all for the "message" purpose. The MSSanté directory in its own
    # table (docs/api.md § MSSanté); mails' Message-IDs found in batches.
    "messaging": Module(
        (*SPACE_ENV, "DATA_KEY_ID", "MESSAGES_BUCKET", "SENDER_EMAIL", "MAIL_DOMAIN"),
        (
            *table(*READ, "BatchGetItem", "ConditionCheckItem"),
            *table(*READ, *APPEND, "DeleteItem", "BatchWriteItem", "BatchGetItem", index=True, of="MessagingTable"),
            *table("GetItem", "PutItem", "DeleteItem", of="DirectoryTable"),
            *history(),
            *peppers(),
            *cursors(),
            *sealed("message"),
            *content("MessagesBucket"),
            *emails(),
        ),
    ),
    "agenda": Module(
        (*SPACE_ENV, "SENDER_EMAIL"),
        (
            *table(*READ),
            *history(),
            *table(*READ, *APPEND, "DeleteItem", "BatchWriteItem", index=True, of="AgendaTable"),
            *app_connections(),
            *peppers(),
            *cursors(),
            *emails(),
        ),
    ),
    # Legacy DMP migrations: their items, counts and rejects, in their own table (rejects' cursors
    # sealed), a look at the prefix, the start of the import state machine. Never a space, a
    # document, an account or the peppers that find one.
    "migration": Module(
        ("CURSOR_SECRET_ID", "IMPORT_BUCKET", "LEGACY_IMPORT_STATE_MACHINE_ARN"),
        (
            *table("GetItem", "Query", "PutItem", "DeleteItem", of="MigrationTable"),
            *cursors(),
            allow("ImportListing", ["s3:ListBucket"], [arn("ImportBucket")]),
            allow("ImportStart", ["states:StartExecution"], [ref("LegacyImportStateMachine")]),
        ),
    ),
}

# ---- Functions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """A stack parameter: its default fits a new AWS account; a stage's file (infra/stages/) sets its own."""

    name: str
    default: int
    description: str


@dataclass(frozen=True)
class Stream:
    """A DynamoDB stream event source: the table, and the records Lambda lets through (its
    FilterCriteria patterns: nothing else invokes the function)."""

    table: str  # template logical id
    patterns: tuple[dict[str, Any], ...]
    retries: int = 10  # tries of a failing batch before it is given up (halved each time)


@dataclass(frozen=True)
class Function:
    module: str
    name: str  # the Lambda function is mes-<stage>-<name>
    memory: int  # MB; CPU grows with it (1,769 MB = one vCPU)
    timeout: int  # seconds
    # Reserved concurrency: that many always available to the function, never more, taken from the
    # account's quota (of which Lambda keeps 100 unreserved; a new account may have only 10): 0, none.
    reserved: Parameter | None = None
    most: Parameter | int | None = None  # an SQS source's MaximumConcurrency: a cap, no quota taken
    trigger: str | None = None  # the queue of an SQS event source (template logical id)
    stream: Stream | None = None  # a DynamoDB stream event source
    environment: tuple[str, ...] = ()  # beyond the module's
    statements: tuple[dict[str, Any], ...] = field(default=())  # beyond the module's
    alone: bool = False  # none of its module's permissions nor variables: only its own
    named_role: bool = False  # its role named mes-<stage>-<name>, for a key policy to name it


def api_reserved(module: str) -> Parameter:
    return Parameter(
        f"{module.title()}Concurrency",
        0,
        f"Reserved concurrency of the {module} API function: at most this many of its requests at "
        "once, and always this many available to it whatever the other modules do; 0: none reserved.",
    )


PURGES_AT_ONCE = 2  # closures are rare; the queue holds the rest (SQS's least MaximumConcurrency)


def _api(module: str, memory: int, timeout: int) -> tuple[str, Function]:
    return f"{module.title()}Api", Function(module, module, memory, timeout, reserved=api_reserved(module))


def _hourly(module: str, memory: int = 512) -> tuple[str, Function]:
    # Nothing reserved: a run ends within 900 s, before the next hour's starts.
    return f"{module.title()}Hourly", Function(module, f"{module}-hourly", memory, 900)


def _purge(module: str, timeout: int) -> tuple[str, Function]:
    queue = f"Purge{module.title()}Queue"
    return f"Purge{module.title()}", Function(
        module, f"{module}-purge", 512, timeout, most=PURGES_AT_ONCE, trigger=queue
    )


# Keyed by logical id: Chalice's for the event handlers (its name of the handler), <Module>Api for
# the functions infra/package.py makes out of Chalice's one API handler. Why each size: infra/README.md.
FUNCTIONS: dict[str, Function] = dict(
    [
        _api("platform", 512, 10),
        _api("enrolment", 1024, 29),
        _api("access", 512, 10),
        _api("activity", 1024, 29),
        _api("documents", 1769, 29),
        _api("profile", 512, 10),
        _api("catalogue", 512, 10),
        _api("export", 1024, 29),
        (
            "MessagingApi",
            Function(
                "messaging",
                "messaging",
                1769,
                29,
                reserved=api_reserved("messaging"),
                statements=tuple(raw_emails()),  # the patient's answer by mail: this function only
            ),
        ),
        _api("agenda", 512, 10),
        _api("migration", 512, 10),
        _api("fhir", 1769, 29),
        (
            "OnTimer",
            Function(
                "enrolment",
                "enrolment-timers",
                1024,
                900,  # Lambda's most: a run hands over a minute before (events.HANDOVER_MARGIN_SECONDS)
                most=Parameter(
                    "TimerConcurrency",
                    16,
                    "Most timer runs at once (a cohort step runs one per shard: chalicelib/enrolment/"
                    "store.py COHORT_SHARDS). Each run notifies from 8 workers (chalicelib/core/"
                    "concurrency.py), each ~10-20 people a second: keep TimerConcurrency x 8 x 20 "
                    "under the account's SES sending rate, or lower this.",
                ),
                trigger="TimersQueue",
                environment=("TIMERS_QUEUE_URL",),
                statements=tuple(sends_to("TimersQueue")),  # one message per shard; the hand-over
            ),
        ),
        (
            "LegacyImport",
            Function(
                "documents",
                "documents-legacy-import",
                2048,  # more than one vCPU: 8 archives checked and encrypted side by side
                300,  # a batch of 100 archives (the state machine's ItemBatcher)
                most=Parameter(
                    "LegacyImportConcurrency",
                    50,
                    "Most legacy import batches at once: keep it at the legacy import state "
                    "machine's MaxConcurrency (infra/statemachines/legacy_import.asl.json).",
                ),
                trigger="ImportQueue",
                environment=("IMPORT_BUCKET",),
                statements=(
                    # One BatchGetItem reads all an archive's import needs (documents/store.py
                    # import_state); the space-open check sits in its transaction.
                    allow("ImportReads", ["dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem"], [arn("Table")]),
                    # Its migration's progress, in the transactions that import or refuse each
                    # archive: counters, rejects, "archive counted" markers (read in the same batch).
                    *table("BatchGetItem", "PutItem", "UpdateItem", of="MigrationTable"),
                    # Which of an archive's documents are in the space already, and the history's
                    # head: the same batch.
                    allow("ImportMarkers", ["dynamodb:BatchGetItem"], [arn("DocumentsTable"), arn("HistoryTable")]),
                    # ListBucket: without it a missing archive answers 403, not NoSuchKey.
                    allow("ImportArchives", ["s3:GetObject"], [sub("${ImportBucket.Arn}/*")]),
                    allow("ImportArchivesListing", ["s3:ListBucket"], [arn("ImportBucket")]),
                    allow("ImportArchivesKey", ["kms:Decrypt"], [KEY], via("s3", {"aws:s3:arn": arn("ImportBucket")})),
                    # IAM cannot scope the task tokens of a service integration: Resource "*".
                    allow("ImportAnswers", ["states:SendTaskSuccess", "states:SendTaskFailure"], ["*"]),
                ),
            ),
        ),
        (
            # MSSanté mail (docs/api.md § MSSanté): invoked by SES's receipt rule (infra/mail.yaml)
            # once the raw message is in the inbound bucket.
            "MessagingInbound",
            Function(
                "messaging",
                "messaging-inbound",
                1769,  # a 10 MB message parsed, its attachments encrypted
                60,
                environment=("INBOUND_MAIL_BUCKET",),
                # a refusal, deployed: a delivery status notification to the sender
                statements=(*inbound_mail(), *raw_emails("MailRefusals")),
            ),
        ),
        (
            # The national MSSanté directory's extract into the directory table, nightly: the
            # extract read, the table written in batches; nothing else of the module.
            "MessagingDirectoryImport",
            Function(
                "messaging",
                "messaging-directory-import",
                1024,
                900,  # ~800,000 mailboxes in batches of 25
                environment=("DIRECTORY_BUCKET",),
                statements=(
                    *table("BatchWriteItem", of="DirectoryTable"),
                    allow("DirectoryExtract", ["s3:GetObject"], [sub("${DirectoryBucket.Arn}/*")]),
                    # ListBucket: without it a missing extract answers 403, not NoSuchKey.
                    allow("DirectoryExtractListing", ["s3:ListBucket"], [arn("DirectoryBucket")]),
                    allow(
                        "DirectoryExtractKey", ["kms:Decrypt"], [KEY], via("s3", {"aws:s3:arn": arn("DirectoryBucket")})
                    ),
                ),
                alone=True,
            ),
        ),
        _hourly("enrolment"),
        _hourly("documents"),
        _hourly("messaging"),
        _hourly("agenda"),
        _purge("documents", 900),
        _purge("messaging", 900),
        _purge("profile", 120),
        _purge("catalogue", 120),
        _purge("agenda", 120),
        (
            # The history's signer (docs/decisions/0006-signed-history-heads.md): the one role the
            # heads key lets sign (infra/template.yaml HeadsKey), fed the history table's head changes only.
            "SignHeads",
            Function(
                "activity",
                "activity-signer",
                512,
                60,
                stream=Stream(
                    "HistoryTable",
                    (
                        {
                            "eventName": ["INSERT", "MODIFY"],
                            "dynamodb": {"Keys": {"sk": {"S": ["SPACE#ACTIVITY_HEAD"]}}},
                        },
                    ),
                ),
                environment=("HEADS_BUCKET", "HEADS_KEY_ID"),
                statements=(
                    allow(
                        "ChainReads",
                        ["dynamodb:Query"],
                        [arn("HistoryTable")],
                        {
                            "ForAllValues:StringEquals": {"dynamodb:Attributes": list(CHAIN_ATTRIBUTES)},
                            "StringEquals": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
                        },
                    ),
                    allow(
                        "HeadsSign",
                        ["kms:Sign"],
                        [arn("HeadsKey")],
                        {"StringEquals": {"kms:SigningAlgorithm": "ECDSA_SHA_256"}},
                    ),
                    allow("SignedHeadsListing", ["s3:ListBucket"], [arn("HeadsBucket")]),
                    allow("SignedHeadsPut", ["s3:PutObject"], [sub("${HeadsBucket.Arn}/*")]),
                ),
                alone=True,
                named_role=True,
            ),
        ),
    ]
)

# SQS sources: AWS advises a visibility timeout of at least 6 times the function's timeout.
VISIBILITY_PER_TIMEOUT = 6

# Checks of checkov's that do not apply to these functions (infra/package.py writes them into each
# function's Metadata, where checkov reads its skips).
FUNCTION_CHECKOV_SKIPS = {
    "CKV_AWS_115": "Reserved concurrency is taken from the account's quota: a stage reserves it through its "
    "parameters (infra/stages/), none by default; SQS sources are capped by MaximumConcurrency.",
    "CKV_AWS_116": "No dead-letter queue on the function: API calls are synchronous (the caller gets "
    "the error), SQS sources have their queue's, schedules are redone by the next run.",
    "CKV_AWS_117": "No VPC: the function reaches only AWS APIs, over TLS, each allowed by its role; "
    "there is no private resource to reach.",
}


def role_statements(logical_id: str) -> list[dict[str, Any]]:
    """Everything one function's role allows: its module's, its own, its trigger's, its logs,
    traces and environment."""
    function = FUNCTIONS[logical_id]
    statements = [
        allow("Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], [arn(f"{logical_id}Logs")]),
        # X-Ray's actions take no resource.
        allow("Traces", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]),
        # The function's environment is encrypted with the stack's key (KmsKeyArn).
        allow("EnvironmentKey", ["kms:Decrypt"], [KEY], via("lambda")),
        *(() if function.alone else MODULES[function.module].statements),
        *function.statements,
    ]
    if function.trigger:
        statements += receives_from(function.trigger)
    if function.stream:
        statements += reads_stream(function.stream.table)
    return statements


# Every function's, beside the stack's: no pydantic plugin is used, and looking for them reads the
# metadata of every installed package when the first model is built (a cold start's cost).
RUNTIME_ENVIRONMENT = {"PYDANTIC_DISABLE_PLUGINS": "__all__"}


def environment(logical_id: str) -> dict[str, Any]:
    function = FUNCTIONS[logical_id]
    names = ("STAGE", *(() if function.alone else MODULES[function.module].environment), *function.environment)
    return {**RUNTIME_ENVIRONMENT, **{name: STACK_ENVIRONMENT[name] for name in names}}
