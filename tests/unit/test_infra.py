"""What the template promises that the local stack cannot show (see devstack/provision.py)."""

from infra.render import render


def _resources(kind: str) -> list[dict]:
    return [r["Properties"] for r in render()["Resources"].values() if r["Type"] == kind]


def test_every_bucket_refuses_plain_http():
    policies = _resources("AWS::S3::BucketPolicy")
    assert len(policies) == len(_resources("AWS::S3::Bucket"))
    for policy in policies:
        statement = policy["PolicyDocument"]["Statement"][0]
        assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_content_buckets_are_private_versioned_kms_encrypted_and_logged():
    # mes-<stage>-<kind>-<account>
    buckets = {b["BucketName"]["Fn::Sub"].split("-")[2]: b for b in _resources("AWS::S3::Bucket")}
    assert set(buckets) == {"documents", "messages", "access"}
    for kind in ("documents", "messages"):
        bucket = buckets[kind]
        assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
        assert all(bucket["PublicAccessBlockConfiguration"].values())
        (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        assert bucket["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogsBucket"}
    assert all(buckets["access"]["PublicAccessBlockConfiguration"].values())


def test_key_rotates_and_table_is_recoverable():
    (key,) = _resources("AWS::KMS::Key")
    assert key["EnableKeyRotation"] is True
    (table,) = _resources("AWS::DynamoDB::Table")
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["SSEType"] == "KMS"


def test_state_machines_carry_their_asl():
    (machine,) = _resources("AWS::StepFunctions::StateMachine")
    assert machine["Definition"]["StartAt"] == "WaitForReminder"
