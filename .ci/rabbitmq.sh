#!/usr/bin/env bash
# RabbitMQ for the integration tests and the lag collector: the server on
# 127.0.0.1:5672 and its management HTTP API (where queue depths, unacknowledged counts
# and consumer counts come from) on 127.0.0.1:15672.  Idempotent and needs no input.
#
# Besides enabling the management plugin it keeps both listeners on loopback
# (listeners.tcp.local, management.tcp.ip in rabbitmq.conf) and restarts the server
# when it had to change its configuration.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
CONF=/etc/rabbitmq/rabbitmq.conf

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

missing=()
command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ] \
    || missing+=(rabbitmq-server)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ "${#missing[@]}" -gt 0 ]; then
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

changed=""
$SUDO touch "$CONF"
if ! grep -q '^listeners.tcp' "$CONF"; then
    echo "listeners.tcp.local = 127.0.0.1:5672" | $SUDO tee -a "$CONF" >/dev/null
    changed=1
fi
if ! grep -q '^management.tcp.ip' "$CONF"; then
    echo "management.tcp.ip = 127.0.0.1" | $SUDO tee -a "$CONF" >/dev/null
    changed=1
fi

# The plugin list is a file the server reads at boot; offline enabling only edits it.
if ! grep -q rabbitmq_management /etc/rabbitmq/enabled_plugins 2>/dev/null; then
    $SUDO rabbitmq-plugins enable --offline rabbitmq_management >/dev/null
    changed=1
fi

if listening 5672 && [ -n "$changed" ]; then
    echo "rabbitmq.sh: restarting RabbitMQ to apply $CONF and the management plugin"
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ] \
        && systemctl is-active --quiet rabbitmq-server; then
        $SUDO systemctl restart rabbitmq-server
    else
        $SUDO rabbitmqctl stop >/dev/null
        deadline=$((SECONDS + 60))
        while listening 5672; do
            [ "$SECONDS" -lt "$deadline" ] || { echo "rabbitmq.sh: RabbitMQ did not stop" >&2; exit 1; }
            sleep 0.5
        done
    fi
fi
if ! listening 5672; then
    # -detached returns before the node is up (and may print a premature "not running").
    $SUDO rabbitmq-server -detached 2>/dev/null || true
    deadline=$((SECONDS + 120))
    until listening 5672; do
        [ "$SECONDS" -lt "$deadline" ] || { echo "rabbitmq.sh: RabbitMQ did not start" >&2; exit 1; }
        sleep 0.5
    done
fi
$SUDO rabbitmqctl await_startup --timeout 120 >/dev/null

deadline=$((SECONDS + 120))
until curl -fsS -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "rabbitmq.sh: the management API is not answering on 127.0.0.1:15672" >&2
        exit 1
    fi
    sleep 0.5
done
echo "rabbitmq.sh: RabbitMQ on 127.0.0.1:5672, management API on 127.0.0.1:15672"
