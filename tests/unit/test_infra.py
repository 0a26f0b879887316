"""What the template promises that the local stack cannot show (see devstack/provision.py)."""

from infra.render import render


def _resources(kind: str) -> list[dict]:
    return [r["Properties"] for r in render()["Resources"].values() if r["Type"] == kind]


def test_content_buckets_refuse_plain_http():
    policies = _resources("AWS::S3::BucketPolicy")
    assert len(policies) == len(_resources("AWS::S3::Bucket"))  # one per bucket
    for policy in policies:
        (statement,) = policy["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_content_buckets_are_private_versioned_and_kms_encrypted():
    for bucket in _resources("AWS::S3::Bucket"):
        assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
        assert all(bucket["PublicAccessBlockConfiguration"].values())
        (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


def test_key_rotates_and_table_is_recoverable():
    (key,) = _resources("AWS::KMS::Key")
    assert key["EnableKeyRotation"] is True
    (table,) = _resources("AWS::DynamoDB::Table")
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["SSEType"] == "KMS"


def test_state_machines_carry_their_asl():
    (machine,) = _resources("AWS::StepFunctions::StateMachine")
    assert machine["Definition"]["StartAt"] == "WaitForReminder"
