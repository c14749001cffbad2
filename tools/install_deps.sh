#!/usr/bin/env bash
# Install dpipe's build and test dependencies from Debian 12 packages (one list for the README,
# the Makefile and CI). Optional parts are detected at configure time; this installs them all.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config git clang clang-format libclang-rt-14-dev \
  libzstd-dev libsnappy-dev liblz4-dev libbrotli-dev zlib1g-dev \
  libopenblas-dev liblapacke-dev libigraph-dev libpng-dev \
  libopenmpi-dev openmpi-bin \
  python3-numpy python3-scipy python3-pandas chromium >/dev/null
