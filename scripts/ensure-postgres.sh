#!/usr/bin/env bash
# Make sure a PostgreSQL server listens on 127.0.0.1:5432 and a `casefile` role (password
# `casefile`, CREATEDB) exists for the test suite. Starts a stopped cluster; installs Debian's
# postgresql package on a machine that has none. Idempotent and quick when all is in place.
set -euo pipefail

ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1 || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  echo "ensure-postgres: installing PostgreSQL (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql postgresql-client >/dev/null
fi

if ! ready; then
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  echo "ensure-postgres: starting cluster $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || pg_ctlcluster "$version" main start
  for _ in $(seq 1 30); do ready && break; sleep 1; done
fi
ready || { echo "ensure-postgres: PostgreSQL is not accepting connections on 127.0.0.1:5432" >&2; exit 1; }

sql="DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'casefile') THEN
    CREATE ROLE casefile LOGIN PASSWORD 'casefile' CREATEDB;
  END IF;
END \$\$;"
if id postgres >/dev/null 2>&1 && runuser -u postgres -- psql -qAt -c "$sql" >/dev/null 2>&1; then
  :
else
  psql -qAt -h 127.0.0.1 -U postgres -c "$sql" >/dev/null
fi
echo "ensure-postgres: ready (role casefile on 127.0.0.1:5432)"
