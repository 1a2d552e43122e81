#!/usr/bin/env bash
# Installs wrk (the HTTP load generator the `server` benchmark verb runs beside its own C# driver) from Debian's
# package `wrk`. Needs root (or sudo) and apt-get. Idempotent: does nothing when wrk is already on the PATH.
set -euo pipefail

if command -v wrk >/dev/null 2>&1; then
  echo "install-wrk: wrk already installed ($(command -v wrk))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-wrk: apt-get not found; install wrk by other means (the server verb skips its wrk cell without it)" >&2
  exit 1
fi

sudo=""
if [[ "$(id -u)" != 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "install-wrk: not root and no sudo: cannot run apt-get install wrk" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q wrk

if ! command -v wrk >/dev/null 2>&1; then
  echo "install-wrk: apt-get finished but wrk is not on the PATH" >&2
  exit 1
fi
echo "install-wrk: installed $(command -v wrk)"
