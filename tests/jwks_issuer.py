"""A JWKS endpoint on localhost, as an identity provider publishes its keys: it counts the requests
it answers, can go down, and can be slow (``silence`` seconds before it answers, then ``trickle``
seconds between each ``TRICKLE_BYTES`` of its body)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TRICKLE_BYTES = 16


class JwksIssuer:
    def __init__(self, jwks: dict) -> None:
        self.jwks, self.requests, self.down = jwks, 0, False
        self.silence = self.trickle = 0.0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # http.server's name
                issuer.requests += 1
                time.sleep(issuer.silence)
                body = b"down" if issuer.down else json.dumps(issuer.jwks).encode()
                self.send_response(503 if issuer.down else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                chunk = TRICKLE_BYTES if issuer.trickle else max(len(body), 1)
                try:
                    for start in range(0, len(body), chunk):
                        self.wfile.write(body[start : start + chunk])
                        self.wfile.flush()
                        time.sleep(issuer.trickle)
                except ConnectionError:  # the client gave up on a slow answer
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
