#!/usr/bin/env python3
"""A misbehaving HTTP server for the feed sync tests, loopback only.

usage: feed_server.py ROOT PORT_FILE

Binds 127.0.0.1 on a free port, writes the port to PORT_FILE and serves:
  /file/PATH             PATH under ROOT, with ETag/Last-Modified and 304s
  /status/CODE[/...]     always CODE
  /flaky/N/CODE/PATH     CODE for the first N requests of this URL, then
                         /file/PATH; ?retry_after=S adds a Retry-After header
  /slow/SECONDS          waits, then a small 200
  /truncate              announces 100000 bytes, sends 1000, closes
  /big/N                 N bytes without Content-Length
  /redirect?to=URL       302 to URL
  /hits?path=P           how many requests P received
nginx covers ordinary static serving; this covers what nginx will not do.
"""
import hashlib
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.realpath(sys.argv[1])
HITS = {}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):  # keep test output readable
        pass

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as some tests make it

    def serve_file(self, rel):
        path = os.path.realpath(os.path.join(ROOT, rel))
        if not path.startswith(ROOT + os.sep) or not os.path.isfile(path):
            return self.reply(404, b"not found\n")
        with open(path, "rb") as f:
            data = f.read()
        etag = '"%s"' % hashlib.sha1(data).hexdigest()[:16]
        lm = self.date_time_string(int(os.path.getmtime(path)))
        if self.headers.get("If-None-Match") == etag:
            return self.reply(304, b"", [("ETag", etag), ("Last-Modified", lm)])
        self.reply(200, data, [("ETag", etag), ("Last-Modified", lm)])

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        with LOCK:
            HITS[url.path] = HITS.get(url.path, 0) + 1
            hits = HITS[url.path]
        kind = parts[0]
        if kind == "file":
            return self.serve_file("/".join(parts[1:]))
        if kind == "status":
            return self.reply(int(parts[1]), b"server error page\n")
        if kind == "flaky":
            if hits <= int(parts[1]):
                headers = []
                if "retry_after" in query:
                    headers.append(("Retry-After", query["retry_after"][0]))
                return self.reply(int(parts[2]), b"try later\n", headers)
            return self.serve_file("/".join(parts[3:]))
        if kind == "slow":
            time.sleep(float(parts[1]))
            return self.reply(200, b"late\n")
        if kind == "truncate":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"[" * 1000)
            self.wfile.flush()
            self.close_connection = True
            return None
        if kind == "big":
            self.send_response(200)
            self.end_headers()
            left = int(parts[1])
            while left > 0:
                n = min(left, 65536)
                try:
                    self.wfile.write(b"x" * n)
                except (BrokenPipeError, ConnectionResetError):
                    return None
                left -= n
            return None
        if kind == "redirect":
            return self.reply(302, b"", [("Location", query["to"][0])])
        if kind == "hits":
            with LOCK:
                n = HITS.get(query["path"][0], 0)
            return self.reply(200, b"%d\n" % n)
        return self.reply(404, b"unknown test endpoint\n")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, sys.argv[2])
    server.serve_forever()


if __name__ == "__main__":
    main()
