#!/usr/bin/env bash
# Runs CloudScale on this machine: installs what is missing (Redis, PostgreSQL) exactly as test.sh does, builds once,
# then starts the Aspire AppHost with its http launch profile (as F5 does): Redis, Postgres and its databases, each
# service with its Dapr sidecar, and the Aspire dashboard. It prints the dashboard's login URL, each resource's progress,
# then the resource table. Ctrl+C (or SIGTERM) stops everything.
# Usage: ./run.sh [AppHost arguments, e.g. --AppHost:EphemeralData=true]
set -euo pipefail
cd "$(dirname "$0")"
source scripts/prerequisites.sh
ensure_prerequisites
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build AppHost/AppHost.csproj -c Release -nologo -v quiet
exec dotnet run --project AppHost/AppHost.csproj -c Release --no-build --launch-profile http -- "$@"
