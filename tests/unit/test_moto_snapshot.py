"""tests/moto_snapshot.py: after ``restore`` every service is as captured (nothing a test wrote is
left, nothing captured is lost) and keeps working; a moto reset makes the snapshot unusable."""

from __future__ import annotations

import boto3
from moto import mock_aws

from tests.moto_snapshot import Snapshot

REGION = "eu-west-3"


def _world() -> tuple:
    return tuple(boto3.client(name, region_name=REGION) for name in ("dynamodb", "s3", "sqs", "ses"))


def _state(dynamodb, s3, sqs, ses, queue: str) -> dict:
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return {
        "items": sorted(item["pk"]["S"] for item in dynamodb.scan(TableName="t")["Items"]),
        "tables": dynamodb.list_tables()["TableNames"],
        "buckets": [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]],
        "objects": [o["Key"] for o in s3.list_objects_v2(Bucket="kept-bucket").get("Contents", [])],
        "queues": sqs.list_queues().get("QueueUrls", []),
        "messages": sorted(message["Body"] for message in messages),
        "emails": ses.get_send_quota()["SentLast24Hours"],
    }


def test_restore_brings_back_the_captured_world_working():
    with mock_aws():
        dynamodb, s3, sqs, ses = _world()
        dynamodb.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        s3.create_bucket(Bucket="kept-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
        queue = sqs.create_queue(QueueName="q")["QueueUrl"]
        ses.verify_email_identity(EmailAddress="from@example.test")
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "kept"}})
        sqs.send_message(QueueUrl=queue, MessageBody="kept")
        captured = _state(dynamodb, s3, sqs, ses, queue)
        snapshot = Snapshot()

        for round in range(2):  # a snapshot serves any number of tests
            dynamodb.put_item(TableName="t", Item={"pk": {"S": f"written {round}"}})
            dynamodb.delete_item(TableName="t", Key={"pk": {"S": "kept"}})
            dynamodb.create_table(
                TableName=f"new-{round}",
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            )
            s3.put_object(Bucket="kept-bucket", Key="written", Body=b"x")
            s3.create_bucket(Bucket=f"new-bucket-{round}", CreateBucketConfiguration={"LocationConstraint": REGION})
            sqs.send_message(QueueUrl=queue, MessageBody="written")
            sqs.create_queue(QueueName=f"new-{round}")
            ses.send_email(
                Source="from@example.test",
                Destination={"ToAddresses": ["to@example.test"]},
                Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
            )
            assert _state(dynamodb, s3, sqs, ses, queue) != captured

            snapshot.restore()

            assert _state(dynamodb, s3, sqs, ses, queue) == captured
            sqs.send_message(QueueUrl=queue, MessageBody="after")  # a queue's lock and condition are its own
            dynamodb.put_item(TableName="t", Item={"pk": {"S": "after"}})
            assert "after" in _state(dynamodb, s3, sqs, ses, queue)["messages"]
            snapshot.restore()

    with mock_aws():  # a new mock resets moto: the captured backends are gone
        assert not snapshot.restorable()
