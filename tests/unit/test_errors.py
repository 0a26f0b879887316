"""AWS failures translated in one place (core/errors.py): an AWS error without a parsed answer
(a timeout, a closed connection: botocore's ``response`` is None) is read safely, and answers 503
in the contract's shape; anything else unforeseen is a 500."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from chalicelib.core.errors import cancellation_reasons, is_condition_failure, unexpected

URL = "https://dynamodb.eu-west-3.amazonaws.com/"


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "..."}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "TransactWriteItems",
    )


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(endpoint_url=URL),
        EndpointConnectionError(endpoint_url=URL),
        ConnectionClosedError(endpoint_url=URL),
        client_error("ThrottlingException"),
        client_error("InternalServerError", 500),
    ],
    ids=["read-timeout", "no-connection", "connection-closed", "throttled", "aws-500"],
)
def test_an_aws_service_that_did_not_answer_is_503(error):
    assert not is_condition_failure(error) and cancellation_reasons(error) == []
    answer = unexpected(error)
    assert (answer.status, answer.code) == (503, "service_unavailable")
    assert set(answer.body()["error"]) == {"code", "message"}


@pytest.mark.parametrize("error", [RuntimeError("boom"), client_error("ValidationException"), AttributeError("x")])
def test_anything_else_unforeseen_is_500(error):
    assert (unexpected(error).status, unexpected(error).code) == (500, "internal_error")


def test_a_cancelled_transaction_is_a_condition_failure():
    cancelled = ClientError(
        {
            "Error": {"Code": "TransactionCanceledException"},
            "CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}],
        },
        "TransactWriteItems",
    )
    assert is_condition_failure(cancelled) and cancellation_reasons(cancelled) == ["None", "ConditionalCheckFailed"]
