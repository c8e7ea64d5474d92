# shellcheck shell=bash
# bench/lib.sh — helpers shared by the bench/*.sh scripts (source it, don't run it).
#
#   bench_init                 cd to the repo root, set BENCH_TMP (removed on exit), traps
#   bench_on_exit CMD...       run CMD when the script exits (last registered runs first)
#   bench_machine              print nproc, CPU model, kernel, memory
#   bench_build                make -j2 (retried: other people edit src/ concurrently)
#   bench_demo DIR [CASES]     build the Hohhot demo city into DIR (empty or missing)
#   bench_ensure_pkgs PKG...   apt-get install the Debian packages that are missing
#   pg_start                   throw-away PostgreSQL 15 cluster on 127.0.0.1 in BENCH_TMP;
#                              sets PGHOST PGPORT PGUSER PGDATABASE (trust auth, user postgres)
#   pg_stop                    stop it (also done on exit)
#   bench_ratio A B            A / B with 2 decimals (awk)
#   bench_free_port            a free TCP port on loopback (25000-29999)
#   bench_cpu_ticks PID        CPU clock ticks (user+sys) used so far by PID, its reaped
#                              children and its live children (CLK_TCK a second)
#   bench_http_ok PORT PATH    1 request to 127.0.0.1:PORT, true on a 200
#   bench_http_get PORT PATH   the body of a GET to 127.0.0.1:PORT (fails unless 200)
#   bench_cpu_mark             the machine's CPU time so far (/proc/stat's "cpu" line)
#   bench_cpu_share MARK       the shares of CPU time since MARK: "busy B %, idle I %,
#                              iowait W %, steal S %" (steal: time the hypervisor gave to
#                              other guests — on a shared machine it moves every rate)
#
# The cluster runs as the unprivileged `postgres` user (the session may be root: initdb and
# postgres refuse to run as root). Clients connect over TCP on loopback as user postgres.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CITYOPS="${CITYOPS_BIN:-$BENCH_ROOT/bin/cityops}"

_bench_exit_cmds=()

bench_on_exit() { _bench_exit_cmds=("$*" "${_bench_exit_cmds[@]}"); }

_bench_cleanup() {
    local rc=$? c
    trap - EXIT INT TERM
    for c in "${_bench_exit_cmds[@]}"; do eval "$c" || true; done
    exit "$rc"
}

bench_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() { bench_log "error: $*"; exit 1; }

bench_init() {
    set -euo pipefail
    cd "$BENCH_ROOT"
    BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cityops-bench.XXXXXX")
    chmod 755 "$BENCH_TMP"
    trap _bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    bench_on_exit "rm -rf '$BENCH_TMP'"
}

bench_machine() {
    echo "machine: $(nproc) CPUs ($(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: *//')), kernel $(uname -r), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo)"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}

bench_build() {
    local i
    for i in 1 2 3 4 5 6; do
        if make -j2 >"$BENCH_TMP/make.log" 2>&1; then return 0; fi
        bench_log "build failed (try $i), retrying in 10 s; tail of the log:"
        tail -5 "$BENCH_TMP/make.log" >&2
        sleep 10
    done
    bench_die "make failed"
}

bench_demo() {
    local dir=$1 cases=${2:-0}
    bench_log "building the demo city in $dir (--cases $cases)"
    "$CITYOPS" demo --data "$dir" --no-serve --cases "$cases" >"$BENCH_TMP/demo.log" 2>&1 ||
        { cat "$BENCH_TMP/demo.log" >&2; bench_die "cityops demo failed"; }
}

_bench_apt_updated=0
bench_ensure_pkgs() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || bench_die "missing packages ${missing[*]} (install them as root)"
    bench_log "installing ${missing[*]}"
    if [ $_bench_apt_updated -eq 0 ]; then apt-get update -qq >&2; _bench_apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

_pg_as() {  # run a command as the cluster's owner
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

_port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

bench_free_port() {
    local port
    for port in $(shuf -i 25000-29999 -n 50); do _port_free "$port" && { echo "$port"; return 0; }; done
    bench_die "no free port"
}

bench_cpu_ticks() {
    local pid=$1 c
    {
        awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pid/stat"
        cat /proc/"$pid"/task/*/children 2>/dev/null | tr ' ' '\n' | while read -r c; do
            if [ -n "$c" ]; then awk '{ print $14 + $15 + $16 + $17 }' "/proc/$c/stat" 2>/dev/null || true; fi
        done
    } | awk '{ s += $1 } END { print s }'
}

bench_http_ok() {
    local port=$1 path=$2 line
    { exec 9<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&9
    read -r -t 5 line <&9 || line=""
    exec 9<&-
    [[ "$line" == "HTTP/1."?" 200"* ]]
}

bench_http_get() {
    local port=$1 path=$2 reply
    { exec 9<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&9
    reply=$(timeout 10 cat <&9)
    exec 9<&-
    [[ "$reply" == "HTTP/1."?" 200"* ]] || return 1
    printf '%s\n' "${reply#*$'\r\n\r\n'}"
}

# pg_start [extra postgresql.conf lines...]
pg_start() {
    bench_ensure_pkgs postgresql-15
    [ -x "$PG_BIN/initdb" ] || bench_die "no $PG_BIN/initdb"
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    PG_DIR="$BENCH_TMP/pg"
    mkdir -p "$PG_DIR"
    chown postgres "$PG_DIR"
    _pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$BENCH_TMP/initdb.log" 2>&1 || { cat "$BENCH_TMP/initdb.log" >&2; bench_die "initdb failed"; }
    local port line
    port=$(bench_free_port)
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $port"
        echo "unix_socket_directories = '$PG_DIR'"
        for line in "$@"; do echo "$line"; done
    } >>"$PG_DIR/data/postgresql.conf"
    bench_on_exit pg_stop
    _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start >/dev/null ||
        { cat "$PG_DIR/server.log" >&2; bench_die "PostgreSQL did not start"; }
    export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres
    bench_log "PostgreSQL $(psql -XAtc 'show server_version') up on 127.0.0.1:$port ($PG_DIR)"
}

pg_stop() {
    [ -n "${PG_DIR:-}" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
    _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
        _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
}

bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

bench_cpu_mark() { head -1 /proc/stat; }

bench_cpu_share() {
    printf '%s\n%s\n' "$1" "$(head -1 /proc/stat)" | awk '
        { t[NR] = 0; for (i = 2; i <= 9; i++) { v[NR, i] = $i; t[NR] += $i } }
        END {
            d = t[2] - t[1]; if (d <= 0) { print "unknown"; exit }
            idle = (v[2, 5] - v[1, 5]) / d * 100; io = (v[2, 6] - v[1, 6]) / d * 100
            st = (v[2, 9] - v[1, 9]) / d * 100
            printf "busy %.1f %%, idle %.1f %%, iowait %.1f %%, steal %.1f %%", 100 - idle - io - st, idle, io, st
        }'
}
