#!/usr/bin/env bash
# Installs the tools CI needs besides the .NET SDK, each only when it is missing:
#   promtool (Debian's `prometheus` package) checks docs/monitoring/alerts.yml and the server's /metrics scrape.
set -euo pipefail

if ! command -v promtool >/dev/null 2>&1; then
  echo "install-tools: installing promtool (Debian package prometheus)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
promtool --version | head -n 1
