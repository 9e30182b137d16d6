#!/usr/bin/env bash
# Installs promtool and the prometheus binary (Debian's `prometheus` package) for the
# alert-rule and fidelity tests.  Idempotent: does nothing when promtool is already there.
# The tests start their own Prometheus on a free loopback port, so the packaged service
# (which Debian starts on :9090) is stopped and disabled: nothing stays listening.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
    # Keep the package's postinst from starting the daemon where policy-rc.d is honoured.
    policy=/usr/sbin/policy-rc.d
    added_policy=""
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
        $SUDO chmod +x "$policy"
        added_policy=1
    fi
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends prometheus
    if [ -n "$added_policy" ]; then
        $SUDO rm -f "$policy"
    fi
fi

# Whatever started it (systemd, sysvinit, an earlier install), no packaged server stays up.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi
if [ -x /etc/init.d/prometheus ]; then
    $SUDO /etc/init.d/prometheus stop >/dev/null 2>&1 || true
fi
if [ -f /etc/default/prometheus ] && command -v update-rc.d >/dev/null 2>&1; then
    $SUDO update-rc.d prometheus disable >/dev/null 2>&1 || true
fi
if command -v pgrep >/dev/null 2>&1; then
    for pid in $(pgrep -x prometheus || true); do
        # Only the packaged daemon (it reads /etc/prometheus), never a test's own server.
        if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- '/etc/prometheus\|^/usr/bin/prometheus *$'; then
            $SUDO kill "$pid" || true
        fi
    done
fi

promtool --version | head -n 1
