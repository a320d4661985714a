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
need_pkg googletest  # its sources: the C++ tests are also built to wasm (build/wasm)
need_cmd chromium chromium
need_cmd python3 python3  # node-gyp (gyp is Python) compiles better-sqlite3 below

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

# better-sqlite3 (the Node file store): its install script would fetch a prebuilt binary from
# outside the npm registry, so package.json denies it (allowScripts) and it is compiled here from
# its bundled SQLite with npm's node-gyp against this Node's own headers (no download).
addon=node_modules/better-sqlite3/build/Release/better_sqlite3.node
if [ -d node_modules/better-sqlite3 ] && [ ! -f "$addon" ]; then
  echo "setup: compiling better-sqlite3 (node-gyp, about 1-2 minutes)"
  node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  if [ ! -f "$gyp" ]; then gyp="$(command -v node-gyp || true)"; fi
  if [ -z "$gyp" ] || [ ! -f "$node_prefix/include/node/node.h" ]; then
    echo "setup: cannot compile better-sqlite3: need npm's node-gyp and Node headers in $node_prefix/include/node" >&2
    exit 1
  fi
  gyplog=node_modules/better-sqlite3/semcache-build.log
  if ! (cd node_modules/better-sqlite3 && node "$gyp" rebuild --release --nodedir="$node_prefix" -j 2 --loglevel=error) >"$gyplog" 2>&1 || [ ! -f "$addon" ]; then
    cat "$gyplog" >&2
    echo "setup: better-sqlite3 did not build" >&2
    exit 1
  fi
fi
