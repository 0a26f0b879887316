"""Domain errors carrying the contract's status and code (API.md § Errors).

Services raise these; the HTTP layer turns them into ``{"error": {...}}``. AWS ``ClientError``
codes are translated here too, in one place.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 400
    code = "invalid_request"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def _error(name: str, status: int, code: str) -> type[ApiError]:
    return type(name, (ApiError,), {"status": status, "code": code})


InvalidRequest = _error("InvalidRequest", 400, "invalid_request")
InvalidIns = _error("InvalidIns", 400, "invalid_ins")
InvalidRpps = _error("InvalidRpps", 400, "invalid_rpps")
Unauthenticated = _error("Unauthenticated", 401, "unauthenticated")
Forbidden = _error("Forbidden", 403, "forbidden")
InvalidCode = _error("InvalidCode", 403, "invalid_code")
NotFound = _error("NotFound", 404, "not_found")
MethodNotAllowed = _error("MethodNotAllowed", 405, "method_not_allowed")
Conflict = _error("Conflict", 409, "conflict")
PayloadTooLarge = _error("PayloadTooLarge", 413, "payload_too_large")
UnsupportedMediaType = _error("UnsupportedMediaType", 415, "unsupported_media_type")
TooManyAttempts = _error("TooManyAttempts", 429, "too_many_attempts")


class InternalError(ApiError):
    status = 500
    code = "internal_error"


def is_condition_failure(error: Exception) -> bool:
    """True when a DynamoDB conditional write (or a transaction) lost its condition."""
    code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
    return code in {"ConditionalCheckFailedException", "TransactionCanceledException"}


def cancellation_reasons(error: Exception) -> list[str]:
    """The per-item codes of a cancelled DynamoDB transaction ("None" for items that passed)."""
    reasons = getattr(error, "response", {}).get("CancellationReasons", [])
    return [reason.get("Code", "None") for reason in reasons]
