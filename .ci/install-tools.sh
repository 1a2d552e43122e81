#!/usr/bin/env bash
# Installs the tools CI needs besides the .NET SDK, each only when it is missing:
#   promtool (Debian's `prometheus` package) checks docs/monitoring/alerts.yml and the server's /metrics scrape;
#   etcd and etcdctl (Debian's `etcd-server` and `etcd-client`, 3.4) are the failover coordinator the cluster tests start.
set -euo pipefail

# What is missing is installed in one `apt-get update` and one `apt-get install` (each costs tens of seconds on a
# fresh machine); nothing runs when nothing is missing.
packages=()
if ! command -v promtool >/dev/null 2>&1; then
  echo "install-tools: installing promtool (Debian package prometheus)"
  packages+=(prometheus)
fi
etcd_missing=0
if ! command -v etcd >/dev/null 2>&1 || ! command -v etcdctl >/dev/null 2>&1; then
  echo "install-tools: installing etcd (Debian packages etcd-server, etcd-client)"
  packages+=(etcd-server etcd-client)
  etcd_missing=1
fi
if [ ${#packages[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
if [ $etcd_missing -eq 1 ]; then
  # The package's service is not wanted: tests start their own members on free loopback ports.
  (systemctl disable --now etcd >/dev/null 2>&1 || service etcd stop >/dev/null 2>&1 || true)
fi
# sed reads the whole output: `head -n 1` could exit first and, under pipefail, fail the script with SIGPIPE (141).
promtool --version 2>&1 | sed -n 1p
etcd --version 2>&1 | sed -n 1p
