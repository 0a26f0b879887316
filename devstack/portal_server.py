"""The portal served locally: portal/'s static files with the deployed security headers
(infra/portal.py), its configuration for the local stack at /config.json, and the devstack's
OpenID Connect provider under /oidc (devstack/oidc.py).

Started by devstack/run.py, in its process, on MES_PORTAL_PORT (default 3000).
Text files are gzip-compressed when the browser accepts it, as CloudFront does (Compress: true).
"""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from devstack import oidc
from infra.portal import PORTAL_DIR, security_headers

CLIENT_ID = "mon-espace-sante-portail-local"
TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
COMPRESSED = {".html", ".js", ".css", ".json", ".svg"}
MAX_FORM = 16 * 1024


def local_config(portal_port: int, api_port: int) -> dict[str, str]:
    return {
        "api": f"http://127.0.0.1:{api_port}",
        "issuer": f"http://127.0.0.1:{portal_port}/oidc",
        "client_id": CLIENT_ID,
    }


def local_origins(portal_port: int) -> list[str]:
    return [f"http://127.0.0.1:{portal_port}", f"http://localhost:{portal_port}"]


class PortalServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # the browser opens many connections at once on a first load

    def __init__(self, portal_port: int, api_port: int):
        self.config = local_config(portal_port, api_port)
        self.headers = security_headers(self.config)
        self.origins = local_origins(portal_port)
        self.provider = oidc.Provider(self.config["issuer"], CLIENT_ID, [f"{o}/" for o in self.origins])
        super().__init__(("127.0.0.1", portal_port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: PortalServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # quiet: the API logs enough
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        if url.path.startswith("/oidc/"):
            reply = self._provider(method, url)
            origin = self.headers.get("Origin")
            if origin in self.server.origins:  # the portal opened on the other local name
                reply.headers.update({"Access-Control-Allow-Origin": origin, "Vary": "Origin"})
            self._send(reply)
        elif method == "POST":
            self._send(oidc.Reply(405, b"method not allowed"))
        elif url.path == "/config.json":
            self._send(
                oidc.Reply(
                    200, json.dumps(self.server.config).encode(), "application/json", {"Cache-Control": "no-cache"}
                ),
                head=method == "HEAD",
            )
        else:
            self._send(self._file(url.path), head=method == "HEAD")

    def _provider(self, method: str, url) -> oidc.Reply:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_FORM:
            return oidc.Reply(413, b"form too large")
        form = dict(parse_qsl(self.rfile.read(length).decode("utf-8", "replace"))) if method == "POST" else {}
        cookies = dict(
            part.strip().split("=", 1) for part in (self.headers.get("Cookie") or "").split(";") if "=" in part
        )
        return self.server.provider.handle(method, url.path[len("/oidc") :], dict(parse_qsl(url.query)), form, cookies)

    def _file(self, path: str) -> oidc.Reply:
        relative = "index.html" if path == "/" else path.lstrip("/")
        target = (PORTAL_DIR / relative).resolve()
        inside = PORTAL_DIR in target.parents and target.relative_to(PORTAL_DIR).parts[0] != "config"
        if not inside or target.suffix not in TYPES or not target.is_file():
            return oidc.Reply(404, b"Page introuvable.")
        kind = TYPES[target.suffix]
        charset = "; charset=utf-8" if target.suffix in COMPRESSED else ""
        return oidc.Reply(200, target.read_bytes(), kind + charset, {"Cache-Control": "no-cache"})

    def _send(self, reply: oidc.Reply, head: bool = False) -> None:
        body = reply.body
        headers = {**self.server.headers, **reply.headers, "Content-Type": reply.content_type}
        if (
            len(body) > 512
            and "gzip" in (self.headers.get("Accept-Encoding") or "")
            and reply.content_type.split(";")[0] in {TYPES[s] for s in COMPRESSED}
        ):
            body = gzip.compress(body, compresslevel=6)
            headers.update({"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
        self.send_response(reply.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


def start(portal_port: int, api_port: int) -> PortalServer:
    """Serves in a daemon thread (the devstack's process), until the process ends."""
    server = PortalServer(portal_port, api_port)
    threading.Thread(target=server.serve_forever, daemon=True, name="portal").start()
    return server
