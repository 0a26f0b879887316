"""HTTP plumbing shared by every module's routes.

``Router.route`` wraps a Chalice route: it checks the declared access rule (an endpoint without
one cannot be declared: deny by default), verifies the token, validates the body and the query
against pydantic models, shapes the response and every error as in API.md, adds CORS headers and
the request id, and records the operation for the OpenAPI document.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from chalice import Blueprint, Chalice, Response

from chalicelib.core import logs
from chalicelib.core.auth import Principal, from_authorization_header
from chalicelib.core.errors import (
    ApiError,
    Forbidden,
    InternalError,
    InvalidIns,
    InvalidRequest,
    InvalidRpps,
    UnsupportedMediaType,
)
from chalicelib.core.settings import settings

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

# A route's models are given as functions returning them (``lambda: models().DocumentCreate``,
# where ``models()`` imports the module's models): pydantic and the models load on the first
# request that needs them, not at cold start, while a reader and a type checker follow the import.
ModelRef = Callable[[], Any] | None


@dataclass(frozen=True)
class Access:
    """Who may call an endpoint. ``roles`` None means public (no token)."""

    roles: frozenset[str] | None
    description: str

    @property
    def public(self) -> bool:
        return self.roles is None


PUBLIC = Access(None, "public")


def roles(*names: str, note: str = "") -> Access:
    description = ", ".join(names) + (f"; {note}" if note else "")
    return Access(frozenset(names), description)


@dataclass
class Call:
    """What a handler receives: the caller, the validated body and query, the raw request."""

    principal: Principal | None
    body: Any
    query: Any
    request: Any


@dataclass
class Raw:
    """A non-JSON response (document bytes, iCalendar feed)."""

    body: bytes | str
    content_type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def page_query() -> Any:
    """The query model of a plain list (?limit=&cursor=), for routes that take nothing else."""
    from chalicelib.core.pagination import PageQuery

    return PageQuery


def resolve(ref: ModelRef) -> Any:
    """The model a route's reference returns (None when the route has none)."""
    return ref() if ref is not None else None


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    access: Access
    body_ref: ModelRef
    query_ref: ModelRef
    response_ref: ModelRef
    status: int
    raw_content_type: str | tuple[str, ...] | None

    @property
    def body(self) -> Any:
        return resolve(self.body_ref)

    @property
    def query(self) -> Any:
        return resolve(self.query_ref)

    @property
    def response(self) -> Any:
        return resolve(self.response_ref)


OPERATIONS: list[Operation] = []
_PREFLIGHT_PATHS: set[str] = set()
_PATH_PARAM = re.compile(r"{(\w+)}")


def validation_details(error: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    details = []
    for item in error.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in item["loc"]) or prefix.rstrip(".") or "body"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "Unknown field: remove it."
        details.append({"field": f"{prefix}{location}" if item["loc"] else location, "message": message})
    return details


def invalid_input(error: ValidationError, message: str) -> ApiError:
    """A 400 whose code is the identifier's own (invalid_ins / invalid_rpps) when one is the cause."""
    details = validation_details(error)
    codes = {item["type"] for item in error.errors(include_url=False, include_input=False)}
    for identifier_error in (InvalidIns, InvalidRpps):
        if identifier_error.code in codes:
            return identifier_error(message, details)
    return InvalidRequest(message, details)


def _cors_headers(request: Any) -> dict[str, str]:
    origin = (request.headers or {}).get("origin") if request is not None else None
    if origin and origin in settings().cors_allowed_origins:
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Expose-Headers": "X-Request-Id",
            "Vary": "Origin",
        }
    return {}


def json_response(status: int, body: Any, request: Any, headers: dict | None = None) -> Response:
    all_headers = {"Content-Type": "application/json", "X-Request-Id": logs.request_id.get(), **_cors_headers(request)}
    all_headers.update(headers or {})
    return Response(body=json.dumps(body, ensure_ascii=False) if body is not None else "", status_code=status, headers=all_headers)


def error_response(error: ApiError, request: Any) -> Response:
    return json_response(error.status, error.body(), request, error.headers)


def _parse_body(request: Any, model: type[BaseModel]) -> BaseModel:
    from pydantic import ValidationError

    content_type = (request.headers or {}).get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType("Send the body as JSON with 'Content-Type: application/json'.")
    try:
        data = json.loads(request.raw_body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest("The body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise InvalidRequest("The body must be a JSON object.", [{"field": "body", "message": "Expected a JSON object."}])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc, "Some fields are invalid: see details.") from exc


def _parse_query(request: Any, model: type[BaseModel]) -> BaseModel:
    from pydantic import ValidationError

    try:
        return model.model_validate(dict(request.query_params or {}))
    except ValidationError as exc:
        raise invalid_input(exc, "Some query parameters are invalid: see details.") from exc


def _render(result: Any, op: Operation, request: Any) -> Response:
    if isinstance(result, Raw):
        headers = {"Content-Type": result.content_type, "X-Request-Id": logs.request_id.get(), **_cors_headers(request)}
        return Response(body=result.body, status_code=result.status, headers={**headers, **result.headers})
    if result is None:
        return json_response(op.status, None, request)
    if hasattr(result, "model_dump"):
        result = result.model_dump(mode="json")
    return json_response(op.status, result, request)


def authenticate(request: Any, access: Access) -> Principal | None:
    if access.public:
        return None
    principal = from_authorization_header((request.headers or {}).get("authorization"))
    if principal.role not in access.roles:
        raise Forbidden(f"Your role ({principal.role}) may not use this endpoint.")
    return principal


class Router:
    """A module's routes: a Chalice Blueprint plus what the OpenAPI document needs."""

    def __init__(self, import_name: str, tag: str):
        self.blueprint = Blueprint(import_name)
        self.tag = tag

    def route(
        self,
        path: str,
        method: str,
        *,
        access: Access,
        body: ModelRef = None,
        query: ModelRef = None,
        response: ModelRef = None,
        status: int = 200,
        raw_content_type: str | tuple[str, ...] | None = None,
    ) -> Callable:
        if not isinstance(access, Access):
            raise TypeError(f"{method} {path}: declare who may call it (access=...)")
        if any(isinstance(ref, str) for ref in (body, query, response)):
            raise TypeError(f"{method} {path}: give models as functions returning them, not names")

        def register(handler: Callable) -> Callable:
            op = Operation(
                method=method,
                path=path,
                summary=(handler.__doc__ or handler.__name__).strip().splitlines()[0],
                tag=self.tag,
                access=access,
                body_ref=body,
                query_ref=query,
                response_ref=response,
                status=status,
                raw_content_type=raw_content_type,
            )
            OPERATIONS.append(op)

            def view(**path_params: str) -> Response:
                request = self.blueprint.current_request
                return handle(op, handler, request, path_params)

            view.__name__ = handler.__name__
            self.blueprint.route(path, methods=[method], content_types=["*/*"])(view)
            self._preflight(path)
            return handler

        return register

    def _preflight(self, path: str) -> None:
        """CORS preflight for web clients, answered only for the stage's allowed origins."""
        if path in _PREFLIGHT_PATHS:
            return
        _PREFLIGHT_PATHS.add(path)

        def preflight(**_: str) -> Response:
            request = self.blueprint.current_request
            headers = _cors_headers(request)
            if headers:
                headers.update(
                    {
                        "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
                        "Access-Control-Allow-Headers": "Authorization, Content-Type",
                        "Access-Control-Max-Age": "600",
                    }
                )
            return Response(body="", status_code=204, headers=headers)

        preflight.__name__ = "preflight_" + re.sub(r"\W", "_", path)
        self.blueprint.route(path, methods=["OPTIONS"], content_types=["*/*"])(preflight)


def handle(op: Operation, handler: Callable, request: Any, path_params: dict[str, str]) -> Response:
    context = getattr(request, "context", None) or {}
    logs.request_id.set(context.get("requestId") or str(uuid.uuid4()))
    started = time.perf_counter()
    principal = None
    try:
        principal = authenticate(request, op.access)
        call = Call(
            principal=principal,
            body=_parse_body(request, op.body) if op.body else None,
            query=_parse_query(request, op.query) if op.query else None,
            request=request,
        )
        response = _render(handler(call, **path_params), op, request)
    except ApiError as error:
        response = error_response(error, request)
    except Exception:  # noqa: BLE001 - the one place an unexpected failure becomes a clean 500
        logs.error("unhandled error", exc_info=True, route=op.path, method=op.method)
        response = error_response(InternalError("Something went wrong on our side. Try again later."), request)
    logs.info(
        "request",
        method=op.method,
        route=op.path,
        status=response.status_code,
        role=principal.role if principal else None,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    return response


def path_params(path: str) -> list[str]:
    return _PATH_PARAM.findall(path)


BINARY_TYPES = ["application/pdf", "image/jpeg", "image/png", "application/octet-stream"]


def function_app(name: str, *blueprints: Blueprint) -> Chalice:
    """A Chalice app serving these blueprints: one module's Lambda function (its function.py), or
    the whole API (app.py: ``make run``, and what ``make package`` describes to API Gateway)."""
    app = Chalice(app_name=name)
    app.api.binary_types = list(BINARY_TYPES)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    return app
