#!/usr/bin/env bash
# Measures ./run.sh as a developer meets it: the time until every resource is healthy (as the AppHost's own table reports
# it), the memory (PSS) of what Aspire adds (AppHost, DCP, dashboard) once all are up, and how long SIGTERM takes to leave
# no process behind. Runs the AppHost --runs times on throwaway data; prints each run and writes them as JSON.
# Usage: benchmarks/AppHost/measure.sh [--runs N] [--output file.json]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=3 output=artifacts/benchmarks/apphost.json
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --output) output="$2"; shift 2 ;;
    *) echo "unknown argument: $1 (expected --runs N or --output file)" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive integer, got '$runs'" >&2; exit 2; }

source scripts/prerequisites.sh
ensure_prerequisites
dotnet build AppHost/AppHost.csproj -c Release -nologo -v quiet >/dev/null

# What Aspire runs beside the resources, by command line.
aspire_parts='CloudScale.AppHost|Aspire.Dashboard|aspire.hosting.orchestration'
# Everything a run starts, the resources included.
every_part="$aspire_parts|services/.*\.csproj|AppHost/.cloudscale|--resources-path $PWD/components"

pss_mb() { # sums the proportional set size of the processes matching $1, in MB
  local total=0 pid kb
  for pid in $(pgrep -f "$1"); do
    kb=$(awk '/^Pss:/{print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo $((total / 1024))
}

mkdir -p "$(dirname "$output")"
log=$(mktemp)
results=()
for run in $(seq 1 "$runs"); do
  if pgrep -f "$every_part" >/dev/null; then
    echo "A CloudScale AppHost is already running; stop it first." >&2; exit 1
  fi
  setsid dotnet run --project AppHost/AppHost.csproj -c Release --no-build --launch-profile http -- --AppHost:EphemeralData=true >"$log" 2>&1 &
  apphost=$!
  deadline=$((SECONDS + 300))
  until grep -q "resources running and healthy after" "$log"; do
    if ! kill -0 "$apphost" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "run $run: the AppHost did not report every resource healthy; its output:" >&2; tail -n 40 "$log" >&2; exit 1
    fi
    sleep 0.5
  done
  healthy_s=$(sed -n 's/^All [0-9]* resources running and healthy after \([0-9.]*\) s\./\1/p' "$log")
  apphost_mb=$(pss_mb 'CloudScale.AppHost'); dashboard_mb=$(pss_mb 'Aspire.Dashboard'); dcp_mb=$(pss_mb 'aspire.hosting.orchestration')
  load=$(cut -d' ' -f1 /proc/loadavg)
  stop_started=$(date +%s%3N)
  kill -TERM "$apphost"
  while pgrep -f "$every_part" >/dev/null; do
    if [ $(($(date +%s%3N) - stop_started)) -gt 60000 ]; then
      echo "run $run: processes left 60 s after SIGTERM:" >&2; pgrep -af "$every_part" >&2; exit 1
    fi
    sleep 0.2
  done
  stop_ms=$(($(date +%s%3N) - stop_started))
  stop_s=$((stop_ms / 1000)).$(((stop_ms % 1000) / 100))
  printf 'run %d: healthy after %s s; AppHost %s MB, dashboard %s MB, DCP %s MB (PSS); all stopped %s s after SIGTERM; load %s\n' \
    "$run" "$healthy_s" "$apphost_mb" "$dashboard_mb" "$dcp_mb" "$stop_s" "$load"
  results+=("$(printf '{"run":%d,"healthySeconds":%s,"appHostMb":%s,"dashboardMb":%s,"dcpMb":%s,"stopSeconds":%s,"loadAverage":%s}' \
    "$run" "$healthy_s" "$apphost_mb" "$dashboard_mb" "$dcp_mb" "$stop_s" "$load")")
done
rm -f "$log"
(IFS=,; printf '{"machine":"%s cores","runs":[%s]}\n' "$(nproc)" "${results[*]}") >"$output"
echo "written to $output"
