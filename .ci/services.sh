#!/usr/bin/env bash
# The services the integration tests talk to: RabbitMQ (127.0.0.1:5672, with the
# management API on :15672), NATS with JetStream (127.0.0.1:4222), Redis
# (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432, see .ci/postgres.sh).  Idempotent and
# needs no input: installs a missing server from Debian, starts whichever is down, and
# returns once every one answers.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A NATS server greets every connection with an INFO line that says whether JetStream is on.
nats_has_jetstream() {
    local greeting
    greeting=$(timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/4222; head -n 1 <&3' 2>/dev/null || true)
    [[ "$greeting" == *'"jetstream":true'* ]]
}

systemd_unit_active() {
    command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ] \
        && systemctl is-active --quiet "$1"
}

wait_for() {  # wait_for NAME PORT SECONDS
    local deadline=$((SECONDS + $3))
    until listening "$2"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "services.sh: $1 is not listening on 127.0.0.1:$2 after $3 s" >&2
            exit 1
        fi
        sleep 0.2
    done
}

missing=()
command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ "${#missing[@]}" -gt 0 ]; then
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# Debian's nats-server unit runs without JetStream; the tests and the demo need it.
if listening 4222 && ! nats_has_jetstream; then
    if systemd_unit_active nats-server; then
        $SUDO systemctl stop nats-server
        $SUDO systemctl disable nats-server >/dev/null 2>&1 || true
    else
        echo "services.sh: a NATS server without JetStream holds 127.0.0.1:4222; stop it" >&2
        exit 1
    fi
    while listening 4222; do sleep 0.2; done
fi

if ! listening 6379; then
    $SUDO redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi

if ! listening 4222; then
    $SUDO mkdir -p /var/lib/nats-server
    $SUDO start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
        -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
fi

wait_for redis 6379 30
wait_for nats 4222 30
if ! nats_has_jetstream; then
    echo "services.sh: the NATS server on 127.0.0.1:4222 has JetStream disabled" >&2
    exit 1
fi

# RabbitMQ: started, management API enabled and answering.
bash .ci/rabbitmq.sh
# PostgreSQL for the registry's storage tests.
bash .ci/postgres.sh

echo "services.sh: rabbitmq :5672 (management :15672), nats :4222, redis :6379," \
    "postgresql :5432 are up"
