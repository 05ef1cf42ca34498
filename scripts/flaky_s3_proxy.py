#!/usr/bin/env python3
"""A loopback HTTP proxy in front of an S3 endpoint that answers the first try of every distinct request
(method + path + query) with 503 SlowDown, and forwards retries untouched (Host header included, so the
client's SigV4 signature still verifies). Tests use it to prove a client retries throttled requests.

    flaky_s3_proxy.py http://127.0.0.1:MOTO_PORT     # prints its own port on the first line of stdout
Each injected failure is logged to stderr as "injected 503 METHOD PATH".
"""

import http.client
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLOW_DOWN = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
             b"<Message>Please reduce your request rate.</Message></Error>")


class Proxy(BaseHTTPRequestHandler):
    upstream: urllib.parse.SplitResult
    seen: set = set()
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        key = (self.command, self.path)
        if key not in self.seen:
            self.seen.add(key)
            sys.stderr.write(f"injected 503 {self.command} {self.path}\n")
            sys.stderr.flush()
            self.send_response(503)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(SLOW_DOWN)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(SLOW_DOWN)
            return
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=120)
        headers = {name: value for name, value in self.headers.items()}
        connection.request(self.command, self.path, body=body if body else None, headers=headers)
        response = connection.getresponse()
        data = response.read()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data) if self.command != "HEAD" else response.getheader("Content-Length", "0")))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        connection.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


def main():
    Proxy.upstream = urllib.parse.urlsplit(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
