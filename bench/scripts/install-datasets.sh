#!/usr/bin/env bash
# Installs the real data sets the `scale` benchmark verb reads, from Debian packages:
#   dataset-fashion-mnist -> /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
# Needs root (or sudo) and apt-get. Idempotent: does nothing when the files are already there.
set -euo pipefail

dir=/usr/share/datasets/fashion-mnist
files=(train-images-idx3-ubyte.gz t10k-images-idx3-ubyte.gz)

have_all() {
  for f in "${files[@]}"; do
    [[ -f "$dir/$f" ]] || return 1
  done
}

if have_all; then
  echo "install-datasets: Fashion-MNIST already in $dir"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-datasets: apt-get not found; install the Debian package dataset-fashion-mnist by other means" >&2
  exit 1
fi

sudo=""
if [[ "$(id -u)" != 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "install-datasets: not root and no sudo: cannot run apt-get install dataset-fashion-mnist" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q dataset-fashion-mnist

if ! have_all; then
  echo "install-datasets: dataset-fashion-mnist installed but $dir lacks ${files[*]} (see: dpkg -L dataset-fashion-mnist)" >&2
  exit 1
fi

echo "install-datasets: Fashion-MNIST installed in $dir"
