#!/usr/bin/env bash
# The one command that runs every CloudScale test on a fresh Debian machine with the .NET 10 SDK:
# installs what is missing (Redis, PostgreSQL), restores, builds, runs all test projects, and exits
# non-zero on any failure. Usage: ./test.sh [extra dotnet test arguments, e.g. --filter ...]
set -euo pipefail
cd "$(dirname "$0")"
source scripts/prerequisites.sh
ensure_prerequisites

results=artifacts/test-results
rm -rf "$results"
export CLOUDSCALE_TEST_SERVER_LOGS="$PWD/$results/server-logs"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet restore CloudScale.sln
dotnet build CloudScale.sln -c Release --no-restore
status=0
# One test project at a time: they start real servers and processes, and this machine has two cores.
dotnet test CloudScale.sln -c Release --no-build -m:1 \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" "$@" || status=$?

if [ "$status" -ne 0 ]; then
  for log in "$CLOUDSCALE_TEST_SERVER_LOGS"/*.log; do
    [ -f "$log" ] || continue
    echo "----- last lines of $(basename "$log") -----"
    tail -n 20 "$log"
  done
fi

# The closing lines CI reads (after the server logs, so a truncated tail still shows them): every
# failed test with the start of its message, then totals over every project's TRX report.
python3 scripts/trx-summary.py "$results"
exit "$status"
