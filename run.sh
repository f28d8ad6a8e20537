#!/usr/bin/env bash
# Runs CloudScale on this machine: installs what is missing (Redis, PostgreSQL) exactly as test.sh does,
# builds once, then starts the AppHost, which brings up Redis, Postgres and its databases, and each
# service with its Dapr sidecar, and prints their URLs. Ctrl+C stops everything.
# Usage: ./run.sh [AppHost arguments, e.g. --AppHost:EphemeralData=true]
set -euo pipefail
cd "$(dirname "$0")"
source scripts/prerequisites.sh
ensure_prerequisites
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build AppHost/AppHost.csproj -c Release -nologo -v quiet
exec dotnet AppHost/bin/Release/net10.0/CloudScale.AppHost.dll "$@"
