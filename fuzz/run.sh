#!/usr/bin/env bash
# run.sh [--fresh] BUILD SECONDS TARGET... — runs each libFuzzer target for
# SECONDS. Seeds come from fuzz/corpus/<target>/ (never written to); what the
# fuzzer finds goes to BUILD/corpus/<target>/ (with --fresh, the smoke run of
# `make check`: to an emptied BUILD/smoke/<target>/, so that the time spent
# replaying a grown corpus does not add up), crashes, leaks and timeouts to
# BUILD/crashes/<target>/, the log to BUILD/logs/<target>.log. Prints one
# summary line per target and exits non-zero when any target failed (every
# target still runs). Reproduce a crash with: BUILD/<target> FILE
set -uo pipefail
cd "$(dirname "$0")/.."
fresh=0
if [ "${1:-}" = --fresh ]; then
  fresh=1
  shift
fi
build=$1
secs=$2
shift 2
mkdir -p "$build/logs"
failed=()
printf '%-18s %8s %10s %8s %8s %7s %s\n' target seconds execs exec/s cov ft corpus
for t in "$@"; do
  work="$build/corpus/$t"
  if [ "$fresh" -eq 1 ]; then
    work="$build/smoke/$t"
    rm -rf "$work"
  fi
  mkdir -p "$work" "$build/crashes/$t" "fuzz/corpus/$t"
  args=(-max_total_time="$secs" -timeout=25 -rss_limit_mb=4096 -max_len=65536
        -print_final_stats=1 -artifact_prefix="$build/crashes/$t/")
  [ -f "fuzz/dict/$t.dict" ] && args+=(-dict="fuzz/dict/$t.dict")
  log="$build/logs/$t.log"
  "$build/$t" "${args[@]}" "$work" "fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corpus=$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")
  printf '%-18s %8s %10s %8s %8s %7s %s\n' "$t" "$secs" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "${corpus:-?}"
  if [ "$rc" -ne 0 ]; then
    failed+=("$t")
    echo "FAIL $t (exit $rc): see $log and $build/crashes/$t/" >&2
    grep -E 'ERROR: |runtime error|fuzz finding|SUMMARY' "$log" | head -5 >&2
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
