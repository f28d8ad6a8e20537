# Sourced by test.sh and run.sh: makes sure the machine has what CloudScale runs on, installing through
# apt-get (as root, or with sudo) what is missing, or stopping with the exact command to run.

ensure_prerequisites() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "error: the .NET 10 SDK is not installed (https://dot.net/download); 'dotnet' must be on PATH." >&2
    return 1
  fi

  local missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v redis-benchmark >/dev/null 2>&1 || missing+=(redis-tools)
  compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
  # btree_gist (for the reservations' exclusion constraint) ships in postgresql-contrib.
  compgen -G "/usr/share/postgresql/*/extension/btree_gist.control" >/dev/null || missing+=(postgresql-contrib)
  # The native AOT build of the sidecar links with clang (platform/Sidecar/Sidecar.csproj).
  command -v clang >/dev/null 2>&1 || missing+=(clang)
  # The dashboard's browser test drives Debian's Chromium (never a downloaded browser).
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  # test.sh summarises the TRX reports with scripts/trx-summary.py.
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  [ ${#missing[@]} -eq 0 ] && return 0

  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo)
    else
      echo "error: missing ${missing[*]}. Install with: sudo apt-get install -y ${missing[*]}" >&2
      return 1
    fi
  fi

  echo "Installing ${missing[*]} ..."
  "${sudo[@]}" apt-get update -qq
  # Debian's postgresql package tries to start a system cluster; tests and the AppHost run their own servers.
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
