#!/usr/bin/env bash
# PostgreSQL on 127.0.0.1:5432 with trust authentication for the user postgres, which
# the registry's storage tests use (each creates and drops a database of its own).
# Idempotent: a server already answering is left exactly as it is; otherwise Debian's
# postgresql is installed if missing, its cluster told to trust loopback connections,
# and started.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

listening() { (exec 3<>"/dev/tcp/127.0.0.1/5432") 2>/dev/null; }

if listening; then
    exit 0
fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends postgresql
fi
version=$(ls /etc/postgresql | sort -V | tail -n 1)
hba="/etc/postgresql/$version/main/pg_hba.conf"
if ! $SUDO grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    # first match wins in pg_hba.conf: the trust line goes on top
    $SUDO sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
fi
$SUDO pg_ctlcluster "$version" main start || true
deadline=$((SECONDS + 30))
until listening; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "postgres.sh: PostgreSQL is not listening on 127.0.0.1:5432 after 30 s" >&2
        exit 1
    fi
    sleep 0.2
done
