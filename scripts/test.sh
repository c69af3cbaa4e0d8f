#!/usr/bin/env bash
# The whole test suite, as CI runs it: PostgreSQL, a Redis broker for the real-worker tests,
# Debian's Chromium for the browser tests. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
bash scripts/services.sh

export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tessera}"
export CELERY_BROKER_URL="${TEST_CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}"
export TESSERA_TESTING=1
export DO_NOT_TRACK=1
mkdir -p test-artifacts
exec .venv/bin/python -m pytest -q -p no:cacheprovider --durations=15 "$@"
