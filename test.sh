#!/usr/bin/env bash
# Runs the whole test suite: unit and in-process integration tests (SQLite always, PostgreSQL too when
# GATEHOUSE_TEST_POSTGRES_DSN is set), then the end-to-end suite (tests/e2e: @ory/client against the real
# gatehouse process). Prints one closing line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"

dotnet_log=$(mktemp)
dotnet build Gatehouse.slnx -v q -nologo 2>&1 | tee "$dotnet_log"
dotnet_rc=${PIPESTATUS[0]}
# The end-to-end suite's preparation (its npm packages, the server's Release build, the Elements apps' bundles) runs
# beside the xunit tests, which leave part of the cores idle while they wait on PostgreSQL, child processes and browsers.
prep_log=$(mktemp)
prep_pid=
if [ -d tests/e2e ]; then
  tests/e2e/run.sh --prepare >"$prep_log" 2>&1 &
  prep_pid=$!
fi
if [ "$dotnet_rc" -eq 0 ]; then
  dotnet test Gatehouse.slnx --no-build 2>&1 | tee -a "$dotnet_log"
  dotnet_rc=${PIPESTATUS[0]}
fi
dn_passed=$(grep -E '^\s+succeeded:' "$dotnet_log" | awk '{s+=$2} END {print s+0}')
dn_failed=$(grep -E '^\s+failed:' "$dotnet_log" | awk '{s+=$2} END {print s+0}')
# The names of failed tests, repeated just above the closing line so that a log's tail says what failed.
# Each with the first lines of its message (up to the stack trace), so the log's tail also says why.
failures=$(awk '
  /^failed / { print "xunit: " $0; n = 6; next }
  n > 0 && /^[[:space:]]+[^[:space:]]/ && !/Stack Trace:|^[[:space:]]+at / { print "    " $0; n--; next }
  { n = 0 }' "$dotnet_log")
rm -f "$dotnet_log"

e2e_passed=0; e2e_failed=0; e2e_rc=0
if [ -d tests/e2e ]; then
  e2e_log=$(mktemp)
  prep_rc=0
  wait "$prep_pid" || prep_rc=$?
  cat "$prep_log"
  if [ "$prep_rc" -eq 0 ]; then
    GATEHOUSE_E2E_PREPARED=1 tests/e2e/run.sh 2>&1 | tee "$e2e_log"
    e2e_rc=${PIPESTATUS[0]}
  else
    echo "the end-to-end suite's preparation (tests/e2e/run.sh --prepare) failed with exit code ${prep_rc}" | tee "$e2e_log"
    e2e_rc=$prep_rc
  fi
  e2e_passed=$(grep -E '^# pass ' "$e2e_log" | awk '{s+=$3} END {print s+0}')
  e2e_failed=$(grep -E '^# fail ' "$e2e_log" | awk '{s+=$3} END {print s+0}')
  e2e_failures=$(awk '/^# e2e on /{db=$4} /^[[:space:]]*not ok /{sub(/^[[:space:]]*/, ""); print "e2e (" db "): " $0}' "$e2e_log")
  [ -n "$e2e_failures" ] && failures=$(printf '%s\n%s' "$failures" "$e2e_failures")
  rm -f "$e2e_log"
fi
rm -f "$prep_log"

if [ -n "$(echo "$failures" | tr -d '[:space:]')" ]; then
  echo "Failed tests:"
  echo "$failures" | sed '/^$/d' | head -200
fi
passed=$((dn_passed + e2e_passed))
failed=$((dn_failed + e2e_failed))
if [ "$dotnet_rc" -ne 0 ] || [ "$e2e_rc" -ne 0 ]; then
  [ "$failed" -eq 0 ] && failed=1
fi
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
