"""``chalice local``, made to answer as the deployed API Gateway does, under load.

- Every HTTP method reaches the gateway: Python's http.server answers 501 to methods it has no
  handler for (TRACE, QUERY...), which API Gateway never does.
- Errors API Gateway answers itself are the gateway responses of infra/api.yaml (read from it,
  the one source): an unknown path, or a method the path does not declare, is
  MISSING_AUTHENTICATION_TOKEN (chalice local answers 403 ``Missing Authentication Token`` or
  Chalice's 405); a body over API Gateway's 10 MB is REQUEST_TOO_LARGE.
- A listen backlog of 1,024 connections instead of http.server's 5: bursts of simultaneous
  clients were reset before the accept loop could take them (each connection then gets its own
  thread, as chalice local already does).
- TCP_NODELAY on every connection: http.server sends a response's headers and its body in two
  writes, and on a kept-alive connection Nagle's algorithm held the body until the client's
  delayed ACK of the headers, ~40 ms per response (most of ``make fuzz``'s time).
- Each response carries ``X-Devstack-Aws-Ms``: the time the request spent in AWS calls (while
  at least one botocore call of it was in flight, its worker threads included), which
  bench/load.py compares with the whole latency. This server is the devstack's only: never deployed.
"""

from __future__ import annotations

import contextvars
import re
import sys
import threading
import time
import uuid
from functools import cache
from typing import Any

import botocore.session
from chalice import local
from chalice.cli import main

from infra.package import API_OVERLAY
from infra.render import load_template

BACKLOG = 1024
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
AWS_TIME_HEADER = "X-Devstack-Aws-Ms"


@cache
def gateway_responses() -> dict[str, dict]:
    """infra/api.yaml's gateway responses by type: ``{"status"?, "headers", "body"}``. ``${Param}``
    is substituted: WebOrigin by the stage's first allowed origin (as infra/package.py does for a
    deployed stage), other parameters by their default."""
    from chalicelib.core.settings import settings

    overlay = load_template(API_OVERLAY)
    parameters = {name: str(spec.get("Default", "")) for name, spec in overlay["Parameters"].items()}
    parameters["WebOrigin"] = next(iter(settings().cors_allowed_origins), parameters["WebOrigin"])

    def static(kind: str, name: str, value: Any) -> str:
        if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
            value = re.sub(r"\$\{(\w+)\}", lambda m: parameters[m.group(1)], value["Fn::Sub"])
        if not (
            name.startswith("gatewayresponse.header.")
            and isinstance(value, str)
            and len(value) > 1
            and value[0] == value[-1] == "'"
        ):
            raise ValueError(f"{kind}: only static header values are served locally, not {name}: {value}")
        return value[1:-1]

    definition = overlay["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    return {
        kind: {
            "status": spec.get("statusCode"),
            "headers": {
                name.removeprefix("gatewayresponse.header."): static(kind, name, value)
                for name, value in spec.get("responseParameters", {}).items()
            },
            "body": spec["responseTemplates"]["application/json"],
        }
        for kind, spec in definition["x-amazon-apigateway-gateway-responses"].items()
    }


def gateway_response(kind: str, status: int) -> dict[str, Any]:
    """What API Gateway answers for a response type whose default status is ``status``: its own
    gateway response, else the DEFAULT_4XX / DEFAULT_5XX one with that status."""
    responses = gateway_responses()
    spec = responses.get(kind) or responses["DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"]
    return {
        "statusCode": int(spec["status"] or status),
        "headers": {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4()), **spec["headers"]},
        "multiValueHeaders": {},
        "body": spec["body"],
    }


# Time in AWS calls -----------------------------------------------------------------------------


class AwsTime:
    """Seconds during which at least one of a request's AWS calls was in flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight, self._since, self.seconds = 0, 0.0, 0.0

    def started(self) -> None:
        with self._lock:
            if self._in_flight == 0:
                self._since = time.perf_counter()
            self._in_flight += 1

    def ended(self) -> None:
        with self._lock:
            self._in_flight -= 1
            if self._in_flight == 0:
                self.seconds += time.perf_counter() - self._since


_request_aws_time: contextvars.ContextVar[AwsTime | None] = contextvars.ContextVar("aws_time", default=None)


def _call_started(context: dict, **_: Any) -> None:
    timer = _request_aws_time.get()
    if timer is not None:
        context["devstack_timer"] = timer
        timer.started()


def _call_ended(context: dict, **_: Any) -> None:
    timer = context.pop("devstack_timer", None)
    if timer is not None:
        timer.ended()


def time_aws_calls() -> None:
    """Every botocore client created from now on reports its calls to the current request's timer."""
    create_client = botocore.session.Session.create_client

    def timed_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build.*.*", _call_started)
        client.meta.events.register("after-call.*.*", _call_ended)
        client.meta.events.register("after-call-error.*.*", _call_ended)
        return client

    botocore.session.Session.create_client = timed_client


# The local gateway ------------------------------------------------------------------------------

_chalice_handle_request = local.LocalGateway.handle_request


def handle_request(self: local.LocalGateway, method: str, path: str, headers: dict, body: bytes | None) -> dict:
    if body is not None and len(body) > MAX_BODY_BYTES:
        return gateway_response("REQUEST_TOO_LARGE", 413)
    try:
        route = self.event_converter._route_matcher.match_route(path).route
    except ValueError:
        route = None
    if route is None or method not in self._app_object.routes[route]:
        return gateway_response("MISSING_AUTHENTICATION_TOKEN", 403)
    timer = AwsTime()
    token = _request_aws_time.set(timer)
    try:
        response = _chalice_handle_request(self, method, path, headers, body)
    finally:
        _request_aws_time.reset(token)
    response["headers"][AWS_TIME_HEADER] = f"{timer.seconds * 1000:.1f}"
    return response


def _any_method(handler: local.ChaliceRequestHandler, name: str):
    if name.startswith("do_"):
        return handler._generic_handle
    raise AttributeError(name)


def install() -> None:
    time_aws_calls()
    local.LocalGateway.handle_request = handle_request  # type: ignore[method-assign]  # chalice's, replaced
    local.ChaliceRequestHandler.__getattr__ = _any_method
    local.ThreadedHTTPServer.request_queue_size = BACKLOG
    local.ChaliceRequestHandler.disable_nagle_algorithm = True


if __name__ == "__main__":
    install()
    gateway_responses()  # an unreadable infra/api.yaml fails the start, not the first 404
    sys.argv = ["chalice", "local", *sys.argv[1:]]
    sys.exit(main())
