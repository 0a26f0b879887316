"""What the template promises that the local stack cannot show (see devstack/provision.py)."""

import json

from infra.render import render
from infra.tables import MODULE_TABLES


def _resources(kind: str) -> dict[str, dict]:
    return {name: r["Properties"] for name, r in render()["Resources"].items() if r["Type"] == kind}


def test_every_bucket_refuses_plain_http():
    policies = _resources("AWS::S3::BucketPolicy")
    assert {policy["Bucket"]["Ref"] for policy in policies.values()} == set(_resources("AWS::S3::Bucket"))
    for policy in policies.values():
        statement = policy["PolicyDocument"]["Statement"][0]  # the first: TLS only
        assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_buckets_are_private_and_those_holding_health_data_kms_encrypted_and_logged():
    buckets = _resources("AWS::S3::Bucket")
    assert set(buckets) == {
        "DocumentsBucket",
        "MessagesBucket",
        "ImportBucket",
        "AccessLogsBucket",
        "HeadsBucket",
        "InboundMailBucket",
        "DirectoryBucket",
    }
    for bucket in buckets.values():
        assert all(bucket["PublicAccessBlockConfiguration"].values())
    for name in ("DocumentsBucket", "MessagesBucket", "ImportBucket", "InboundMailBucket", "DirectoryBucket"):
        bucket = buckets[name]
        (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"] == {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": {"Fn::GetAtt": ["DataKey", "Arn"]},
        }
        assert bucket["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogsBucket"}
    for name in ("DocumentsBucket", "MessagesBucket", "HeadsBucket", "InboundMailBucket"):
        assert buckets[name]["VersioningConfiguration"] == {"Status": "Enabled"}


def test_raw_inbound_mail_is_written_by_ses_receipt_rules_only_and_gone_within_a_day():
    """docs/api.md § MSSanté: the raw message does not outlive its delivery (the function deletes
    it); the lifecycle takes what a failure would leave."""
    bucket = _resources("AWS::S3::Bucket")["InboundMailBucket"]
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 1 and rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    policy = _resources("AWS::S3::BucketPolicy")["InboundMailBucketPolicy"]["PolicyDocument"]["Statement"]
    (ses,) = [s for s in policy if s["Effect"] == "Allow"]
    assert ses["Principal"] == {"Service": "ses.amazonaws.com"} and ses["Action"] == "s3:PutObject"
    assert ses["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert "receipt-rule-set/mes-${Stage}-mssante" in ses["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"]


def test_signed_heads_are_kept_ten_years_in_compliance_mode_and_logged():
    """The record's archive duration; no role, root included, can shorten it (compliance)."""
    heads = _resources("AWS::S3::Bucket")["HeadsBucket"]
    assert heads["ObjectLockEnabled"] is True
    assert heads["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 10}},
    }
    assert heads["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogsBucket"}
    (rule,) = heads["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}  # no personal content in it


def test_key_rotates_and_tables_are_recoverable():
    key = _resources("AWS::KMS::Key")["DataKey"]
    assert key["EnableKeyRotation"] is True
    tables = _resources("AWS::DynamoDB::Table")
    assert set(tables) == {"Table", *MODULE_TABLES}
    for table in tables.values():
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert table["SSESpecification"] == {
            "SSEEnabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": {"Fn::GetAtt": ["DataKey", "Arn"]},
        }
        assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}


def test_the_layout_names_the_tables_the_template_declares():
    from chalicelib.core.data import layout

    assert set(layout.MODULE_TABLES) == set(MODULE_TABLES.values())


def test_state_machines_carry_their_asl():
    machines = _resources("AWS::StepFunctions::StateMachine")
    assert machines["EnrolmentCohortStateMachine"]["Definition"]["StartAt"] == "WaitForReminder"
    legacy = machines["LegacyImportStateMachine"]["Definition"]
    import_map = legacy["States"][legacy["StartAt"]]
    assert import_map["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert import_map["ItemReader"]["Resource"] == "arn:aws:states:::s3:listObjectsV2"
    assert import_map["ItemBatcher"]["MaxItemsPerBatch"] > 1
    (task,) = import_map["ItemProcessor"]["States"].values()
    assert task["Resource"] == "arn:aws:states:::sqs:sendMessage.waitForTaskToken"


def test_the_import_queue_outlasts_six_runs_of_its_function():
    from infra.functions import FUNCTIONS, VISIBILITY_PER_TIMEOUT

    (importer,) = [f for f in FUNCTIONS.values() if f.trigger == "ImportQueue"]
    queue = _resources("AWS::SQS::Queue")["ImportQueue"]
    assert queue["VisibilityTimeout"] >= VISIBILITY_PER_TIMEOUT * importer.timeout
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["ImportDeadLetterQueue", "Arn"]}


def test_the_legacy_import_role_lists_queues_and_marks_done_only():
    role = _resources("AWS::IAM::Role")["LegacyImportRole"]
    (policy,) = role["Policies"]
    granted = {
        (action, json.dumps(s["Resource"], sort_keys=True))
        for s in policy["PolicyDocument"]["Statement"]
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    actions = {action for action, _ in granted}
    assert actions == {
        "s3:ListBucket",
        "sqs:SendMessage",
        "kms:GenerateDataKey",
        "kms:Decrypt",
        "dynamodb:UpdateItem",
        "states:StartExecution",
        "states:DescribeExecution",
        "states:StopExecution",
    }
    assert ("s3:ListBucket", json.dumps({"Fn::GetAtt": ["ImportBucket", "Arn"]})) in granted
    assert ("dynamodb:UpdateItem", json.dumps({"Fn::GetAtt": ["MigrationTable", "Arn"]})) in granted


def test_moto_runs_the_same_definition_with_batches_of_one():
    """moto's ASL parser lacks ItemBatcher: each item becomes a batch of one, of the same shape."""
    from devstack.provision import for_moto

    definition = render()["Resources"]["LegacyImportStateMachine"]["Properties"]["Definition"]
    batcher = definition["States"]["ImportArchives"]["ItemBatcher"]
    local = for_moto(json.loads(json.dumps(definition)))["States"]["ImportArchives"]
    assert "ItemBatcher" not in local
    assert local["ItemSelector"] == {"Items.$": "States.Array($$.Map.Item.Value)", "BatchInput": batcher["BatchInput"]}
    assert local["ItemProcessor"] == definition["States"]["ImportArchives"]["ItemProcessor"]
