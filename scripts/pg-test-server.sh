#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for tests, on 127.0.0.1 and a free port, with password authentication.
#
#   scripts/pg-test-server.sh start DIR   -> initdb's DIR/data, starts the server, prints "PORT USER PASSWORD"
#   scripts/pg-test-server.sh stop DIR    -> stops it (the caller removes DIR)
#
# Uses the Debian postgresql binaries (/usr/lib/postgresql/<version>/bin). PostgreSQL refuses to run as
# root, so when started as root the cluster belongs to, and runs as, the `postgres` user.
set -euo pipefail

action=${1:?usage: pg-test-server.sh start|stop DIR}
dir=$(realpath -m "${2:?usage: pg-test-server.sh start|stop DIR}")

bindir=${PG_BINDIR:-}
if [[ -z "$bindir" ]]; then
  for candidate in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    if [[ -x "$candidate/initdb" ]]; then bindir=$candidate; break; fi
  done
fi
[[ -x "$bindir/initdb" ]] || { echo "pg-test-server: no PostgreSQL binaries (apt-get install postgresql)" >&2; exit 2; }

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    mkdir -p "$dir"
    # The postgres user may not be able to enter the caller's working directory (a private mktemp -d clone):
    # work from $dir, which it owns, so no tool run as postgres complains on stderr.
    cd "$dir"
    if [[ $(id -u) -eq 0 ]]; then
      chown postgres: "$dir"
      as_owner test -w "$dir" || { echo "pg-test-server: user postgres cannot reach $dir (a parent directory is private)" >&2; exit 1; }
    fi
    user=k2test
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    printf '%s\n' "$password" > "$dir/pwfile"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$dir/pwfile"
    as_owner "$bindir/initdb" -D "$dir/data" -U "$user" --pwfile="$dir/pwfile" --auth=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$dir/pwfile"
    # A free port: the kernel's pick for port 0; retried if another process takes it first.
    python=/usr/bin/python3; [[ -x $python ]] || python=python3
    for attempt in 1 2 3 4 5; do
      port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
      if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
          -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=50" start >/dev/null; then
        echo "$port" > "$dir/port"
        echo "$port $user $password"
        exit 0
      fi
    done
    cat "$dir/server.log" >&2
    exit 1
    ;;
  stop)
    cd /
    if [[ -f "$dir/data/postmaster.pid" ]]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    ;;
  *)
    echo "usage: pg-test-server.sh start|stop DIR" >&2
    exit 2
    ;;
esac
