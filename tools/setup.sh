#!/usr/bin/env bash
# Installs what is missing for building, testing and running semcache on Debian:
# Debian packages (as root, or through sudo) and the npm packages in package-lock.json.
# Idempotent and quiet when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_needed=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || apt_needed+=("$2"); }
need_pkg() { dpkg -s "$1" >/dev/null 2>&1 || apt_needed+=("$1"); }
need_cmd cmake cmake
need_cmd g++ g++
need_cmd make make
need_cmd emcc emscripten
need_pkg libgtest-dev
need_cmd chromium chromium

if ((${#apt_needed[@]})); then
  echo "setup: installing Debian packages: ${apt_needed[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${apt_needed[@]}" >/dev/null
fi

# npm: install when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-fund --no-audit --loglevel=error
fi
