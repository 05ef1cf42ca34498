#!/usr/bin/env python3
"""A small Iceberg REST catalog for tests: every operation is delegated to pyiceberg's SqlCatalog, so what
a commit accepts or rejects (requirements, conflicts -> 409) is pyiceberg's behaviour, not ours.

    rest_catalog_server.py --catalog-uri sqlite:////tmp/x/catalog.db --warehouse file:///tmp/x/warehouse \
        [--catalog-name k2] [--prefix k2] [--base-path /api/catalog] [--property s3.endpoint=http://127.0.0.1:9000 ...]

--base-path serves the API under a path (clients then use http://HOST:PORT/api/catalog as the catalog URI).

Listens on 127.0.0.1 and a free port, printed alone on the first line of stdout. Authentication, when
configured, comes from the environment (never arguments):
    K2_REST_TEST_TOKEN=<token>               requests must carry "Authorization: Bearer <token>"
    K2_REST_TEST_CLIENT=<client_id>:<secret> POST /v1/oauth/tokens (client_credentials) issues tokens
A request log (method, path, whether it was authorised) goes to stderr.
"""

import argparse
import json
import os
import secrets
import sys
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

from pydantic import TypeAdapter, ValidationError
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import (
    CommitFailedException,
    NamespaceAlreadyExistsError,
    NamespaceNotEmptyError,
    NoSuchNamespaceError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC
from pyiceberg.table.sorting import UNSORTED_SORT_ORDER
from pyiceberg.table.update import TableRequirement, TableUpdate

from pyiceberg.catalog.rest import CreateTableRequest

REQUIREMENT = TypeAdapter(TableRequirement)
UPDATE = TypeAdapter(TableUpdate)


class RestError(Exception):
    def __init__(self, code: int, kind: str, message: str):
        super().__init__(message)
        self.code = code
        self.kind = kind
        self.message = message


def error_for(exc: Exception) -> RestError:
    if isinstance(exc, RestError):
        return exc
    mapping = [
        (NoSuchTableError, 404, "NoSuchTableException"),
        (NoSuchNamespaceError, 404, "NoSuchNamespaceException"),
        (NamespaceAlreadyExistsError, 409, "AlreadyExistsException"),
        (TableAlreadyExistsError, 409, "AlreadyExistsException"),
        (CommitFailedException, 409, "CommitFailedException"),
        (NamespaceNotEmptyError, 409, "NamespaceNotEmptyException"),
        (ValidationError, 400, "BadRequestException"),
        (ValueError, 400, "BadRequestException"),
    ]
    for cls, code, kind in mapping:
        if isinstance(exc, cls):
            return RestError(code, kind, str(exc))
    return RestError(500, "ServerErrorException", f"{type(exc).__name__}: {exc}")


def table_result(table) -> dict:
    return {
        "metadata-location": table.metadata_location,
        "metadata": json.loads(table.metadata.model_dump_json()),
        "config": {},
    }


class Handler(BaseHTTPRequestHandler):
    catalog: SqlCatalog
    prefix: str = ""
    base_path: list = []
    required_token: str | None = None
    client: tuple[str, str] | None = None
    issued_tokens: set = set()
    # Fault injection for tests: these commit numbers (1-based) are applied, then answered with 503, as a
    # gateway in front of a catalog does when the catalog is slow: the client cannot tell it committed.
    unknown_outcome_commits: set = set()
    commits_seen: int = 0
    # Fault injection: a concurrent writer gets in before every other commit request (the odd-numbered
    # ones): it sets the table property k2.test.concurrent-writer to its count, and the request is answered
    # 409 CommitFailedException, as a catalog answers when the table moved under the writer. So every
    # commit of a client conflicts once, and its retry must keep the other writer's change.
    conflict_every_commit: bool = False
    commit_requests: int = 0

    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep stdout for the port line only
        sys.stderr.write("rest-catalog: " + (fmt % args) + "\n")

    # -- plumbing -------------------------------------------------------------------------------

    def _send(self, code: int, body=None, content_type="application/json"):
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.send_response(code)
        if data:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json(self) -> dict:
        raw = self._body()
        try:
            return json.loads(raw or b"{}")
        except json.JSONDecodeError as exc:
            raise RestError(400, "BadRequestException", f"malformed JSON body: {exc}")

    def _authorised(self) -> bool:
        if self.required_token is None and self.client is None:
            return True
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return False
        token = header[len("Bearer "):]
        return token == self.required_token or token in self.issued_tokens

    def _handle(self, method: str):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        # Segments are percent-decoded one by one, so an encoded '/' or 0x1F stays inside its segment.
        parts = [urllib.parse.unquote(p) for p in url.path.split("/")[1:]]
        try:
            if self.base_path:
                if parts[: len(self.base_path)] != self.base_path:
                    raise RestError(404, "NotFoundException", f"no route {url.path} (base path is /{'/'.join(self.base_path)})")
                parts = parts[len(self.base_path):]
            if parts[:1] != ["v1"]:
                raise RestError(404, "NotFoundException", f"no route {url.path}")
            rest = parts[1:]
            if rest == ["oauth", "tokens"] and method == "POST":
                return self._token()
            if not self._authorised():
                sys.stderr.write(f"rest-catalog: refused {method} {url.path} (no valid bearer token)\n")
                raise RestError(401, "NotAuthorizedException", "missing or invalid bearer token")
            if rest == ["config"] and method == "GET":
                overrides = {"prefix": self.prefix} if self.prefix else {}
                return self._send(200, {"defaults": {}, "overrides": overrides})
            if self.prefix:
                if rest[:1] != [self.prefix]:
                    raise RestError(404, "NotFoundException", f"no route {url.path} (prefix is {self.prefix})")
                rest = rest[1:]
            return self._route(method, rest, query)
        except Exception as exc:  # every failure becomes an Iceberg REST ErrorModel
            err = error_for(exc)
            if err.code == 500:
                traceback.print_exc()
            self._send(err.code, {"error": {"message": err.message, "type": err.kind, "code": err.code}})

    def _route(self, method: str, rest: list, query: dict):
        cat = self.catalog
        if rest == ["namespaces"]:
            if method == "GET":
                parent = tuple(query["parent"][0].split("\x1f")) if "parent" in query else ()
                return self._send(200, {"namespaces": [list(ns) for ns in cat.list_namespaces(parent)]})
            if method == "POST":
                body = self._json()
                namespace = tuple(body.get("namespace") or ())
                if not namespace:
                    raise RestError(400, "BadRequestException", "namespace is required")
                properties = body.get("properties") or {}
                cat.create_namespace(namespace, properties)
                return self._send(200, {"namespace": list(namespace), "properties": properties})
        if len(rest) >= 2 and rest[0] == "namespaces":
            namespace = tuple(rest[1].split("\x1f"))
            if len(rest) == 2:
                if method in ("GET", "HEAD"):
                    properties = cat.load_namespace_properties(namespace)
                    return self._send(200 if method == "GET" else 204,
                                      {"namespace": list(namespace), "properties": properties} if method == "GET" else None)
                if method == "DELETE":
                    cat.drop_namespace(namespace)
                    return self._send(204)
            if len(rest) == 3 and rest[2] == "tables":
                if method == "GET":
                    identifiers = [{"namespace": list(t[:-1]), "name": t[-1]} for t in cat.list_tables(namespace)]
                    return self._send(200, {"identifiers": identifiers})
                if method == "POST":
                    return self._create_table(namespace)
            if len(rest) == 4 and rest[2] == "tables":
                identifier = namespace + (rest[3],)
                if method == "GET":
                    return self._send(200, table_result(cat.load_table(identifier)))
                if method == "HEAD":
                    cat.load_table(identifier)
                    return self._send(204)
                if method == "POST":
                    return self._commit(identifier)
                if method == "DELETE":
                    cat.drop_table(identifier)
                    return self._send(204)
        raise RestError(404, "NotFoundException", f"no route {method} /{'/'.join(rest)}")

    def _create_table(self, namespace: tuple):
        body = self._json()
        # The REST spec makes these optional; pyiceberg's model wants them present (possibly null).
        for key in ("location", "partition-spec", "write-order"):
            body.setdefault(key, None)
        request = CreateTableRequest.model_validate(body)
        if request.stage_create:
            raise RestError(400, "BadRequestException", "stage-create is not supported by this test server")
        table = self.catalog.create_table(
            identifier=namespace + (request.name,),
            schema=request.table_schema,
            location=request.location,
            partition_spec=request.partition_spec or UNPARTITIONED_PARTITION_SPEC,
            sort_order=request.write_order or UNSORTED_SORT_ORDER,
            properties=request.properties,
        )
        return self._send(200, table_result(table))

    def _commit(self, identifier: tuple):
        body = self._json()
        requirements = tuple(REQUIREMENT.validate_python(r) for r in body.get("requirements") or [])
        updates = tuple(UPDATE.validate_python(u) for u in body.get("updates") or [])
        table = self.catalog.load_table(identifier)
        Handler.commit_requests += 1
        if self.conflict_every_commit and Handler.commit_requests % 2 == 1:
            concurrent = Handler.commit_requests // 2 + 1
            with table.transaction() as transaction:
                transaction.set_properties({"k2.test.concurrent-writer": str(concurrent)})
            raise RestError(409, "CommitFailedException", f"injected: concurrent writer {concurrent} committed first")
        response = self.catalog.commit_table(table, requirements, updates)
        Handler.commits_seen += 1
        if Handler.commits_seen in self.unknown_outcome_commits:
            raise RestError(503, "ServiceUnavailableException", "gateway timeout (injected after the commit was applied)")
        return self._send(200, {
            "metadata-location": response.metadata_location,
            "metadata": json.loads(response.metadata.model_dump_json()),
        })

    def _token(self):
        form = urllib.parse.parse_qs(self._body().decode())
        field = lambda name: (form.get(name) or [""])[0]  # noqa: E731
        if self.client is None:
            raise RestError(400, "BadRequestException", "this server issues no tokens")
        if field("grant_type") != "client_credentials" or (field("client_id"), field("client_secret")) != self.client:
            body = {"error": "invalid_client", "error_description": "unknown client or wrong secret"}
            return self._send(401, body)
        token = secrets.token_urlsafe(24)
        self.issued_tokens.add(token)
        return self._send(200, {"access_token": token, "token_type": "bearer", "expires_in": 3600,
                                "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"})

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_HEAD(self):
        self._handle("HEAD")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog-uri", required=True, help="SQLAlchemy URI of the SqlCatalog database")
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--catalog-name", default="k2")
    parser.add_argument("--prefix", default="", help="path prefix announced in /v1/config overrides")
    parser.add_argument("--base-path", default="", help="path the API is served under, e.g. /api/catalog")
    parser.add_argument("--property", action="append", default=[], help="extra catalog property key=value")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--conflict-every-commit", action="store_true",
                        help="test fault: another writer commits before every commit request's first try (409)")
    parser.add_argument("--unknown-outcome-commit", type=int, action="append", default=[],
                        help="test fault: apply commit number N (1-based), then answer 503")
    args = parser.parse_args()

    properties = {"uri": args.catalog_uri, "warehouse": args.warehouse}
    for item in args.property:
        key, _, value = item.partition("=")
        properties[key] = value
    Handler.catalog = SqlCatalog(args.catalog_name, **properties)
    Handler.prefix = args.prefix
    Handler.unknown_outcome_commits = set(args.unknown_outcome_commit)
    Handler.conflict_every_commit = args.conflict_every_commit
    Handler.base_path = [p for p in args.base_path.split("/") if p]
    Handler.required_token = os.environ.get("K2_REST_TEST_TOKEN") or None
    client = os.environ.get("K2_REST_TEST_CLIENT")
    if client:
        client_id, _, secret = client.partition(":")
        Handler.client = (client_id, secret)

    # One request at a time: SQLite behind pyiceberg is the point of truth, conflicts come from the
    # requirements pyiceberg checks, not from interleaving inside this server.
    server = HTTPServer(("127.0.0.1", args.port), Handler)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
