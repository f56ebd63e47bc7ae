#!/usr/bin/env bash
# End-to-end suite: @ory/client (pinned in package.json) against the real gatehouse process, on SQLite and, when
# GATEHOUSE_TEST_POSTGRES_DSN is set, a second time on PostgreSQL. Each run prints node's TAP summary
# (# pass N / # fail N), which ../../test.sh adds up.
set -euo pipefail
cd "$(dirname "$0")"

# `run.sh --prepare` only installs the npm packages and builds the server and the Elements apps' bundles (../../test.sh
# runs it beside the xunit tests); `run.sh` after it, with GATEHOUSE_E2E_PREPARED=1, skips those steps.
prepare_only=false
[ "${1:-}" = "--prepare" ] && prepare_only=true
artifacts=../../src/Gatehouse/bin/e2e
if [ "${GATEHOUSE_E2E_PREPARED:-}" != 1 ]; then
  if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi

  # The server under test: a Release build compiled ahead of time (ReadyToRun) for this machine. Each test file starts
  # its own short-lived server, and in a Debug build most of its CPU went to the JIT (four files: 36.6 s → 26.0 s wall,
  # 45 → 35 s CPU; a Release build without ReadyToRun saved nothing). lib/gatehouse.mjs takes the path from
  # GATEHOUSE_E2E_DLL; a file run on its own, without this script, uses the Debug build.
  # Its own artifacts folder keeps this restore (for one runtime) from touching the Debug build's obj/, which a later
  # `dotnet build` would otherwise compile again.
  dotnet publish ../../src/Gatehouse -c Release --use-current-runtime --self-contained false -p:PublishReadyToRun=true \
    --artifacts-path "$artifacts" -o "$artifacts/server" -v q -nologo

  # The Elements apps' bundles, built once here rather than by each Elements file (lib/bundle.mjs).
  node lib/bundle.mjs "$artifacts/bundles"
fi
if [ "$prepare_only" = true ]; then exit 0; fi
export GATEHOUSE_E2E_DLL="$(cd "$artifacts/server" && pwd)/gatehouse.dll"
export GATEHOUSE_E2E_BUNDLES="$(cd "$artifacts/bundles" && pwd)"

databases=(sqlite)
if [ -n "${GATEHOUSE_TEST_POSTGRES_DSN:-}" ]; then databases+=(postgres); fi

drop_template() { [ -n "${GATEHOUSE_E2E_TEMPLATE:-}" ] && node lib/template.mjs drop || true; }
trap drop_template EXIT

rc=0
for db in "${databases[@]}"; do
  echo "# e2e on ${db}"
  export GATEHOUSE_E2E_DB="$db"
  # One database made by `gatehouse migrate sql` and `gatehouse keys create`; each test file's server starts on a copy
  # of it (lib/gatehouse.mjs) instead of running both commands again.
  eval "$(node lib/template.mjs create)"
  # Two files at a time: one at a time left a third of the 2-core CI machine idle (servers starting, browsers and
  # SMTP round trips waiting); with two the cores stay busy and a run takes about a quarter less (SQLite 260 → 200 s,
  # PostgreSQL ~290 → 217 s here). Every file has its own server, ports, database and temporary folder.
  node --test --test-reporter=tap --test-concurrency=2 ./*.test.mjs || rc=$?
  drop_template
  unset GATEHOUSE_E2E_TEMPLATE GATEHOUSE_E2E_TEMPLATE_KEY
done
exit "$rc"
