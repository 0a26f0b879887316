"""HTTP plumbing shared by every module's routes.

``Router.route`` wraps a Chalice route: it checks the declared access rule (an endpoint without
one cannot be declared: deny by default), verifies the token, validates the body and the query
against pydantic models, shapes the response and every error as in docs/api.md, adds CORS headers and
the request id, and records the operation for the OpenAPI document.

Before any model sees them, a body is bounded (the route's size limit, checked before anything
else; then its nesting, read in linear time, before it is parsed) and parsed strictly (no repeated
keys, no NaN), and no text of a body or a query may hold a control character: FHIR strings, XML,
PDF metadata and mail headers cannot carry them. Numeric query parameters are ASCII digits only.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Chalice, Response

from chalicelib.core import logs
from chalicelib.core.errors import (
    ApiError,
    Forbidden,
    InvalidIns,
    InvalidRequest,
    InvalidRpps,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
    unexpected,
)
from chalicelib.core.security.auth import Principal, from_authorization_header
from chalicelib.core.settings import settings

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

# A route's models are given as functions returning them (``lambda: models().DocumentCreate``,
# where ``models()`` imports the module's models): pydantic and the models load on the first
# request that needs them, not at cold start, while a reader and a type checker follow the import.
ModelRef = Callable[[], Any] | None

# The body sizes a route declares (Router.route's body_limit): each route takes what it needs.
KIB, MIB = 1024, 1024 * 1024
JSON_BODY_LIMIT = 64 * KIB  # a body of fields, the default: far more than any form of the API needs
CONTENT_BODY_LIMIT = 6 * MIB  # Lambda's request payload limit: bodies carrying content (4 MiB decoded, in base64)
# What a document's content is read as: the media types a deposit takes (fields.MEDIA_TYPES) and CDA
# (legacy imports).
READABLE_MEDIA_TYPES = ("application/pdf", "image/jpeg", "image/png", "text/plain", "text/xml")


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

    @property
    def caller(self) -> Principal:
        """The principal, on a route that is not public (its access rule let no anonymous call in)."""
        if self.principal is None:
            raise Unauthenticated("This endpoint needs an 'Authorization: Bearer <token>' header.")
        return self.principal


@dataclass
class Raw:
    """A non-JSON response (document bytes, iCalendar feed)."""

    body: bytes | str
    content_type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def page_query() -> Any:
    """The query model of a plain list (?limit=&cursor=), for routes that take nothing else."""
    from chalicelib.core.http.pagination import PageQuery

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
    # How this router's errors look (the FHIR routes: OperationOutcome); None: docs/api.md § Errors.
    render_error: Callable[[ApiError, Any], Response] | None = None
    # OpenAPI fields replacing the generated ones, for bodies and answers that are not the
    # contract's JSON (FHIR resources, form bodies).
    openapi: Callable[[], dict[str, Any]] | None = None
    # The largest body this route takes, in bytes: a larger one is refused (413) unread.
    body_limit: int = JSON_BODY_LIMIT

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
    """A 400, or the code of the field type that failed (core.http.fields: invalid_ins, invalid_rpps,
    a 415 unsupported_media_type) when one is the cause."""
    details = validation_details(error)
    codes = {item["type"] for item in error.errors(include_url=False, include_input=False)}
    for own_error in (InvalidIns, InvalidRpps, UnsupportedMediaType):
        if own_error.code in codes:
            return own_error(message, details)
    return InvalidRequest(message, details)


def _cors_headers(request: Any) -> dict[str, str | list[str]]:
    origin = (request.headers or {}).get("origin") if request is not None else None
    if origin and origin in settings().cors_allowed_origins:
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Expose-Headers": "X-Request-Id",
            "Vary": "Origin",
        }
    return {}


def json_response(status: int, body: Any, request: Any, headers: dict[str, Any] | None = None) -> Response:
    all_headers: dict[str, str | list[str]] = {
        "Content-Type": "application/json",
        "X-Request-Id": logs.request_id.get(),
        **_cors_headers(request),
    }
    all_headers.update(headers or {})
    return Response(
        body=json.dumps(body, ensure_ascii=False) if body is not None else "", status_code=status, headers=all_headers
    )


def error_response(error: ApiError, request: Any) -> Response:
    return json_response(error.status, error.body(), request, error.headers)


MAX_DEPTH = 32  # far more than any body of the API needs (a FHIR Bundle nests about 8 levels)
_ESCAPE = re.compile(r"\\.", re.DOTALL)  # a backslash and the character it escapes
_STRING = re.compile(r'"[^"]*+"')  # a JSON string once its escapes are gone
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # C0 controls but tab, LF and CR


def _nesting(text: str) -> int:
    """How deep a JSON text nests, read without parsing it (brackets in strings are text).

    Linear in the text's length whatever it holds: each step is one left-to-right pass of a
    pattern that cannot backtrack (possessive, or a single character), so no text makes it
    retry (a string pattern that also handled escapes restarted at every quote of an
    unterminated string: quadratic). The escapes go first, so every quote left is a string's
    start or end; a text that is not JSON may be read as deeper than it is, never shallower than
    the parser would go before failing (it stops at the first backslash out of a string)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", _ESCAPE.sub("", text)))
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def _size(count: int) -> str:
    return f"{count // MIB} MiB" if count % MIB == 0 else f"{count // KIB} KiB"


def _refuse_oversized(raw: bytes, limit: int) -> None:
    if len(raw) > limit:
        message = f"At most {_size(limit)}."
        raise PayloadTooLarge(
            f"The body is over {_size(limit)}, the most this endpoint takes: send less.",
            [{"field": "body", "message": message}],
        )


def query_integer(text: str, name: str, *, minimum: int = 0, maximum: int) -> int:
    """A query parameter read as a whole number between the bounds, in ASCII digits only ("²".isdigit()
    is true, and int() reads "٣", " 7", "+7" and "1_0"): anything else is a 400 naming the parameter."""
    if text.isascii() and text.isdigit():
        significant = text.lstrip("0") or "0"  # int() refuses over 4,300 digits: compare lengths first
        if len(significant) <= len(str(maximum)) and minimum <= int(significant) <= maximum:
            return int(significant)
    message = f"Give a whole number from {minimum} to {maximum}, in digits 0-9."
    raise InvalidRequest(f"{name}: {message}", [{"field": name, "message": message}])


class _Repeated(dict[str, Any]):
    """A parsed JSON object that held some keys more than once (refused, with their paths)."""

    __slots__ = ("repeated",)
    repeated: list[str]


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    parsed = dict(pairs)
    if len(parsed) == len(pairs):
        return parsed
    repeated = _Repeated(parsed)
    repeated.repeated = [key for key, times in Counter(key for key, _ in pairs).items() if times > 1]
    return repeated


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _flaws(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[dict[str, str]]:
    """What no field may hold, wherever it is in a parsed body: control characters, repeated keys."""
    where = ".".join(str(part) for part in path) or "body"
    if isinstance(value, str):
        if _CONTROL.search(value):
            yield {"field": where, "message": "Control characters are not allowed (tab and line breaks are)."}
    elif isinstance(value, dict):
        for key in getattr(value, "repeated", ()):
            yield {
                "field": ".".join(str(part) for part in (*path, key)),
                "message": "This key is repeated: send it once.",
            }
        for key, item in value.items():
            yield from _flaws(key, (*path, key))
            yield from _flaws(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _flaws(item, (*path, index))


def refuse_flaws(data: Any, message: str) -> None:
    details = list(_flaws(data))
    if details:
        raise InvalidRequest(message, details)


def parse_json(raw: bytes) -> Any:
    """A body's JSON, parsed strictly once its nesting is known to be bounded (its size already is:
    ``handle`` checked the route's limit)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest("The body is not UTF-8 text.") from exc
    if _nesting(text) > MAX_DEPTH:
        raise InvalidRequest(
            f"The body nests deeper than {MAX_DEPTH} levels.", [{"field": "body", "message": "Too deeply nested."}]
        )
    try:
        data = json.loads(text, object_pairs_hook=_object, parse_constant=_not_json)
    except ValueError as exc:
        raise InvalidRequest("The body is not valid JSON.") from exc
    refuse_flaws(data, "Some fields hold what no text may: see details.")
    return data


def _parse_body(request: Any, model: type[BaseModel]) -> BaseModel:
    from pydantic import ValidationError

    content_type = (request.headers or {}).get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType("Send the body as JSON with 'Content-Type: application/json'.")
    data = parse_json(request.raw_body or b"null")
    if not isinstance(data, dict):
        raise InvalidRequest(
            "The body must be a JSON object.", [{"field": "body", "message": "Expected a JSON object."}]
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc, "Some fields are invalid: see details.") from exc


def _parse_query(request: Any, model: type[BaseModel]) -> BaseModel:
    from pydantic import ValidationError

    query = dict(request.query_params or {})
    refuse_flaws(query, "Some query parameters hold what no text may: see details.")
    try:
        return model.model_validate(query)
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
    if access.roles is None:  # public
        return None
    principal = from_authorization_header((request.headers or {}).get("authorization"))
    if principal.role not in access.roles:
        raise Forbidden(f"Your role ({principal.role}) may not use this endpoint.")
    return principal


def _summary(handler: Callable[..., Any]) -> str:
    """The operation's summary: its handler's docstring's first paragraph (wrapped at 120 columns)."""
    first = (handler.__doc__ or handler.__name__).strip().split("\n\n")[0]
    return " ".join(line.strip() for line in first.splitlines())


class Router:
    """A module's routes: a Chalice Blueprint plus what the OpenAPI document needs."""

    def __init__(self, import_name: str, tag: str, render_error: Callable[[ApiError, Any], Response] | None = None):
        self.blueprint = Blueprint(import_name)
        self.tag = tag
        self.render_error = render_error

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
        openapi: Callable[[], dict[str, Any]] | None = None,
        body_limit: int = JSON_BODY_LIMIT,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        if not isinstance(access, Access):
            raise TypeError(f"{method} {path}: declare who may call it (access=...)")
        if any(isinstance(ref, str) for ref in (body, query, response)):
            raise TypeError(f"{method} {path}: give models as functions returning them, not names")

        def register(handler: Callable[..., Any]) -> Callable[..., Any]:
            op = Operation(
                method=method,
                path=path,
                summary=_summary(handler),
                tag=self.tag,
                access=access,
                body_ref=body,
                query_ref=query,
                response_ref=response,
                status=status,
                raw_content_type=raw_content_type,
                render_error=self.render_error,
                openapi=openapi,
                body_limit=body_limit,
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


def handle(op: Operation, handler: Callable[..., Any], request: Any, path_params: dict[str, str]) -> Response:
    context = getattr(request, "context", None) or {}
    logs.request_id.set(context.get("requestId") or str(uuid.uuid4()))
    started = time.perf_counter()
    principal = None
    render_error = op.render_error or error_response
    try:
        _refuse_oversized(request.raw_body or b"", op.body_limit)  # before anything reads the body
        principal = authenticate(request, op.access)
        call = Call(
            principal=principal,
            body=_parse_body(request, op.body) if op.body else None,
            query=_parse_query(request, op.query) if op.query else None,
            request=request,
        )
        response = _render(handler(call, **path_params), op, request)
    except ApiError as error:
        response = render_error(error, request)
    except Exception as error:  # noqa: BLE001 - the one place an unexpected failure becomes a clean 5xx
        logs.error("unhandled error", exc_info=True, route=op.path, method=op.method)
        response = render_error(unexpected(error), request)
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
