#!/usr/bin/env python3
"""A webhook receiver for the notification tests: an HTTP server on
127.0.0.1 (a free port, written to PORTFILE) that checks each POST's
X-Patchwarden-Signature itself, with Python's hmac over the body it
received, and appends one JSON line per request to LOG:
{"delivery", "signature_ok", "body"}. The first FAIL requests are
answered 503 (after being logged with "answered": 503), to drive the
sender's retries.

usage: webhook_receiver.py PORTFILE LOG SECRET [FAIL]
"""
import hashlib
import hmac
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

portfile, log, secret = sys.argv[1], sys.argv[2], sys.argv[3].encode()
fail = [int(sys.argv[4]) if len(sys.argv) > 4 else 0]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        got = self.headers.get("X-Patchwarden-Signature", "")
        status = 503 if fail[0] > 0 else 200
        fail[0] -= 1
        with open(log, "a") as f:
            f.write(json.dumps({
                "delivery": self.headers.get("X-Patchwarden-Delivery"),
                "signature_ok": hmac.compare_digest(want, got),
                "content_type": self.headers.get("Content-Type"),
                "answered": status,
                "body": body.decode("utf-8", "replace"),
            }) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
