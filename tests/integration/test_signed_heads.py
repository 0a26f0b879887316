"""Signed heads of the activity history (docs/decisions/0006-signed-history-heads.md): the signer
fed by the table's stream, the heads kept under Object Lock, `verify` checking from the newest
signed head; a past rewritten (chain recomputed), removed or reordered, or a head not signed by
the signing key, all reported."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.core.history import chain, heads, journal
from chalicelib.core.models import ActorRef
from chalicelib.core.settings import settings
from devstack.workers import drain_stream
from tests.conftest import captured
from tests.permissions import FUNCTION

DOCTOR = ActorRef(role="professional", id="10000000009")


def _table():
    return boto3.resource("dynamodb", region_name="eu-west-3").Table(settings().module_table("history"))


def _s3():
    return boto3.client("s3", region_name="eu-west-3")


def _record(patient_id: str, count: int) -> None:
    for n in range(count):
        journal.record(patient_id, DOCTOR, "document.read", f"doc_{n}")


def _verify(api, patient_id: str, patient: str, full: bool = False) -> dict:
    query = "?full=true" if full else ""
    response = api.get(f"/v1/patients/{patient_id}/activity/verify{query}", token=patient)
    assert response.status_code == 200, response.json_body
    return response.json_body


def _event(patient_id: str, seq: int) -> dict:
    return _table().get_item(Key={"pk": f"PAT#{patient_id}", "sk": f"ACT#{seq:012d}"}, ConsistentRead=True)["Item"]


def _rewrite_from(patient_id: str, seq: int, events: list[dict]) -> None:
    """Writes ``events`` from ``seq`` on with the chain recomputed after them, head included: what
    a role that can write the table could do."""
    prev_hash = _event(patient_id, seq - 1)["hash"] if seq > 1 else chain.GENESIS
    for n, event in enumerate(events, start=seq):
        event = {**event, "seq": n, "prev_hash": prev_hash}
        event["hash"] = prev_hash = chain.event_hash(prev_hash, event)
        _table().put_item(Item={**event, "pk": f"PAT#{patient_id}", "sk": f"ACT#{n:012d}"})
    _table().update_item(
        Key={"pk": f"PAT#{patient_id}", "sk": "SPACE#ACTIVITY_HEAD"},
        UpdateExpression="SET seq = :seq, #hash = :hash",
        ExpressionAttributeNames={"#hash": "hash"},
        ExpressionAttributeValues={":seq": seq + len(events) - 1, ":hash": prev_hash},
    )


def _stored_head(patient_id: str) -> dict:
    head = journal.get_head(patient_id)
    assert head is not None
    return head


def _tail(patient_id: str, first: int) -> list[dict]:
    head = _stored_head(patient_id)
    return [_event(patient_id, n) for n in range(first, int(head["seq"]) + 1)]


@pytest.fixture
def signed_space(api, enrolment):
    """A space of 7 events (invited, activated, 5 reads) whose head is signed."""

    def set_up() -> tuple[str, str]:
        patient_id, patient = enrolment.active_patient()
        _record(patient_id, 5)
        assert drain_stream() >= 1
        return patient_id, patient

    return captured((__name__, "signed_space"), set_up)


def test_the_signer_signs_the_newest_head_and_verify_starts_there(api, signed_space):
    patient_id, patient = signed_space
    listed = _s3().list_objects_v2(Bucket=settings().heads_bucket, Prefix=f"heads/{patient_id}/")["Contents"]
    newest = listed[0]["Key"]
    body = json.loads(_s3().get_object(Bucket=settings().heads_bucket, Key=newest)["Body"].read())
    assert set(body) == {"patient_id", "seq", "hash", "signed_at", "key_id", "algorithm", "signature"}
    assert (body["patient_id"], body["seq"], body["hash"]) == (patient_id, 7, _stored_head(patient_id)["hash"])
    assert body["algorithm"] == "ECDSA_SHA_256" and body["key_id"] == settings().heads_key_id
    assert newest == f"heads/{patient_id}/{10**12 - 1 - 7:012d}-{body['hash']}.json"
    # Only the signed event itself is read again: one event checked, the patient's to see.
    assert _verify(api, patient_id, patient) == {"valid": True, "events": 1, "signed": True}
    _record(patient_id, 2)
    assert _verify(api, patient_id, patient) == {"valid": True, "events": 3, "signed": True}
    drain_stream()
    assert heads.latest(patient_id) == heads.SignedHead(9, _stored_head(patient_id)["hash"])


def test_without_a_signed_head_the_whole_chain_is_checked(api, enrolment):
    patient_id, patient = enrolment.active_patient()
    _record(patient_id, 3)
    assert _verify(api, patient_id, patient) == {"valid": True, "events": 5, "signed": False}


@pytest.mark.parametrize("signed_too", [False, True])
def test_events_appended_while_verify_runs_are_no_false_alarm(api, signed_space, monkeypatch, signed_too):
    """Found in the devstack: verify read the stored head, then the signed one; events appended
    (and signed) in between made the stored head look behind the signed one, or the chain's end
    look broken. Now the stored head is read after the signed one, the events up to it only."""
    patient_id, patient = signed_space
    latest = heads.latest

    def appends_meanwhile(space: str):
        found = latest(space)
        elsewhere = FUNCTION.set(None)  # other functions' work, not the activity function's
        try:
            _record(space, 2)  # a professional reads documents as the check runs
            if signed_too:
                drain_stream()
        finally:
            FUNCTION.reset(elsewhere)
        return found

    monkeypatch.setattr(heads, "latest", appends_meanwhile)
    assert _verify(api, patient_id, patient)["valid"] is True


def test_an_event_rewritten_with_the_chain_recomputed_after_it_is_reported(api, signed_space):
    patient_id, patient = signed_space
    forged = [{**event, "actor_id": "99999999999"} if event["seq"] == 4 else event for event in _tail(patient_id, 4)]
    _rewrite_from(patient_id, 4, forged)
    assert _verify(api, patient_id, patient)["valid"] is False
    # The signer refuses to sign the rewritten head once the chain moves on from it: it signs a
    # broken mark instead, and signs nothing after it.
    _record(patient_id, 1)
    assert drain_stream() == 0
    assert heads.latest(patient_id) == heads.SignedHead(8, heads.BROKEN)
    _record(patient_id, 1)
    assert drain_stream() == 0
    assert heads.latest(patient_id) == heads.SignedHead(8, heads.BROKEN)
    assert _verify(api, patient_id, patient) == {"valid": False, "events": 0, "signed": True}
    assert _verify(api, patient_id, patient, full=True)["valid"] is False


def test_events_rewritten_before_they_are_signed_are_reported(api, signed_space):
    """The window before the signer: events appended, then rewritten with the chain and the head
    recomputed before the stream is read. The stream kept each head as it was appended, and the
    rewritten chain no longer holds them."""
    patient_id, patient = signed_space
    _record(patient_id, 3)  # events 8, 9, 10, not signed yet
    forged = [{**event, "actor_id": "99999999999"} if event["seq"] == 9 else event for event in _tail(patient_id, 9)]
    _rewrite_from(patient_id, 9, forged)
    assert _verify(api, patient_id, patient)["valid"] is True  # the forged tail chains to the stored head
    assert drain_stream() == 0
    assert heads.latest(patient_id) == heads.SignedHead(10, heads.BROKEN)
    assert _verify(api, patient_id, patient)["valid"] is False


def test_the_full_check_reads_every_event_and_holds_on_an_untouched_history(api, signed_space):
    patient_id, patient = signed_space
    _record(patient_id, 2)  # two events after the signed head
    assert _verify(api, patient_id, patient, full=True) == {"valid": True, "events": 9, "signed": True}
    assert _verify(api, patient_id, patient) == {"valid": True, "events": 3, "signed": True}


def test_an_event_before_the_signed_head_edited_alone_is_found_by_the_full_check(api, signed_space):
    """Edited in place, its stored hash kept: every hash the incremental check reads is untouched,
    so only rehashing from the genesis finds it (docs/decisions/0006-signed-history-heads.md)."""
    patient_id, patient = signed_space
    _table().update_item(
        Key={"pk": f"PAT#{patient_id}", "sk": f"ACT#{3:012d}"},
        UpdateExpression="SET actor_id = :other",
        ExpressionAttributeValues={":other": "99999999999"},
    )
    assert _verify(api, patient_id, patient)["valid"] is True  # what the signed head vouches for is not reread
    assert _verify(api, patient_id, patient, full=True)["valid"] is False


def test_the_full_check_finds_a_past_rewritten_whole_up_to_the_stored_head(api, signed_space):
    """Every hash recomputed from event 2 to the stored head: a chain valid in itself, which no
    longer passes through the signed head."""
    patient_id, patient = signed_space
    _rewrite_from(patient_id, 2, [{**event, "actor_id": "99999999999"} for event in _tail(patient_id, 2)])
    assert _verify(api, patient_id, patient, full=True)["valid"] is False


@pytest.mark.parametrize("full", ["yes please", "2", ""])
def test_the_full_flag_takes_a_boolean_only(api, signed_space, full):
    patient_id, patient = signed_space
    response = api.get(f"/v1/patients/{patient_id}/activity/verify?full={full}", token=patient)
    assert response.status_code == 400, response.json_body
    assert response.json_body["error"]["details"][0]["field"] == "full"


def test_an_event_removed_is_reported(api, signed_space):
    patient_id, patient = signed_space
    kept = [event for event in _tail(patient_id, 3) if event["seq"] != 3]
    _table().delete_item(Key={"pk": f"PAT#{patient_id}", "sk": f"ACT#{7:012d}"})
    _rewrite_from(patient_id, 3, kept)
    assert _verify(api, patient_id, patient)["valid"] is False


def test_two_events_swapped_are_reported(api, signed_space):
    patient_id, patient = signed_space
    tail = _tail(patient_id, 5)
    tail[0], tail[1] = tail[1], tail[0]
    _rewrite_from(patient_id, 5, tail)
    assert _verify(api, patient_id, patient)["valid"] is False


def test_a_stored_head_behind_the_signed_one_is_reported(api, signed_space):
    patient_id, patient = signed_space
    for seq in (7, 6):
        _table().delete_item(Key={"pk": f"PAT#{patient_id}", "sk": f"ACT#{seq:012d}"})
    _table().update_item(
        Key={"pk": f"PAT#{patient_id}", "sk": "SPACE#ACTIVITY_HEAD"},
        UpdateExpression="SET seq = :seq, #hash = :hash",
        ExpressionAttributeNames={"#hash": "hash"},
        ExpressionAttributeValues={":seq": 5, ":hash": _event(patient_id, 5)["hash"]},
    )
    assert _verify(api, patient_id, patient)["valid"] is False
    assert drain_stream() == 0  # and the head moved back is not signed


def test_a_head_signed_by_another_key_is_refused(api, signed_space):
    """History rewritten from event 2 and one event more, and a head for it signed with a key of
    the attacker's: were it trusted, the chain from it would check."""
    patient_id, patient = signed_space
    tail = _tail(patient_id, 2)
    _rewrite_from(
        patient_id, 2, [{**event, "actor_id": "99999999999"} for event in tail] + [{**tail[-1], "event_id": "evt_more"}]
    )
    head = _stored_head(patient_id)
    forged = heads.SignedHead(int(head["seq"]), head["hash"])
    assert forged.seq == 8
    kms = boto3.client("kms", region_name="eu-west-3")
    other = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    signature = kms.sign(
        KeyId=other, Message=heads.canonical(patient_id, forged), MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256"
    )
    body = {
        "patient_id": patient_id,
        "seq": forged.seq,
        "hash": forged.hash,
        "signed_at": "2026-01-01T00:00:00Z",
        "key_id": other,
        "algorithm": "ECDSA_SHA_256",
        "signature": base64.b64encode(signature["Signature"]).decode(),
    }
    _s3().put_object(
        Bucket=settings().heads_bucket,
        Key=heads.object_key(patient_id, forged),
        Body=json.dumps(body).encode(),
        ChecksumAlgorithm="SHA256",
    )
    assert (
        heads.object_key(patient_id, forged)
        == _s3().list_objects_v2(Bucket=settings().heads_bucket, Prefix=f"heads/{patient_id}/", MaxKeys=1)["Contents"][
            0
        ]["Key"]
    )
    assert _verify(api, patient_id, patient) == {"valid": False, "events": 0, "signed": False}


def test_a_signed_head_cannot_be_deleted_nor_overwritten_under_retention(api, signed_space):
    patient_id, _ = signed_space
    bucket = settings().heads_bucket
    key = _s3().list_objects_v2(Bucket=bucket, Prefix=f"heads/{patient_id}/")["Contents"][0]["Key"]
    version = _s3().head_object(Bucket=bucket, Key=key)
    assert version["ObjectLockMode"] == "COMPLIANCE"
    assert version["ObjectLockRetainUntilDate"].year >= 2026 + 9
    with pytest.raises(ClientError, match="AccessDenied"):
        _s3().delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
    with pytest.raises(ClientError, match="AccessDenied"):
        _s3().delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"], BypassGovernanceRetention=True)
    # A put under the same key makes a new version: the signed one stays, readable as it was.
    _s3().put_object(Bucket=bucket, Key=key, Body=b"{}", ChecksumAlgorithm="SHA256")
    kept = _s3().get_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
    assert json.loads(kept["Body"].read())["seq"] == 7
