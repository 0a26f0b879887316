"""Domain errors carrying the contract's status and code (docs/api.md § Errors).

Services raise these; the HTTP layer turns them into ``{"error": {...}}``. AWS errors are
translated here too, in one place: a lost condition is the services' to interpret
(``is_condition_failure``); an AWS service that did not answer, or answered that it cannot now,
is a 503 (``unexpected``), any other failure a 500, both in the contract's error shape.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 400
    code = "invalid_request"

    def __init__(
        self, message: str, details: list[dict[str, Any]] | None = None, headers: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class InvalidRequest(ApiError):
    status = 400
    code = "invalid_request"


class InvalidIns(ApiError):
    status = 400
    code = "invalid_ins"


class InvalidRpps(ApiError):
    status = 400
    code = "invalid_rpps"


class Unauthenticated(ApiError):
    status = 401
    code = "unauthenticated"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class InvalidCode(ApiError):
    status = 403
    code = "invalid_code"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


class TooManyAttempts(ApiError):
    status = 429
    code = "too_many_attempts"


def foreign_cursor() -> ApiError:
    """A list's cursor that is not this list's, or that its range no longer holds (core.http.pagination)."""
    return InvalidRequest(
        "The cursor is not valid for this list: pass the next_cursor you were given.",
        [{"field": "cursor", "message": "Unknown or foreign cursor."}],
    )


class InternalError(ApiError):
    status = 500
    code = "internal_error"


class ServiceUnavailable(ApiError):
    status = 503
    code = "service_unavailable"


# AWS answers meaning "not now" rather than "no": throttled, or failing on its side.
_AWS_BUSY = {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded", "SlowDown"}


def _aws_response(error: BaseException) -> dict[str, Any]:
    """The parsed AWS answer a botocore error carries: empty when there was none (a timeout, a
    closed connection: botocore's ``response`` is then None) or for any other exception."""
    return getattr(error, "response", None) or {}


def _aws_code(error: BaseException) -> str:
    code: str = _aws_response(error).get("Error", {}).get("Code", "")
    return code


def is_condition_failure(error: BaseException) -> bool:
    """True when a DynamoDB conditional write (or a transaction) lost its condition: refused,
    nothing written."""
    return _aws_code(error) in {"ConditionalCheckFailedException", "TransactionCanceledException"}


def cancellation_reasons(error: BaseException) -> list[str]:
    """The per-item codes of a cancelled DynamoDB transaction ("None" for items that passed)."""
    reasons = _aws_response(error).get("CancellationReasons", [])
    return [reason.get("Code", "None") for reason in reasons]


def _aws_unavailable(error: BaseException) -> bool:
    """An AWS service did not answer (timeout, connection refused or closed) or said it cannot now."""
    from botocore.exceptions import ConnectionError as AwsConnectionError
    from botocore.exceptions import HTTPClientError

    if isinstance(error, (HTTPClientError, AwsConnectionError)):
        return True
    status = _aws_response(error).get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return _aws_code(error) in _AWS_BUSY or status >= 500


def unexpected(error: BaseException) -> ApiError:
    """The contract's answer to a failure no service turned into an ApiError (the caller logs it).
    An unanswered AWS call may still have done its work (a write committed before the read timed
    out): the message says to check before sending again, not to retry blindly."""
    if _aws_unavailable(error):
        return ServiceUnavailable(
            "A service we depend on did not answer in time. If you were saving something, it may have "
            "been saved: check before sending it again."
        )
    return InternalError("Something went wrong on our side. Try again later.")
