#!/usr/bin/env bash
# Installs what luakcl needs to build, test and run its demo on Debian 12, as
# root. Idempotent: a second run only checks, and takes a second or two.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

APT_PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libluajit2-5.1-dev luajit2 libcurl4-openssl-dev libssl-dev libev-dev
  libjsmn-dev libprotobuf-c-dev
  lua-cjson lua-busted luarocks
  nodejs npm iproute2 util-linux openssl curl
)
# Measured against in bench/ only (the JSON library comparison).
APT_BENCH_PACKAGES=(libyajl-dev libjansson-dev libjson-c-dev libcjson-dev)

missing=()
for p in "${APT_PACKAGES[@]}" "${APT_BENCH_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  # nodejs/npm may come from elsewhere (a machine image); skip them if node works.
  if command -v node >/dev/null && command -v npm >/dev/null; then
    filtered=()
    for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
    missing=("${filtered[@]+"${filtered[@]}"}")
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then echo "setup: run as root to install packages" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The test harness's npm packages, pinned by tests/harness/package-lock.json.
stamp="$here/tests/harness/node_modules/.luakcl-lock-stamp"
if [ ! -f "$stamp" ] || ! cmp -s "$here/tests/harness/package-lock.json" "$stamp"; then
  echo "setup: installing the test harness's npm packages (kinesalite, dynalite, kinesis-local, AWS SDK)"
  (cd "$here/tests/harness" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$here/tests/harness/package-lock.json" "$stamp"
fi
