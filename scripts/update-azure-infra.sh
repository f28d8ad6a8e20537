#!/usr/bin/env bash
# Regenerates infra/dapr.json (Container Apps' Dapr components) from components/, the one source of both.
set -euo pipefail
cd "$(dirname "$0")/.."
CLOUDSCALE_UPDATE_INFRA=1 dotnet test tests/EndToEnd.Tests/EndToEnd.Tests.csproj -c Release \
  --filter "FullyQualifiedName~AzureInfraTests.Infra_dapr_json_is_generated_from_components"
git --no-pager diff --stat -- infra/dapr.json
