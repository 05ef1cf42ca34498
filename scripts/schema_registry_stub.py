#!/usr/bin/env python3
"""A minimal Confluent Schema Registry for tests: the two endpoints k2-replay uses, in memory.

Usage: schema_registry_stub.py  -> prints "url=http://127.0.0.1:PORT" on its first line, serves until killed.
Ids are global and start at 1; registering an identical schema under a subject returns its existing id.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

schemas = []          # id - 1 -> schema text
subjects = {}         # subject -> [id, ...] (versions in order)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        parts = self.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "subjects" or parts[2] != "versions":
            return self.reply(404, {"error_code": 404, "message": "not found"})
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        schema = json.dumps(json.loads(body["schema"]), sort_keys=True)
        if schema in schemas:
            sid = schemas.index(schema) + 1
        else:
            schemas.append(schema)
            sid = len(schemas)
        versions = subjects.setdefault(parts[1], [])
        if sid not in versions:
            versions.append(sid)
        self.reply(200, {"id": sid})

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) == 4 and parts[0] == "subjects" and parts[2] == "versions" and parts[3] == "latest":
            versions = subjects.get(parts[1])
            if not versions:
                return self.reply(404, {"error_code": 40401, "message": "Subject not found."})
            sid = versions[-1]
            return self.reply(200, {"subject": parts[1], "version": len(versions), "id": sid, "schema": schemas[sid - 1]})
        self.reply(404, {"error_code": 404, "message": "not found"})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"url=http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
