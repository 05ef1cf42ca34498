#!/usr/bin/env python3
"""A loopback HTTP proxy in front of an S3 endpoint that fails the first try of every distinct request
(method + path + query) and forwards retries untouched (Host header included, so the client's SigV4
signature still verifies). Tests use it to prove a client retries throttled and failed requests.

    flaky_s3_proxy.py http://127.0.0.1:MOTO_PORT [--faults 503,500,drop-mid-body,drop-after-forward]
    # prints its own port on the first line of stdout

--faults (default 503): the first tries get these failures in turn: 503 SlowDown, 500 InternalError,
drop-mid-body (half the request body read, then the connection closed: an upload cut off), and
drop-after-forward (the request reaches S3 and is applied, then the connection is closed unanswered:
the client cannot tell it succeeded). Each is logged to stderr as "injected FAULT METHOD PATH".
"""

import argparse
import http.client
import socket
import struct
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLOW_DOWN = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
             b"<Message>Please reduce your request rate.</Message></Error>")
INTERNAL_ERROR = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
                  b"<Message>We encountered an internal error. Please try again.</Message></Error>")
ERRORS = {"503": (503, SLOW_DOWN), "500": (500, INTERNAL_ERROR)}


class Proxy(BaseHTTPRequestHandler):
    upstream: urllib.parse.SplitResult
    seen: set = set()
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    faults: list = ["503"]
    injected: int = 0

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        key = (self.command, self.path)
        fault = None
        if key not in self.seen:
            self.seen.add(key)
            fault = self.faults[Proxy.injected % len(self.faults)]
            Proxy.injected += 1
            sys.stderr.write(f"injected {fault} {self.command} {self.path}\n")
            sys.stderr.flush()
        if fault == "drop-mid-body":
            self.rfile.read(length // 2)
            self._drop()
            return
        body = self.rfile.read(length) if length else b""
        if fault in ERRORS:
            status, text = ERRORS[fault]
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(text)
            return
        status, headers, data = self._forward(body)
        if fault == "drop-after-forward":
            self._drop()
            return
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        content_length = next((v for n, v in headers if n.lower() == "content-length"), "0")
        self.send_header("Content-Length", str(len(data)) if self.command != "HEAD" else content_length)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _forward(self, body: bytes):
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=120)
        headers = {name: value for name, value in self.headers.items()}
        connection.request(self.command, self.path, body=body if body else None, headers=headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, response.getheaders(), data

    def _drop(self):
        """Closes the client's connection without an answer (RST, as a crashed peer or a cut link does)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("upstream")
    parser.add_argument("--faults", default="503", help="comma-separated: 503, 500, drop-mid-body, drop-after-forward")
    args = parser.parse_args()
    Proxy.upstream = urllib.parse.urlsplit(args.upstream)
    Proxy.faults = args.faults.split(",")
    unknown = [f for f in Proxy.faults if f not in ERRORS and f not in ("drop-mid-body", "drop-after-forward")]
    if unknown:
        parser.error(f"unknown faults: {unknown}")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
