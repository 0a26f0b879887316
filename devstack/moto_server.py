"""moto's server with the devstack's speedups applied (see moto_speedups) and one route of its own,
the outbox (devstack/outbox.py): ``python -m devstack.moto_server [-H HOST] [-p PORT]``.

moto's own ``main`` with these additions: the same WSGI app, threaded, and moto's request
handler (it keeps the header spellings S3 metadata needs), without werkzeug's line per request
(nobody reads it: run.py discards this server's output), and with TCP_NODELAY: werkzeug writes a
response's headers and body apart, and on the API's kept-alive connections Nagle's algorithm held
each body until the delayed ACK of its headers, ~40 ms per AWS call.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from devstack import moto_speedups, outbox


def with_outbox(app: Callable) -> Callable:
    """``app``, except that ``GET outbox.ROUTE`` answers what the outbox reads, from this process."""

    def serve(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != outbox.ROUTE:
            return app(environ, start_response)
        body = json.dumps(outbox.held(), ensure_ascii=False).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return serve


def main(argv: list[str] | None = None) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args(argv)
    moto_speedups.apply()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app: Any = DomainDispatcherApplication(create_backend_app)
    handler = type("Handler", (MotoRequestHandler,), {"disable_nagle_algorithm": True})
    run_simple(args.host, args.port, with_outbox(app), threaded=True, request_handler=handler)


if __name__ == "__main__":
    main()
