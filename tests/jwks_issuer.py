"""A JWKS endpoint on localhost, as an identity provider publishes its keys: it counts the requests
it answers and can go down."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JwksIssuer:
    def __init__(self, jwks: dict) -> None:
        self.jwks, self.requests, self.down = jwks, 0, False
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                issuer.requests += 1
                body = b"down" if issuer.down else json.dumps(issuer.jwks).encode()
                self.send_response(503 if issuer.down else 200)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
