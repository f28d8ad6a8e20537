#!/usr/bin/env bash
# reaper.sh OWNER_PID ROOT_DIR
# Started beside every test process that owns throwaway servers.
# When the owner exits for any reason (including kill -9), it kills every process named by a *.pid file
# under ROOT_DIR and removes ROOT_DIR, so a killed owner leaves no process and no temporary directory behind.
set -u
# The owner's PATH may be anything; what this script runs lives here.
PATH=/usr/bin:/bin:$PATH
owner=$1
root=$2
trap '' HUP INT TERM
while kill -0 "$owner" 2>/dev/null; do
  sleep 0.5
done
for pidfile in "$root"/*.pid; do
  [ -f "$pidfile" ] && kill -KILL "$(cat "$pidfile")" 2>/dev/null
done
rm -rf "$root"
