#!/usr/bin/env python3
"""fbserver.py - an HTTPS stand-in for metalboot-netboot's node API, for the
firstboot interop tests. Serves GET /v1/nodes/MAC/firstboot (the payload
file), POST /v1/nodes/MAC/events (each event appended as one JSON line to
--events; the first --fail-events POSTs get 503), GET /readyz (200, as the
API server's), GET /health (etcd's; 503 for the first --health-fail) and
GET /files/PATH (from --files). Loopback only."""
import argparse
import json
import os
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--cert", required=True)
ap.add_argument("--key", required=True)
ap.add_argument("--payload", required=True)
ap.add_argument("--mac", required=True)
ap.add_argument("--events", required=True)
ap.add_argument("--fail-events", type=int, default=0)
ap.add_argument("--files", default=None)
ap.add_argument("--health-fail", type=int, default=0)
args = ap.parse_args()
state = {"failed": 0, "health": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        sys.stderr.write("fbserver: " + (fmt % a) + "\n")

    def reply(self, code, body=b"", ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/v1/nodes/%s/firstboot" % args.mac:
            with open(args.payload, "rb") as f:
                return self.reply(200, f.read(), "application/yaml")
        if self.path == "/health":  # etcd's
            if state["health"] < args.health_fail:
                state["health"] += 1
                return self.reply(503, b'{"health":"false"}')
            return self.reply(200, b'{"health":"true"}', "application/json")
        if self.path == "/readyz":
            return self.reply(200, b"ok")
        if self.path.startswith("/files/") and args.files:
            rel = self.path[len("/files/"):]
            p = os.path.normpath(os.path.join(args.files, rel))
            if p.startswith(args.files) and os.path.isfile(p):
                with open(p, "rb") as f:
                    return self.reply(200, f.read())
        return self.reply(404, b"not found")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if self.path != "/v1/nodes/%s/events" % args.mac:
            return self.reply(404, b"not found")
        try:
            ev = json.loads(body)
            keys = {"step", "status", "message"}
            if ev.get("status") == "failed" and "output" in ev:
                keys.add("output")
            assert set(ev) == keys, ev
            assert ev["status"] in ("running", "ok", "failed"), ev
        except Exception as e:  # noqa: BLE001 - any malformed event is a 400
            sys.stderr.write("fbserver: bad event %r: %s\n" % (body, e))
            return self.reply(400, b"bad event")
        if state["failed"] < args.fail_events:
            state["failed"] += 1
            return self.reply(503, b"busy")
        with open(args.events, "a") as f:
            f.write(json.dumps(ev) + "\n")
        return self.reply(200, b"{}", "application/json")


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(args.cert, args.key)
srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
