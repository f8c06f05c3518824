#!/usr/bin/env bash
# Fuzzes the parsers for a bounded time: builds the fuzz targets (tests/fuzz/) and the libraries they
# need in build-fuzz/ (clang, LOCUS_FUZZ=ON: libFuzzer, every library under AddressSanitizer and
# UndefinedBehaviorSanitizer; the build scripts/sanitize.sh runs the envs tests in, see
# scripts/asan_build.sh), and runs each target for LOCUS_FUZZ_SECONDS seconds (default 20), as many
# at once as there are cores, starting from its seed corpus (tests/fuzz/corpus/<target>/). Fails if
# any target crashes, hangs, leaks, runs out of memory or lets an unexpected exception escape; the
# input that did it is saved under build-fuzz/crashes/ and its log under build-fuzz/logs/.
#
#   bash scripts/fuzz.sh                        # every target, 20 s each
#   LOCUS_FUZZ_SECONDS=300 bash scripts/fuzz.sh idx checkpoint   # longer, chosen targets
#   scripts/test.sh runs every target for 10 s.
#
# LOCUS_SKIP_FUZZ=1 skips it (for quick local runs; CI runs it). LOCUS_FUZZ_SEED (default 1) seeds
# libFuzzer, so that a run explores the same inputs again (up to its time limit).
# Replay a crash: build-fuzz/bin/locus_fuzz_<target> build-fuzz/crashes/<target>-crash-...
# Without clang++ (or with CXX set to another compiler) the targets link
# tests/fuzz/standalone_driver.cpp instead: a seeded random-input driver without coverage feedback.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_TARGET=${LOCUS_FUZZ_SECONDS:-20}
TARGETS=(config_yaml run_config_json run_config_yaml sweep_yaml idx checkpoint agent_checkpoint space_actions)
if (($# > 0)); then TARGETS=("$@"); fi
log() { printf '\033[1m[locus fuzz]\033[0m %s\n' "$*"; }
if [[ "${LOCUS_SKIP_FUZZ:-0}" == "1" ]]; then
  log "skipped (LOCUS_SKIP_FUZZ=1)"
  exit 0
fi

# shellcheck source=scripts/asan_build.sh
source "$ROOT/scripts/asan_build.sh"
configure_asan_build
log "building ${TARGETS[*]} in $ASAN_BUILD"
# Only the targets asked for, and the libraries they need.
cmake --build "$ASAN_BUILD" -j"$(nproc)" --target "${TARGETS[@]/#/locus_fuzz_}"

mkdir -p "$ASAN_BUILD/corpus" "$ASAN_BUILD/crashes" "$ASAN_BUILD/logs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

fuzz_one() {  # target
  local target=$1
  local binary=$ASAN_BUILD/bin/locus_fuzz_$target
  # New inputs go to the build's copy of the corpus; the committed seeds are read only.
  mkdir -p "$ASAN_BUILD/corpus/$target"
  "$binary" "$ASAN_BUILD/corpus/$target" "$ROOT/tests/fuzz/corpus/$target" \
    -max_total_time="$SECONDS_PER_TARGET" -seed="${LOCUS_FUZZ_SEED:-1}" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -artifact_prefix="$ASAN_BUILD/crashes/$target-" -print_final_stats=1 >"$ASAN_BUILD/logs/$target.log" 2>&1
}

log "running ${#TARGETS[@]} targets, ${SECONDS_PER_TARGET} s each, $(nproc) at a time"
declare -A pids=()
failed=()
finish() {  # pid status
  local target=${pids[$1]}
  unset "pids[$1]"
  if (($2 == 0)); then
    log "$target: clean ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' \
      "$ASAN_BUILD/logs/$target.log" | grep -o '[0-9]*$' || echo '?') inputs)"
  else
    log "$target: FAILED; the end of $ASAN_BUILD/logs/$target.log:"
    tail -n 40 "$ASAN_BUILD/logs/$target.log" >&2
    failed+=("$target")
  fi
}
for target in "${TARGETS[@]}"; do
  if [[ ! -x $ASAN_BUILD/bin/locus_fuzz_$target ]]; then
    log "unknown target '$target' (targets: tests/fuzz/fuzz_*.cpp)"
    exit 2
  fi
  while ((${#pids[@]} >= $(nproc))); do
    status=0
    wait -n -p done_pid || status=$?
    finish "$done_pid" "$status"
  done
  fuzz_one "$target" &
  pids[$!]=$target
done
for pid in "${!pids[@]}"; do
  status=0
  wait "$pid" || status=$?
  finish "$pid" "$status"
done

if ((${#failed[@]} > 0)); then
  log "failed: ${failed[*]} (inputs under $ASAN_BUILD/crashes/)"
  exit 1
fi
log "all clean"
